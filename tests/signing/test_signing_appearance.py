"""Rendered appearances (Decree 30/2020 App. I): rasterise with pdftoppm and look for the seal's
red and the signature's blue where they belong; the organisation's text top right of page 1."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pikepdf
import pytest
from PIL import Image

from signing import Level, LoadedSigner, Role, SignatureSpec, TestPki, sign_pdf

DPI = 144
SCALE = DPI / 72  # pixels per point


def _render(pdf: Path, page: int, out: Path) -> np.ndarray:
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            str(DPI),
            "-png",
            "-f",
            str(page),
            "-l",
            str(page),
            "-singlefile",
            str(pdf),
            str(out),
        ],
        check=True,
        timeout=60,
    )
    return np.asarray(Image.open(out.with_suffix(".png")).convert("RGB")).astype(int)


def _rect(pdf: Path, field: str) -> tuple[float, float, float, float, int]:
    """The widget rectangle of a signature field and its 1-based page number."""
    with pikepdf.open(pdf) as doc:
        for number, page in enumerate(doc.pages, start=1):
            for annot in page.get("/Annots", []):
                if str(annot.get("/T", "")) == field:
                    x1, y1, x2, y2 = (float(v) for v in annot.Rect)
                    return x1, y1, x2, y2, number
    raise AssertionError(f"no widget for {field}")


def _crop(pixels: np.ndarray, x1: float, y1: float, x2: float, y2: float) -> np.ndarray:
    height = pixels.shape[0]
    return pixels[
        int(height - y2 * SCALE) : int(height - y1 * SCALE), int(x1 * SCALE) : int(x2 * SCALE)
    ]


def _red(px: np.ndarray) -> np.ndarray:
    return (px[..., 0] > 170) & (px[..., 1] < 110) & (px[..., 2] < 110)


def _blue(px: np.ndarray) -> np.ndarray:
    return (px[..., 2] > 140) & (px[..., 0] < 110) & (px[..., 1] < 140)


def _dark(px: np.ndarray) -> np.ndarray:
    return px.sum(axis=-1) < 300


@pytest.fixture(scope="module")
def leader_signed(
    pki: TestPki,
    leader: LoadedSigner,
    unsigned_pdf: bytes,
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    spec = SignatureSpec(
        role=Role.leader,
        level=Level.B_B,
        signer_name="Nguyễn Văn An",
        signer_title="Chủ tịch",
        organization="UBND xã Hòa Phú",
        signature_image=pki.signature_image,
        seal_image=pki.seal_image,
    )
    out = tmp_path_factory.mktemp("appearance") / "leader.pdf"
    sign_pdf(unsigned_pdf, out, spec, leader)
    return out


def test_leader_seal_red_over_left_third_and_signature_blue_beside_it(
    leader_signed: Path, unsigned_pdf: bytes, tmp_path: Path
) -> None:
    x1, y1, x2, y2, page = _rect(leader_signed, "motcua_leader")
    assert page == 2  # default: the last page
    (tmp_path / "unsigned.pdf").write_bytes(unsigned_pdf)
    before = _crop(_render(tmp_path / "unsigned.pdf", page, tmp_path / "before"), x1, y1, x2, y2)
    after = _crop(_render(leader_signed, page, tmp_path / "after"), x1, y1, x2, y2)
    assert _red(before).sum() == 0 and _blue(before).sum() == 0

    red, blue = _red(after), _blue(after)
    assert red.sum() > 1000 and blue.sum() > 1000, (red.sum(), blue.sum())
    red_x = np.nonzero(red)[1]
    blue_x = np.nonzero(blue)[1]
    width = after.shape[1]
    # the seal sits on the left part, the signature extends to the right beyond it
    assert np.median(red_x) < width * 0.45
    assert np.median(blue_x) > np.median(red_x)
    assert blue_x.max() > red_x.max() + width * 0.2
    # and they overlap: blue strokes run under the seal's area
    assert (blue_x < red_x.max()).sum() > 20
    # the image is in the upper part, the text lines below it
    rows_dark = np.nonzero(_dark(after))[0]
    rows_colour = np.nonzero(red | blue)[0]
    assert rows_dark.max() > rows_colour.max()


def test_leader_box_is_above_the_signer_name_block(leader_signed: Path) -> None:
    _x1, y1, _x2, _y2, _page = _rect(leader_signed, "motcua_leader")
    # the sample prints the name at y=120 and the title at y=250 (points)
    assert 120 < y1 < 160


def test_organization_text_top_right_of_first_page_black_no_image(
    pki: TestPki, organization: LoadedSigner, leader_signed: Path, tmp_path: Path
) -> None:
    spec = SignatureSpec(
        role=Role.organization, level=Level.B_B, copy_mark="SAO Y", organization="UBND xã Hòa Phú"
    )
    out = tmp_path / "both.pdf"
    sign_pdf(leader_signed, out, spec, organization)
    x1, y1, x2, y2, page = _rect(out, "motcua_organization")
    assert page == 1
    with pikepdf.open(out) as doc:
        width, height = float(doc.pages[0].MediaBox[2]), float(doc.pages[0].MediaBox[3])
    assert x1 > width / 2 and y2 > height - 60  # top right
    before = _crop(_render(leader_signed, 1, tmp_path / "before"), x1, y1, x2, y2)
    after = _crop(_render(out, 1, tmp_path / "after"), x1, y1, x2, y2)
    assert _dark(before).sum() == 0
    assert _dark(after).sum() > 300
    assert _red(after).sum() == 0 and _blue(after).sum() == 0


def test_appearance_font_is_embedded_with_vietnamese_glyphs_and_sane_widths(
    leader_signed: Path,
) -> None:
    with pikepdf.open(leader_signed) as doc:
        annot = next(a for a in doc.pages[1].Annots if str(a.get("/T", "")) == "motcua_leader")
        fonts = []

        def collect(obj: pikepdf.Object, depth: int = 0) -> None:
            if depth > 6 or not isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
                return
            resources = obj.get("/Resources")
            if resources is not None and "/Font" in resources:
                fonts.extend(resources.Font.values())
            xobjects = resources.get("/XObject") if resources is not None else None
            for xobject in (xobjects or {}).values() if xobjects is not None else []:
                collect(xobject, depth + 1)

        collect(annot.AP.N)
        assert fonts
        font = fonts[0]
        assert "LiberationSerif" in str(font.BaseFont)
        descendant = font.DescendantFonts[0]
        assert "/FontFile2" in descendant.FontDescriptor  # embedded TrueType program
        cmap = font.ToUnicode.read_bytes().decode("latin-1").lower()
        for char in "ễờý":  # Nguyễn, Thời, ký
            assert f"<{ord(char):04x}>" in cmap, char
        widths = [
            float(w) for entry in descendant.W if isinstance(entry, pikepdf.Array) for w in entry
        ]
        assert widths and max(widths) <= 1000  # glyph widths in 1/1000 em, not font units


def test_time_shown_is_the_signing_time_in_vietnam_time(leader_signed: Path, pki: TestPki) -> None:
    from signing import verify_pdf
    from signing.verify import iso_vn

    report = verify_pdf(leader_signed, trust=[pki.root_cert], fetch=False)
    shown = iso_vn(report.signatures[0].signing_time)
    assert shown is not None and shown.endswith("+07:00")
    with pikepdf.open(leader_signed) as doc:
        annot = next(a for a in doc.pages[1].Annots if str(a.get("/T", "")) == "motcua_leader")
        lines = [
            str(operands[1].ActualText)
            for operands, operator in pikepdf.parse_content_stream(annot.AP.N)
            if str(operator) == "BDC" and "/ActualText" in operands[1]
        ]
    assert f"Thời gian ký: {shown}" in lines, lines
    assert "Ký bởi: Nguyễn Văn An" in lines


def test_leader_box_falls_back_to_bottom_right_without_a_name_block(
    pki: TestPki, leader: LoadedSigner, tmp_path: Path
) -> None:
    from signing.samples import result_pdf

    spec = SignatureSpec(role=Role.leader, level=Level.B_B, signer_name="Người Không Có Tên")
    out = tmp_path / "fallback.pdf"
    sign_pdf(result_pdf(pages=1), out, spec, leader)
    x1, y1, x2, _y2, page = _rect(out, "motcua_leader")
    assert page == 1
    assert x1 > 595 / 2 and y1 < 200 and x2 <= 595
