"""Existing text layers: a good one is kept (no OCR), a bad one is detected and re-OCR'd."""

from __future__ import annotations

from pathlib import Path

import pikepdf
import pytest
from ocr_compare import cer, normalise
from PIL import Image
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from extractors.ocr import OcrOptions, ocr_document
from extractors.ocr.textlayer import judge, read_text_layer
from samples.pages import Page

A4 = (595.28, 841.89)


def born_digital(path: Path, text: str) -> Path:
    """A PDF whose text is real text in an embedded TrueType font (what a word processor makes)."""
    pdfmetrics.registerFont(
        TTFont("DejaVuSerif", "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf")
    )
    pdf = canvas.Canvas(str(path), pagesize=A4)
    pdf.setFont("DejaVuSerif", 11)
    y = 780.0
    for line in text.split("\n"):
        pdf.drawString(60, y, line)
        y -= 16
    pdf.showPage()
    pdf.save()
    return path


def scan_with_layer(path: Path, page: Page, layer: str) -> Path:
    """A scanner's PDF: the page image with an invisible text layer made by old software."""
    pdf = canvas.Canvas(str(path), pagesize=A4)
    rgb = Image.fromarray(page.image[:, :, ::-1])
    height_pt = A4[0] * rgb.height / rgb.width
    pdf.drawImage(ImageReader(rgb), 0, A4[1] - height_pt, A4[0], height_pt)
    text = pdf.beginText(40, 800)
    text.setTextRenderMode(3)
    text.setFont("Helvetica", 10)  # WinAnsi: what such software wrote
    for line in layer.split("\n"):
        text.textLine(line)
    pdf.drawText(text)
    pdf.showPage()
    pdf.save()
    return path


@pytest.mark.parametrize(
    ("text", "verdict"),
    [
        ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc", "good"),
        ("Annual report of the company for the year, audited by the board", "good"),
        ("CONG HOA XA HOI CHU NGHIA VIET NAM Doc lap - Tu do - Hanh phuc UBND THANH PHO", "bad"),
        ("UBND THANH PHO DA NANG CONG Hcok xA HQI CHU NGHiA VIET NAM Doc lap Tu do", "bad"),
        ("Coäng hoøa xaõ hoäi chuû nghóa Vieät Nam Ñoäc laäp - Töï do - Haïnh phuùc", "bad"),  # VNI
        ("Céng hßa x· héi chñ nghÜa ViÖt Nam §éc lËp - Tù do - H¹nh phóc", "bad"),  # TCVN3
        ("", "none"),
        ("  12 / 3  ", "none"),
    ],
)
def test_text_layer_judgement(text: str, verdict: str) -> None:
    assert judge(text).verdict == verdict


# An e-office PDF's earlier OCR: Vietnamese letters, but words that are not syllables.
GARBLED = (
    "UBND TỈNH QUẢNG NGÃI CONG HOA xA HQI CilU NGHIA VIT NAM\n"
    "Sô: 575 /UBND-KTTH Độc Iập - Tư dọ - Hạnh phủc\n"
    "V/v tharn gỉa ỷ kỉen cảc dư thảo Nghi đỉnh cúa Chỉnh phũ\n"
    "Kỉnh gứi: Cảc sở, ban, ngảnh tỉnh; UBND cảc huyện, thị xả"
)
CLEAN = (
    "UBND TỈNH QUẢNG NGÃI CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\n"
    "Số: 575/UBND-KTTH Độc lập - Tự do - Hạnh phúc\n"
    "V/v tham gia ý kiến các dự thảo Nghị định của Chính phủ\n"
    "Kính gửi: Các sở, ban, ngành tỉnh; UBND các huyện, thị xã"
)


def test_a_layer_of_non_syllables_is_judged_by_language() -> None:
    assert judge(CLEAN).verdict == "good"
    garbled = judge(GARBLED)
    assert garbled.verdict == "bad"
    assert "not Vietnamese syllables" in garbled.reason


def test_one_garbled_header_among_clean_lines_is_enough() -> None:
    body = "\n".join(
        ["Thực hiện chỉ đạo của Ủy ban nhân dân tỉnh về việc giải quyết thủ tục hành chính"] * 4
    )
    header = "CONG HOA xA HQI CilU NGHIA VIT NAM\nĐộc Iập Tư dọ Hạnh phủc ngảy thảng"
    assert judge(body).verdict == "good"
    assert judge(header + "\n" + body).verdict == "bad"


def test_old_and_new_tone_placement_are_both_syllables() -> None:
    from extractors.ocr.lexicon import is_syllable

    assert all(is_syllable(w) for w in ("hoà", "hòa", "UỶ", "ỦY", "khoẻ", "khỏe", "Đà"))
    assert not any(is_syllable(w) for w in ("CilU", "HQI", "tharn", "xyz"))


