"""Verification never crashes and says why: damaged, tampered, untrusted, expired, revoked,
encrypted and unsigned documents."""

from __future__ import annotations

import re
from io import BytesIO

import pikepdf
import pytest

from motcua.errors import InputFileError
from signing import (
    Level,
    LoadedSigner,
    Role,
    SignatureSpec,
    TestPki,
    TrustServices,
    load_pkcs12,
    sign_pdf,
    verify_pdf,
)
from tests.signing.conftest import sign_unchecked

LEADER = SignatureSpec(role=Role.leader, level=Level.B_B)
ORGANIZATION = SignatureSpec(role=Role.organization, level=Level.B_B, copy_mark="SAO Y")


@pytest.fixture(scope="module")
def signed_bb(leader: LoadedSigner, unsigned_pdf: bytes) -> bytes:
    return sign_pdf(unsigned_pdf, None, LEADER, leader)[1]


def _contents_span(data: bytes, which: int = 0) -> tuple[int, int]:
    """Offsets of the hex digits inside the `which`-th signature's /Contents <...>."""
    matches = list(re.finditer(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", data))
    a, b, c, _ = (int(x) for x in matches[which].groups())
    return a + b + 1, c - 1


def test_document_without_signatures_is_not_ok(unsigned_pdf: bytes, pki: TestPki) -> None:
    report = verify_pdf(unsigned_pdf, trust=[pki.root_cert])
    assert report.signatures == []
    assert not report.ok and not report.complete
    assert any("không có chữ ký" in error for error in report.errors)


def test_valid_signature_is_ok(signed_bb: bytes, pki: TestPki, services: TrustServices) -> None:
    report = verify_pdf(signed_bb, trust=[pki.root_cert])
    assert report.ok, report.as_json()
    assert not report.complete  # the organisation has not signed yet


def test_byte_changed_inside_the_signed_range_breaks_integrity(
    signed_bb: bytes, pki: TestPki, services: TrustServices
) -> None:
    position = signed_bb.index(b"/MediaBox")
    tampered = bytearray(signed_bb)
    tampered[position + 1] = ord("m")  # /MediaBox -> /mediaBox, inside the first range
    report = verify_pdf(bytes(tampered), trust=[pki.root_cert])
    sig = report.signatures[0]
    assert not sig.intact and not sig.valid and not report.ok
    assert any("thay đổi" in error for error in sig.errors), sig.errors


def test_content_appended_after_signing_is_reported(
    signed_bb: bytes, pki: TestPki, services: TrustServices
) -> None:
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(BytesIO(signed_bb))
    page_ref, _ = writer.find_page_for_modification(0)
    page = page_ref.get_object()
    extra = generic.StreamObject(stream_data=b"BT /F1 24 Tf 100 100 Td (FORGED) Tj ET")
    contents = page["/Contents"]
    items = (
        list(contents) if isinstance(contents, generic.ArrayObject) else [page.raw_get("/Contents")]
    )
    page["/Contents"] = generic.ArrayObject([*items, writer.add_object(extra)])
    writer.update_container(page)
    out = BytesIO()
    writer.write(out)
    report = verify_pdf(out.getvalue(), trust=[pki.root_cert])
    sig = report.signatures[0]
    assert sig.intact  # the signed revision itself is untouched...
    assert sig.coverage == "entire_revision"
    assert not sig.valid and not report.ok  # ...but the page changed afterwards
    assert sig.modification_level == "other"
    assert any("sửa đổi sau khi ký" in error for error in sig.errors), sig.errors


def test_raw_bytes_appended_after_signing_are_reported(
    signed_bb: bytes, pki: TestPki, services: TrustServices
) -> None:
    report = verify_pdf(signed_bb + b"\n% appended junk 1234567890\n" * 20, trust=[pki.root_cert])
    sig = report.signatures[0]
    assert sig.coverage != "entire_file" and not report.ok, sig.as_json()


def test_certificate_from_another_root_is_not_trusted(
    signed_bb: bytes, pki: TestPki, services: TrustServices
) -> None:
    other_root = pki.cert("tsa")  # any certificate that did not issue the signer's chain
    report = verify_pdf(signed_bb, trust=[other_root])
    sig = report.signatures[0]
    assert sig.intact and sig.valid and not sig.trusted and not report.ok
    assert any("tin cậy" in error or "chuỗi" in error for error in sig.errors), sig.errors


def test_expired_certificate_is_not_trusted(
    pki: TestPki, services: TrustServices, unsigned_pdf: bytes
) -> None:
    expired = load_pkcs12(pki.p12("leader-expired"), pki.p12_password)
    data = sign_unchecked(unsigned_pdf, expired)  # motcua refuses to sign with it
    report = verify_pdf(data, trust=[pki.root_cert])
    sig = report.signatures[0]
    assert sig.valid and not sig.trusted and not report.ok
    assert any("hết hạn" in error for error in sig.errors), sig.errors


def test_revoked_certificate_is_found_by_the_test_ocsp_responder(
    pki: TestPki, services: TrustServices, unsigned_pdf: bytes
) -> None:
    revoked = load_pkcs12(pki.p12("leader-revoked"), pki.p12_password)
    data = sign_unchecked(unsigned_pdf, revoked)  # motcua refuses to sign with it
    report = verify_pdf(data, trust=[pki.root_cert])
    sig = report.signatures[0]
    assert sig.valid and not sig.trusted and not report.ok
    assert any("thu hồi" in error for error in sig.errors), sig.errors


def test_revoked_certificate_cannot_make_a_long_term_signature(
    pki: TestPki, services: TrustServices, unsigned_pdf: bytes
) -> None:
    from motcua.errors import CheckFailedError

    revoked = load_pkcs12(pki.p12("leader-revoked"), pki.p12_password)
    spec = SignatureSpec(level=Level.B_LT, tsa_url=pki.tsa_url, trust=(pki.root_cert,))
    with pytest.raises(CheckFailedError):
        sign_pdf(unsigned_pdf, None, spec, revoked)


def test_encrypted_with_empty_user_password_is_signed_and_verified(
    pki: TestPki,
    services: TrustServices,
    leader: LoadedSigner,
    organization: LoadedSigner,
    unsigned_pdf: bytes,
) -> None:
    with pikepdf.open(BytesIO(unsigned_pdf)) as pdf:
        out = BytesIO()
        pdf.save(out, encryption=pikepdf.Encryption(user="", owner="e-office-owner", R=4))
    encrypted = out.getvalue()
    assert b"/Encrypt" in encrypted
    _, once = sign_pdf(encrypted, None, LEADER, leader)
    _, twice = sign_pdf(once, None, ORGANIZATION, organization)
    report = verify_pdf(twice, trust=[pki.root_cert])
    assert report.ok and report.complete, report.as_json()


def test_damaged_cms_is_reported_and_other_signatures_still_checked(
    signed_bb: bytes, pki: TestPki, services: TrustServices, organization: LoadedSigner
) -> None:
    _, both = sign_pdf(signed_bb, None, ORGANIZATION, organization)
    start, _end = _contents_span(both, which=0)
    damaged = bytearray(both)
    damaged[start : start + 16] = b"FFFFFFFFFFFFFFFF"  # the CMS header is no longer DER
    report = verify_pdf(bytes(damaged), trust=[pki.root_cert])
    by_field = {sig.field: sig for sig in report.signatures}
    broken = by_field["motcua_leader"]
    assert not broken.valid and not broken.trusted
    assert any("CMS" in error for error in broken.errors), broken.errors
    assert "motcua_organization" in by_field  # the report goes on
    assert not report.ok and not report.complete


def test_unreadable_file_raises_input_error(tmp_path: pytest.TempPathFactory) -> None:
    with pytest.raises(InputFileError):
        verify_pdf(b"%PDF-1.7\nthis is not a pdf at all")
    with pytest.raises(InputFileError):
        verify_pdf(b"GIF89a")


def test_document_encrypted_with_a_real_password_is_unreadable_input(unsigned_pdf: bytes) -> None:
    with pikepdf.open(BytesIO(unsigned_pdf)) as pdf:
        out = BytesIO()
        pdf.save(out, encryption=pikepdf.Encryption(user="secret", owner="owner", R=4))
    with pytest.raises(InputFileError) as caught:
        verify_pdf(out.getvalue())
    assert "password" in str(caught.value)


def test_unreachable_timestamp_authority_is_a_service_error(
    leader: LoadedSigner, unsigned_pdf: bytes
) -> None:
    import socket

    from motcua.errors import ServiceUnavailableError

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    spec = SignatureSpec(level=Level.B_T, tsa_url=f"http://127.0.0.1:{port}/tsa")
    with pytest.raises(ServiceUnavailableError):
        sign_pdf(unsigned_pdf, None, spec, leader)
