"""A page's whole work is bounded in time, rasterising included (issue 14): PDFium's rendering runs
in C code no exception interrupts, so a page that outlasts its limit has its worker process
stopped; that page fails, the file's other pages and the batch's other files are read."""

from __future__ import annotations

import json
from pathlib import Path

import pikepdf
import pytest

from extractors.ocr import OcrOptions, ocr_document, page_refs, read_page
from extractors.ocr.document import new_pool
from motcua.errors import ExitCode
from samples.hostile import slow_raster_pdf
from tests.ocr.test_ocr_inputs import motcua

# 100000 dashed lines: about 50 s of rasterising at 300 dpi on an idle core of this machine
SLOW_LINES = 100_000


@pytest.fixture(scope="module")
def slow_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("slow") / "slow.pdf"
    path.write_bytes(slow_raster_pdf(SLOW_LINES))
    return path


@pytest.fixture(scope="module")
def slow_then_text(slow_pdf: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Page 1 the slow page, page 2 a page with a text layer."""
    path = tmp_path_factory.mktemp("mixed") / "mixed.pdf"
    text = Path(__file__).resolve().parents[2] / "build" / "_bounds_text.pdf"
    text.parent.mkdir(exist_ok=True)
    from reportlab.pdfgen import canvas

    page = canvas.Canvas(str(text))
    page.setFont("Helvetica", 14)
    for row in range(30):
        page.drawString(72, 760 - 20 * row, f"Dong so {row}: the text layer of this page is good")
    page.save()
    with pikepdf.open(slow_pdf) as slow, pikepdf.open(text) as good:
        slow.pages.extend(good.pages)
        slow.save(path)
    return path


def test_a_page_slow_to_rasterise_fails_alone_and_the_next_page_is_read(
    slow_then_text: Path,
) -> None:
    options = OcrOptions(jobs=1, page_timeout=0.5, page_grace=0.5)
    pool = new_pool(options)
    try:
        result = ocr_document(slow_then_text, options, pool=pool)
    finally:
        pool.stop()  # type: ignore[no-untyped-call]
        pool.join()
    first, second = result.pages
    assert first.error is not None and "quá 1 s nên đã dừng" in first.error
    assert "MOTCUA_OCR_PAGE_TIMEOUT" in first.error
    assert second.error is None and "Dong so 29" in second.text
    assert result.warnings == (f"trang 1: {first.error}",)


def test_the_intake_flows_page_reader_is_bounded_too(slow_then_text: Path) -> None:
    """`read_page` (the intake flow's, on threads) reads in the process's shared pool."""
    slow, good = page_refs(slow_then_text)
    options = OcrOptions(jobs=1, page_timeout=0.5, page_grace=0.5)
    page = read_page(slow, options)
    assert page.error is not None and "quá 1 s nên đã dừng" in page.error
    # the pool replaced the stopped worker: the next page is read
    after = read_page(good, options)
    assert after.error is None and "Dong so 29" in after.text


def test_ocr_batch_reports_the_slow_file_and_reads_the_good_one(
    slow_pdf: Path, header_png: Path
) -> None:
    done = motcua("ocr", "--json", "--timeout", "10", str(slow_pdf), str(header_png))
    assert done.returncode == ExitCode.bad_input, done.stderr
    assert "Traceback" not in done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    by_file = {Path(line["path"]).name: line for line in lines}
    header_text = " ".join(page["text"] for page in by_file[header_png.name]["pages"])
    assert "CỘNG HÒA" in header_text
    slow_page = by_file[slow_pdf.name]["pages"][0]
    assert "quá 15 s nên đã dừng" in slow_page["error"]
    assert f"{slow_pdf}: trang 1: đọc trang quá 15 s" in done.stderr
