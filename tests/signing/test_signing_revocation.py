"""Issue 13: revocation never passes silently, and bytes after the last revision are a
modification. A real revoked TEST certificate, the real OCSP/CRL server on 127.0.0.1, and the
same server stopped for the case where revocation cannot be checked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from signing import (
    Level,
    LoadedSigner,
    SignatureSpec,
    TestPki,
    TrustServices,
    load_pkcs12,
    sign_pdf,
    testpki,
    verify_pdf,
)
from tests.signing.conftest import sign_unchecked
from tests.signing.signing_cli_runner import run_motcua


@pytest.fixture(scope="module")
def quiet_pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    """A TEST PKI whose OCSP responder and CRL server are down unless a test starts them."""
    return testpki.init(tmp_path_factory.mktemp("revocation") / "test-pki")


@pytest.fixture(scope="module")
def revoked_pdf(quiet_pki: TestPki, unsigned_pdf: bytes) -> bytes:
    revoked = load_pkcs12(quiet_pki.p12("leader-revoked"), quiet_pki.p12_password)
    return sign_unchecked(unsigned_pdf, revoked)


def test_a_revoked_signer_is_not_valid_when_revocation_cannot_be_checked(
    quiet_pki: TestPki, revoked_pdf: bytes
) -> None:
    with TrustServices(quiet_pki):  # the server answers: revoked
        online = verify_pdf(revoked_pdf, trust=[quiet_pki.root_cert])
    assert online.signatures[0].revocation == "revoked" and not online.ok
    # Server down, and offline: never HỢP LỆ, and the report says what was skipped.
    for fetch in (True, False):
        report = verify_pdf(revoked_pdf, trust=[quiet_pki.root_cert], fetch=fetch)
        sig = report.signatures[0]
        assert sig.intact and sig.valid and sig.revocation == "unknown", sig.as_json()
        assert not sig.ok and not report.ok
        assert sig.revocation_skipped, sig.as_json()
        assert any("chưa kiểm tra được thu hồi" in e for e in sig.errors), sig.errors
        if fetch:
            assert any(quiet_pki.base_url in s for s in sig.revocation_skipped)
        else:
            assert any("--offline" in s for s in sig.revocation_skipped)
    accepted = verify_pdf(
        revoked_pdf, trust=[quiet_pki.root_cert], fetch=False, accept_unknown_revocation=True
    )
    assert accepted.ok and accepted.signatures[0].revocation_skipped


def test_embedded_revocation_data_needs_no_server(
    pki: TestPki, services: TrustServices, leader: LoadedSigner, unsigned_pdf: bytes
) -> None:
    spec = SignatureSpec(level=Level.B_LT, tsa_url=pki.tsa_url, trust=(pki.root_cert,))
    _, signed = sign_pdf(unsigned_pdf, None, spec, leader)
    report = verify_pdf(signed, trust=[pki.root_cert], fetch=False)
    assert report.ok and report.signatures[0].revocation == "good", report.as_json()
    _, plain = sign_pdf(unsigned_pdf, None, SignatureSpec(level=Level.B_B), leader)
    assert verify_pdf(plain, trust=[pki.root_cert]).signatures[0].revocation == "good"
    assert verify_pdf(plain, trust=[pki.root_cert], fetch=False).signatures[0].revocation == (
        "unknown"
    )


def test_cli_verify_offline_exits_1_unless_unknown_revocation_is_accepted(
    quiet_pki: TestPki, revoked_pdf: bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "revoked.pdf"
    path.write_bytes(revoked_pdf)
    trust = ["--trust", str(quiet_pki.root_cert)]
    run = run_motcua(capsys, "verify", str(path), *trust, "--offline")
    assert run.code == 1 and "CHƯA KIỂM TRA ĐƯỢC THU HỒI" in run.out and "HỢP LỆ\n" not in run.out
    run = run_motcua(capsys, "verify", str(path), *trust)  # the server is down
    assert run.code == 1 and "chưa kiểm tra được thu hồi" in run.out
    run = run_motcua(capsys, "verify", str(path), *trust, "--offline", "--json",
                     "--accept-unknown-revocation")  # fmt: skip
    assert run.code == 0, run.out
    sig = json.loads(run.out)["signatures"][0]
    assert sig["revocation"] == "unknown" and sig["revocation_skipped"]


def test_bytes_after_the_last_document_timestamp_are_a_modification(
    pki: TestPki, services: TrustServices, leader: LoadedSigner, unsigned_pdf: bytes
) -> None:
    spec = SignatureSpec(level=Level.B_LTA, tsa_url=pki.tsa_url, trust=(pki.root_cert,))
    _, signed = sign_pdf(unsigned_pdf, None, spec, leader)
    assert verify_pdf(signed, trust=[pki.root_cert]).ok
    for tail in (b"\n% appended junk 1234567890\n" * 20, b"\nBT (forged) Tj ET \x01\x02"):
        report = verify_pdf(signed + tail, trust=[pki.root_cert])
        assert not report.ok, report.as_json()
        assert any("nối vào sau phiên bản cuối" in e for e in report.errors), report.errors
        assert not report.signatures[0].valid


# --- signing refuses certificates that may not sign, at every level ---------------------------


def _not_yet_valid_p12(pki: TestPki, out: Path) -> Path:
    """A TEST signer certificate from the intermediate, valid only from tomorrow."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.x509.oid import NameOID

    issuer = x509.load_pem_x509_certificate(pki.cert("interm").read_bytes())
    issuer_key = serialization.load_pem_private_key(pki.key("interm").read_bytes(), None)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = dt.datetime.now(dt.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "TEST chưa hiệu lực")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now + dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(issuer_key, hashes.SHA256())  # type: ignore[arg-type]
    )
    out.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"future", key, cert, [issuer], serialization.NoEncryption()
        )
    )
    return out