def test_a_born_digital_pdf_is_read_from_its_text_layer(header_page: Page, tmp_path: Path) -> None:
    path = born_digital(tmp_path / "digital.pdf", header_page.text)
    result = ocr_document(path, OcrOptions(jobs=1))
    (page,) = result.pages
    assert page.source == "text-layer"
    assert page.confidence == 1.0
    assert normalise(page.text) == normalise(header_page.text)
    assert page.words[0].text == "UBND"
    assert page.words[0].bbox[0] == pytest.approx(60 * 300 / 72, abs=3)


def test_an_empty_user_password_pdf_opens(header_page: Page, tmp_path: Path) -> None:
    plain = born_digital(tmp_path / "plain.pdf", header_page.text)
    locked = tmp_path / "restricted.pdf"
    with pikepdf.open(plain) as pdf:
        restrict = pikepdf.Permissions(modify_other=False, extract=False)
        pdf.save(locked, encryption=pikepdf.Encryption(user="", owner="owner", allow=restrict))
    result = ocr_document(locked, OcrOptions(jobs=1))
    assert normalise(result.text) == normalise(header_page.text)


@pytest.mark.parametrize(
    "layer",
    [
        "UBND TINH QUANG NAM CONG HOA XA HOI CHU NGHIA VIET NAM\n"
        "SO NOI VU Doc lap - Tu do - Hanh phuc",
        "UBND TØNH QUAÛNG NAM COÄNG HOØA XAÕ HOÄI CHUÛ NGHÓA VIEÄT NAM\n"
        "Ñoäc laäp - Töï do - Haïnh phuùc",
        "UBND TINH QUANG NAM CONG HOA xA HQI CilU NGHIA VIT NAM\n"
        "SQ NQI VU Doc Iap - Tu dq - Hanh phuc",
    ],
    ids=["winansi-without-diacritics", "vni", "garbled-earlier-ocr"],
)
def test_a_bad_text_layer_is_re_ocred(header_page: Page, tmp_path: Path, layer: str) -> None:
    path = scan_with_layer(tmp_path / "scan.pdf", header_page, layer)
    found, _, _, _ = read_text_layer(path, 0)
    assert judge(found).verdict == "bad"  # there is a layer, and it is judged bad
    result = ocr_document(path, OcrOptions(jobs=1))
    (page,) = result.pages
    assert page.source == "ocr"
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in page.text
    assert cer(header_page.text, page.text) <= 0.02


def test_keep_text_layer_off_forces_ocr(header_page: Page, tmp_path: Path) -> None:
    path = born_digital(tmp_path / "digital.pdf", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
    result = ocr_document(path, OcrOptions(jobs=1, keep_text_layer=False))
    assert result.pages[0].source == "ocr"
    assert "CỘNG HÒA" in result.pages[0].text


def test_a_mixed_pdf_keeps_digital_pages_and_ocrs_scanned_ones(
    header_page: Page, tmp_path: Path
) -> None:
    digital = born_digital(tmp_path / "digital.pdf", "Phụ lục: danh mục hồ sơ kèm theo\nTrang 2")
    scanned = scan_with_layer(tmp_path / "scan.pdf", header_page, "")
    mixed = tmp_path / "mixed.pdf"
    with pikepdf.new() as pdf, pikepdf.open(digital) as first, pikepdf.open(scanned) as second:
        pdf.pages.extend([first.pages[0], second.pages[0]])
        pdf.save(mixed)
    result = ocr_document(mixed, OcrOptions(jobs=2))
    assert [p.source for p in result.pages] == ["text-layer", "ocr"]
    assert result.pages[0].text == "Phụ lục: danh mục hồ sơ kèm theo\nTrang 2"
    assert cer(header_page.text, result.pages[1].text) <= 0.02


def test_text_layers_are_judged_per_page(header_page: Page, tmp_path: Path) -> None:
    """An e-office PDF: page 1 born digital (kept), page 2 a scan whose earlier OCR layer is
    garbage (judged by language and re-OCR'd), in one file."""
    pdfmetrics.registerFont(
        TTFont("DejaVuSerif", "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf")
    )
    path = tmp_path / "mixed.pdf"
    pdf = canvas.Canvas(str(path), pagesize=A4)
    pdf.setFont("DejaVuSerif", 11)
    for i, line in enumerate(CLEAN.split("\n")):
        pdf.drawString(60, 780 - 16 * i, line)
    pdf.showPage()
    rgb = Image.fromarray(header_page.image[:, :, ::-1])
    height_pt = A4[0] * rgb.height / rgb.width
    pdf.drawImage(ImageReader(rgb), 0, A4[1] - height_pt, A4[0], height_pt)
    text = pdf.beginText(40, 800)
    text.setTextRenderMode(3)
    text.setFont("DejaVuSerif", 10)  # a Unicode layer: the encoding is fine, the words are not
    for line in GARBLED.split("\n"):
        text.textLine(line)
    pdf.drawText(text)
    pdf.showPage()
    pdf.save()
    first, second = ocr_document(path, OcrOptions(jobs=1)).pages
    assert first.source == "text-layer" and normalise(first.text) == normalise(CLEAN)
    assert second.source == "ocr" and "CilU" not in second.text
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in second.text
