"""Searchable PDFs are PDF/A-2b; a citizen's PDF whose pages cannot be (a font not embedded)
gets a rendition of page images under the page's words."""

from __future__ import annotations

import subprocess
from pathlib import Path

import cv2
import pikepdf
from PIL import Image
from reportlab.pdfgen import canvas

from extractors.ocr import OcrOptions, ocr_document, write_searchable_pdf
from motcua.pdfa import check_pdfa
from samples.pages import Page


def _searchable(source: Path, out: Path) -> Path:
    return write_searchable_pdf(source, ocr_document(source, OcrOptions(jobs=1)), out)


def test_an_image_scan_and_an_image_pdf_become_pdfa(
    header_png: Path, header_page: Page, tmp_path: Path
) -> None:
    scan = tmp_path / "scan.pdf"
    rgb = Image.fromarray(cv2.cvtColor(header_page.image, cv2.COLOR_BGR2RGB))
    rgb.save(scan, "PDF", resolution=300.0)
    for source in (header_png, scan):
        report = check_pdfa(_searchable(source, tmp_path / f"{source.stem}.ocr.pdf"))
        assert report.ok, [str(f) for f in report.failures]
        assert report.claimed == "2B"


def test_a_citizen_pdf_with_a_standard_font_is_drawn_as_images_under_its_text(
    tmp_path: Path,
) -> None:
    source = tmp_path / "typed.pdf"
    pdf = canvas.Canvas(str(source))
    pdf.setFont("Helvetica", 14)
    for i in range(12):
        pdf.drawString(72, 720 - 24 * i, "UBND THANH PHO DA NANG - giay xac nhan cu tru so 12")
    pdf.save()
    assert check_pdfa(source).failed_clauses == ["6.2.11.4.1", "6.6.2.1", "6.6.4"]
    out = _searchable(source, tmp_path / "typed.ocr.pdf")
    report = check_pdfa(out)
    assert report.ok, [str(f) for f in report.failures]
    assert report.claimed == "2B"
    with pikepdf.open(out) as rendition:
        (image,) = rendition.pages[0].Resources.XObject.values()
        assert image.Filter == "/DCTDecode"  # the page as an image ...
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True).stdout
    assert text.count("UBND THANH PHO DA NANG") == 12  # ... under its own words