@pytest.mark.parametrize("level", ["B-B", "B-T"])
def test_signing_refuses_expired_not_yet_valid_and_revoked_certificates(
    level: str, pki: TestPki, services: TrustServices, unsigned_pdf: bytes, tmp_path: Path
) -> None:
    from motcua.errors import CheckFailedError

    spec = SignatureSpec(level=Level(level), tsa_url=pki.tsa_url)
    future = load_pkcs12(_not_yet_valid_p12(pki, tmp_path / "future.p12"), None)
    for label, signer, reason in (
        ("expired", load_pkcs12(pki.p12("leader-expired"), pki.p12_password), "hết hạn"),
        ("revoked", load_pkcs12(pki.p12("leader-revoked"), pki.p12_password), "thu hồi"),
        ("not yet valid", future, "chưa có hiệu lực"),
    ):
        with pytest.raises(CheckFailedError) as caught:
            sign_pdf(unsigned_pdf, None, spec, signer)
        assert reason in caught.value.message, (label, caught.value.message)


def test_signing_refuses_when_revocation_cannot_be_checked(
    quiet_pki: TestPki, unsigned_pdf: bytes
) -> None:
    from motcua.errors import ServiceUnavailableError

    leader = load_pkcs12(quiet_pki.p12("leader"), quiet_pki.p12_password)
    with pytest.raises(ServiceUnavailableError) as caught:  # the OCSP/CRL server is down
        sign_pdf(unsigned_pdf, None, SignatureSpec(level=Level.B_B), leader)
    assert "thu hồi" in caught.value.message
    with TrustServices(quiet_pki):
        _, signed = sign_pdf(unsigned_pdf, None, SignatureSpec(level=Level.B_B), leader)
    assert signed.startswith(b"%PDF")


def test_cli_sign_b_b_refuses_a_revoked_certificate(
    pki: TestPki,
    services: TrustServices,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from signing.samples import write_result_pdf

    monkeypatch.setenv("MOTCUA_P12_PASSWORD", pki.p12_password)
    source = write_result_pdf(tmp_path / "result.pdf")
    out = tmp_path / "signed.pdf"
    args = ["sign", str(source), "-o", str(out), "--level", "B-B"]
    run = run_motcua(capsys, *args, "--p12", str(pki.p12("leader-revoked")))
    assert run.code == 1 and "thu hồi" in run.err and not out.exists(), run.err
    run = run_motcua(capsys, *args, "--p12", str(pki.p12("leader-expired")))
    assert run.code == 1 and "hết hạn" in run.err and not out.exists(), run.err
