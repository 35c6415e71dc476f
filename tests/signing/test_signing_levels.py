"""PAdES levels end to end: the leader certifies and signs, the organisation signs after it,
against the local TSA/OCSP/CRL; pyHanko, pdfsig and openssl judge the result."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pikepdf
import pytest

from signing import (
    Level,
    LoadedSigner,
    Role,
    SignatureSpec,
    TestPki,
    TrustServices,
    sign_pdf,
    verify_pdf,
)
from tests.signing.signing_checks import openssl_cms_verify, pdfsig_report, signature_ranges

LEVELS = [level.value for level in Level]


def _sign_both(
    pki: TestPki, level: str, leader: LoadedSigner, organization: LoadedSigner, data: bytes
) -> bytes:
    common = {"level": Level(level), "tsa_url": pki.tsa_url, "trust": (pki.root_cert,)}
    leader_spec = SignatureSpec(
        role=Role.leader,
        signer_name="Nguyễn Văn An",
        signer_title="Chủ tịch",
        organization="UBND xã Hòa Phú",
        signature_image=pki.signature_image,
        seal_image=pki.seal_image,
        certify=True,
        **common,  # type: ignore[arg-type]
    )
    _, once = sign_pdf(data, None, leader_spec, leader)
    org_spec = SignatureSpec(
        role=Role.organization,
        organization="UBND xã Hòa Phú",
        copy_mark="SAO Y",
        **common,  # type: ignore[arg-type]
    )
    _, twice = sign_pdf(once, None, org_spec, organization)
    return twice


@pytest.fixture(scope="module")
def signed(
    pki: TestPki,
    services: TrustServices,
    leader: LoadedSigner,
    organization: LoadedSigner,
    unsigned_pdf: bytes,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("levels")
    paths = {}
    for level in LEVELS:
        path = folder / f"{level}.pdf"
        path.write_bytes(_sign_both(pki, level, leader, organization, unsigned_pdf))
        paths[level] = path
    return paths


@pytest.mark.parametrize("level", LEVELS)
def test_leader_then_organization_both_valid_and_complete(
    signed: dict[str, Path], pki: TestPki, level: str
) -> None:
    report = verify_pdf(signed[level], trust=[pki.root_cert])
    assert report.ok, report.as_json()
    assert report.complete
    by_role = {sig.role: sig for sig in report.signatures}
    assert set(by_role) == {"leader", "organization"}
    leader_sig = by_role["leader"]
    assert leader_sig.level == level
    assert leader_sig.signer == "TEST Nguyễn Văn An"
    assert leader_sig.coverage == "entire_revision"  # the organisation signed after it
    assert leader_sig.modification_level == "form_filling"
    assert by_role["organization"].level == level
    document = report.as_json()
    assert document["signatures"][0]["signing_time"].endswith("+07:00")
    assert (leader_sig.timestamp_time is None) == (level == "B-B")


def test_lt_levels_embed_revocation_data_and_lta_adds_a_document_timestamp(
    signed: dict[str, Path],
) -> None:
    for level in LEVELS:
        with pikepdf.open(signed[level]) as pdf:
            dss = pdf.Root.get("/DSS")
            has_revinfo = dss is not None and ("/OCSPs" in dss or "/CRLs" in dss)
            assert has_revinfo == (level in ("B-LT", "B-LTA")), level
        doc_ts = signed[level].read_bytes().count(b"/DocTimeStamp")
        assert (doc_ts > 0) == (level == "B-LTA"), level


@pytest.mark.parametrize("level", ["B-B", "B-T"])
def test_poppler_pdfsig_reports_both_signatures_valid(signed: dict[str, Path], level: str) -> None:
    text = pdfsig_report(signed[level])
    assert text.count("Signature Validation: Signature is Valid.") == 2, text
    assert "motcua_leader" in text and "motcua_organization" in text


@pytest.mark.parametrize("level", ["B-B", "B-T"])
def test_openssl_cms_verify_accepts_each_signature_with_the_test_root(
    signed: dict[str, Path], pki: TestPki, level: str, tmp_path: Path
) -> None:
    ranges = signature_ranges(signed[level].read_bytes())
    assert len(ranges) == 2
    for index, (content, cms) in enumerate(ranges):
        verdict = openssl_cms_verify(content, cms, pki.root_cert, pki.chain, tmp_path / str(index))
        assert verdict.startswith("0:") and "Verification successful" in verdict, verdict
    # and openssl is a real judge: one flipped byte in the signed content fails it
    content, cms = ranges[0]
    tampered = content[:500] + bytes([content[500] ^ 0x01]) + content[501:]
    verdict = openssl_cms_verify(tampered, cms, pki.root_cert, pki.chain, tmp_path / "bad")
    assert not verdict.startswith("0:"), verdict


def test_lta_stays_valid_after_the_signer_certificate_expired(
    signed: dict[str, Path], pki: TestPki
) -> None:
    after_expiry = pki.not_after("leader") + timedelta(days=200)
    assert after_expiry > datetime.now(UTC) + timedelta(days=365)
    report = verify_pdf(signed["B-LTA"], trust=[pki.root_cert], at=after_expiry)
    assert report.ok, report.as_json()
    assert report.complete


@pytest.mark.parametrize("level", ["B-B", "B-T"])
def test_short_term_levels_are_not_valid_after_expiry(
    signed: dict[str, Path], pki: TestPki, level: str
) -> None:
    after_expiry = pki.not_after("leader") + timedelta(days=200)
    report = verify_pdf(signed[level], trust=[pki.root_cert], at=after_expiry)
    assert not report.ok
    leader_sig = next(sig for sig in report.signatures if sig.role == "leader")
    assert leader_sig.intact and leader_sig.valid and not leader_sig.trusted
    assert any("hết hạn" in error for error in leader_sig.errors), leader_sig.errors


def test_lta_is_not_valid_once_the_tsa_certificate_expired(
    signed: dict[str, Path], pki: TestPki
) -> None:
    """The long-term path is a real check: past the TSA's own expiry nothing vouches."""
    report = verify_pdf(
        signed["B-LTA"], trust=[pki.root_cert], at=pki.not_after("tsa") + timedelta(days=30)
    )
    assert not report.ok
