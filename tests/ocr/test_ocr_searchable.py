"""Searchable PDFs: text extracted with pdftotext and pypdf equals the OCR text; images intact."""

from __future__ import annotations

import re
import subprocess
from html import escape as html_escape
from pathlib import Path

import cv2
import numpy as np
import pikepdf
import pypdf
import pytest
from ocr_compare import normalise
from PIL import Image

from extractors.ocr import OcrOptions, OcrResult, ocr_document, write_searchable_pdf
from samples.pages import Page, degrade, rotate, write_image


def pdftotext(path: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-raw", "-enc", "UTF-8", str(path), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def pypdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(path).pages)


def images(path: Path) -> list[tuple[str, bytes, Image.Image]]:
    """(filter, raw stream bytes, decoded image) of every image XObject, page by page."""
    out = []
    with pikepdf.open(path) as pdf:
        for page in pdf.pages:
            for _, obj in page.obj.Resources.XObject.items():
                if obj.Subtype == "/Image":
                    decoded = pikepdf.PdfImage(obj).as_pil_image()
                    decoded.load()
                    out.append((str(obj.Filter), obj.read_raw_bytes(), decoded))
    return out


def searchable(source: Path, tmp_path: Path) -> tuple[OcrResult, Path]:
    result = ocr_document(source, OcrOptions(jobs=1))
    return result, write_searchable_pdf(source, result, tmp_path / "out.pdf")


def assert_same_text(result: OcrResult, pdf: Path) -> None:
    expected = normalise(result.text)
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in result.text
    assert normalise(pdftotext(pdf)) == expected
    assert normalise(pypdf_text(pdf)) == expected


def test_png_searchable_pdf_text_and_lossless_image(header_png: Path, tmp_path: Path) -> None:
    result, pdf = searchable(header_png, tmp_path)
    assert_same_text(result, pdf)
    ((kind, _, image),) = images(pdf)
    assert kind == "/FlateDecode"
    original = np.asarray(Image.open(header_png).convert("RGB"))
    assert np.array_equal(np.asarray(image.convert("RGB")), original)


def test_jpeg_searchable_pdf_embeds_the_jpeg_bytes_unchanged(
    header_page: Page, tmp_path: Path
) -> None:
    jpeg = tmp_path / "scan.jpg"
    write_image(degrade(header_page, "scanned", seed=4).image, str(jpeg), 300)
    result, pdf = searchable(jpeg, tmp_path)
    assert_same_text(result, pdf)
    ((kind, raw, _),) = images(pdf)
    assert kind == "/DCTDecode"
    assert raw == jpeg.read_bytes()


def test_words_of_the_text_layer_sit_on_the_words_of_the_image(
    header_png: Path, tmp_path: Path
) -> None:
    result, pdf = searchable(header_png, tmp_path)
    html = subprocess.run(
        ["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    found = [
        (m[4], float(m[0]), float(m[1]), float(m[2]), float(m[3]))
        for m in re.findall(
            r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>',
            html,
        )
    ]
    words = result.pages[0].words
    assert len(found) == len(words)
    points = 72 / 300
    for word in words:
        left, top, right, bottom = (v * points for v in word.bbox)
        same = [f for f in found if f[0] == html_escape(word.text)]
        assert same, word
        _, x_min, y_min, x_max, y_max = min(same, key=lambda f: abs(f[1] - left) + abs(f[2] - top))
        assert abs(x_min - left) < 0.5  # starts where the word starts
        assert right - 0.5 <= x_max  # and covers it
        assert y_min <= (top + bottom) / 2 <= y_max  # on the same line


def test_a_scanned_pdf_keeps_its_page_and_gains_a_text_layer(
    header_page: Page, tmp_path: Path
) -> None:
    scan = tmp_path / "scan.pdf"
    rgb = Image.fromarray(cv2.cvtColor(header_page.image, cv2.COLOR_BGR2RGB))
    rgb.save(scan, "PDF", resolution=300.0)  # an image-only PDF, as a scanner makes
    ((_, before, _),) = images(scan)
    result, pdf = searchable(scan, tmp_path)
    assert result.pages[0].source == "ocr"
    assert_same_text(result, pdf)
    ((_, after, _),) = images(pdf)
    assert after == before


def test_a_page_turned_upright_gets_rotate_and_its_text(header_page: Page, tmp_path: Path) -> None:
    turned = tmp_path / "turned.png"
    write_image(rotate(header_page.image, 90), str(turned), 300)
    result, pdf = searchable(turned, tmp_path)
    assert result.pages[0].rotation == 90
    with pikepdf.open(pdf) as doc:
        assert int(doc.pages[0].obj.Rotate) == 90
    assert normalise(pdftotext(pdf)) == normalise(result.text)


@pytest.mark.parametrize("frames", [3])
def test_multi_page_tiff_gives_one_pdf_page_per_frame(
    header_page: Page, tmp_path: Path, frames: int
) -> None:
    small = cv2.resize(header_page.image[:700], None, fx=0.5, fy=0.5)
    pil = [Image.fromarray(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)) for _ in range(frames)]
    tiff = tmp_path / "pages.tif"
    pil[0].save(tiff, save_all=True, append_images=pil[1:], dpi=(150, 150), compression="tiff_lzw")
    result, pdf = searchable(tiff, tmp_path)
    assert [p.number for p in result.pages] == list(range(1, frames + 1))
    assert len(pypdf.PdfReader(pdf).pages) == frames
    assert result.text.count("\f") == frames - 1
    assert normalise(pdftotext(pdf)) == normalise(result.text)


def test_a_pdf_page_stored_sideways_with_rotate_keeps_it(header_page: Page, tmp_path: Path) -> None:
    scan = tmp_path / "sideways.pdf"
    sideways = Image.fromarray(cv2.cvtColor(rotate(header_page.image, 90), cv2.COLOR_BGR2RGB))
    sideways.save(scan, "PDF", resolution=300.0)
    with pikepdf.open(scan, allow_overwriting_input=True) as pdf:
        pdf.pages[0].obj.Rotate = 90  # the viewer turns it upright; so does PDFium
        pdf.save(scan)
    result, pdf_path = searchable(scan, tmp_path)
    assert result.pages[0].rotation == 0
    assert_same_text(result, pdf_path)
    with pikepdf.open(pdf_path) as pdf:
        assert int(pdf.pages[0].obj.Rotate) == 90
