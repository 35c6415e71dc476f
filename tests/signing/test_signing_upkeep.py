"""Signature upkeep against the TEST PKI's real TSA/OCSP/CRL services: a B-LTA result timestamped
by a TSA whose certificate ends in 30 days is found due, renewed with a fresh document timestamp,
and still verifies, complete, after the old TSA certificate has ended."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from motcua.errors import InputFileError
from signing import Level, LoadedSigner, Role, SignatureSpec, TestPki, TrustServices, sign_pdf
from signing.upkeep import UpkeepPolicy, assess, renew
from signing.verify import verify_pdf


@pytest.fixture(scope="module")
def short_lived(
    pki: TestPki, services: TrustServices, leader: LoadedSigner, organization: LoadedSigner,
    unsigned_pdf: bytes,
) -> bytes:  # fmt: skip
    """Leader and organisation signatures, B-LTA, every timestamp from the short-lived TSA."""
    spec = SignatureSpec(level=Level.B_LTA, tsa_url=pki.short_tsa_url, trust=(pki.root_cert,))
    _, signed = sign_pdf(unsigned_pdf, None, spec, leader)
    org = dataclasses.replace(spec, role=Role.organization)
    _, signed = sign_pdf(signed, None, org, organization)
    return signed


def test_a_timestamp_whose_tsa_ends_soon_is_due_and_renewal_keeps_the_result_complete(
    pki: TestPki, services: TrustServices, short_lived: bytes
) -> None:
    now = dt.datetime.now(dt.UTC)
    before = assess(short_lived, now=now)
    assert before.due and before.long_term
    assert "hết hạn ngày" in before.reasons[0] and "730 ngày" in before.reasons[0]
    newest = before.timestamps[-1]
    assert newest.tsa == "TEST motcua TSA (hết hạn sau 30 ngày)"
    assert now + dt.timedelta(days=28) < newest.tsa_not_after < now + dt.timedelta(days=31)
    # with a margin shorter than what is left, nothing is due
    assert not assess(short_lived, UpkeepPolicy(margin=dt.timedelta(days=10)), now=now).due

    later = now + dt.timedelta(days=60)  # the short-lived TSA certificate has ended
    expired = verify_pdf(short_lived, [pki.root_cert], at=later)
    assert not expired.ok
    assert any("cần gia hạn" in e for s in expired.signatures for e in s.errors)

    renewed = renew(short_lived, tsa_url=pki.tsa_url, trust=[pki.root_cert])
    assert renewed.startswith(short_lived)  # an incremental update: every signature as it was
    after = assess(renewed, now=now)
    assert not after.due and len(after.timestamps) == len(before.timestamps) + 1
    assert after.timestamps[-1].tsa == "TEST motcua Time Stamping Authority"
    assert after.timestamps[-1].digest == "sha256"

    today = verify_pdf(renewed, [pki.root_cert])
    assert today.ok and today.complete, today.as_json()
    assert [t["tsa"] for t in today.as_json()["document_timestamps"]][-1] == (
        "TEST motcua Time Stamping Authority"
    )
    in_two_months = verify_pdf(renewed, [pki.root_cert], at=later)
    assert in_two_months.ok and in_two_months.complete, in_two_months.as_json()
    assert {s.level for s in in_two_months.signatures} == {"B-LTA"}


def test_a_digest_on_the_weak_list_makes_a_result_due(short_lived: bytes) -> None:
    weak = assess(
        short_lived, UpkeepPolicy(margin=dt.timedelta(0), weak_digests=frozenset({"sha256"}))
    )
    assert weak.due and weak.reasons == ("thuật toán băm đã yếu: sha256",)
    assert weak.digests == ("sha256",)


def test_a_signature_without_document_timestamp_has_nothing_to_renew(
    pki: TestPki, services: TrustServices, leader: LoadedSigner, unsigned_pdf: bytes
) -> None:
    spec = SignatureSpec(level=Level.B_T, tsa_url=pki.tsa_url)
    _, signed = sign_pdf(unsigned_pdf, None, spec, leader)
    found = assess(signed)
    assert not found.due and not found.long_term and found.timestamps == ()


def test_a_file_that_is_not_a_pdf_is_named(tmp_path: object) -> None:
    with pytest.raises(InputFileError, match=r"ket-qua\.pdf"):
        assess(b"%PDF-1.7 not really", name="ket-qua.pdf")
