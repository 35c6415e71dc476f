"""Signing a PDF/A-2b result keeps it PDF/A-2b: pyHanko appends incremental updates, the
appearance's font (Liberation Serif) is embedded, and the XMP claim survives both signatures."""

from __future__ import annotations

import io
from pathlib import Path

import pikepdf
import pytest

from motcua.pdfa import check_pdfa, check_pdfa_bytes, conform
from signing import Level, LoadedSigner, Role, SignatureSpec, TestPki, TrustServices, sign_pdf


@pytest.fixture(scope="module")
def pdfa_result(unsigned_pdf: bytes) -> bytes:
    with pikepdf.open(io.BytesIO(unsigned_pdf)) as pdf:
        conform(pdf)
        buffer = io.BytesIO()
        pdf.save(buffer)
    report = check_pdfa_bytes(buffer.getvalue())
    assert report.ok, [str(f) for f in report.failures]
    return buffer.getvalue()


@pytest.mark.parametrize("level", ["B-B", "B-LTA"])
def test_leader_and_organization_signatures_keep_pdfa(
    pki: TestPki,
    services: TrustServices,
    leader: LoadedSigner,
    organization: LoadedSigner,
    pdfa_result: bytes,
    tmp_path: Path,
    level: str,
) -> None:
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
    _, once = sign_pdf(pdfa_result, None, leader_spec, leader)
    assert once.startswith(pdfa_result)  # an incremental update: the PDF/A bytes stay
    org_spec = SignatureSpec(
        role=Role.organization,
        organization="UBND xã Hòa Phú",
        copy_mark="SAO Y",
        **common,  # type: ignore[arg-type]
    )
    _, twice = sign_pdf(once, None, org_spec, organization)
    assert twice.startswith(once)
    path = tmp_path / "signed.pdf"
    path.write_bytes(twice)
    report = check_pdfa(path)
    assert report.ok, [str(f) for f in report.failures]
    assert report.claimed == "2B"
    with pikepdf.open(path) as pdf:  # the appearances draw text: their fonts are embedded
        widgets = [
            a
            for page in pdf.pages
            for a in page.obj.get("/Annots", [])
            if a.get("/FT") == "/Sig" and float(a.Rect[2]) > float(a.Rect[0])
        ]  # B-LTA adds invisible document-timestamp fields beside the two visible signatures
        assert len(widgets) == 2
        fonts = [f for w in widgets for f in _fonts(w.AP.N)]
        assert fonts and all("/FontFile2" in f.DescendantFonts[0].FontDescriptor for f in fonts)


def _fonts(stream: pikepdf.Object, depth: int = 0) -> list[pikepdf.Object]:
    found = []
    resources = stream.get("/Resources", {})
    found += list(resources.get("/Font", {}).values())
    for xobject in resources.get("/XObject", {}).values():
        if xobject.get("/Subtype") == "/Form" and depth < 5:
            found += _fonts(xobject, depth + 1)
    return found
