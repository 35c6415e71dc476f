"""Bad input gets a clear error and the batch goes on; big documents stream in bounded memory."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pikepdf
import pytest
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from extractors.ocr import OcrOptions, iter_pages, ocr_document, page_refs
from extractors.ocr.sources import sniff
from motcua.errors import ExitCode, InputFileError
from samples.pages import Page

ROOT = Path(__file__).resolve().parents[2]


def png_bomb(path: Path, width: int = 60000, height: int = 60000) -> Path:
    """A real, valid 1-bit PNG of width×height white pixels: a few hundred KB on disk."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    row = b"\x00" + b"\xff" * ((width + 7) // 8)
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )
    return path


def text_pdf(path: Path, pages: int) -> Path:
    """A born-digital PDF of `pages` A4 pages, each with a line of Vietnamese text."""
    pdfmetrics.registerFont(TTFont("DejaVuSans", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"))
    pdf = canvas.Canvas(str(path), pagesize=A4)
    for number in range(1, pages + 1):
        pdf.setFont("DejaVuSans", 12)
        pdf.drawString(
            72, 760, f"Trang {number}: Cộng hòa xã hội chủ nghĩa Việt Nam, hồ sơ số {number}"
        )
        pdf.showPage()
    pdf.save()
    return path


def motcua(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    return subprocess.run(
        [sys.executable, "-m", "motcua", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory: pytest.TempPathFactory, header_png: Path) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bad")
    files = {
        "empty": folder / "empty.png",
        "not-an-image": folder / "notes.png",
        "truncated-png": folder / "truncated.png",
        "truncated-jpeg": folder / "truncated.jpg",
        "password": folder / "password.pdf",
        "bomb": png_bomb(folder / "bomb.png"),
    }
    files["empty"].write_bytes(b"")
    files["not-an-image"].write_text("Biên bản họp, không phải ảnh\n", encoding="utf-8")
    data = header_png.read_bytes()
    files["truncated-png"].write_bytes(data[: len(data) // 3])
    from PIL import Image

    with Image.open(header_png) as image:
        image.convert("RGB").save(folder / "whole.jpg", quality=85)
    whole = (folder / "whole.jpg").read_bytes()
    files["truncated-jpeg"].write_bytes(whole[: len(whole) // 2])
    plain = pikepdf.new()
    plain.add_blank_page()
    plain.save(files["password"], encryption=pikepdf.Encryption(user="mật-khẩu", owner="x"))
    return files


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("empty", "rỗng"),
        ("not-an-image", "không phải ảnh hay PDF"),
        ("truncated-png", "bị cắt cụt"),
        ("truncated-jpeg", "bị cắt cụt"),
        ("password", "mật khẩu"),
        ("bomb", "quá lớn"),
    ],
)
def test_bad_input_gets_a_clear_error(bad_files: dict[str, Path], name: str, reason: str) -> None:
    with pytest.raises(InputFileError) as caught:
        ocr_document(bad_files[name], OcrOptions(jobs=1))
    error = caught.value
    assert error.exit_code == ExitCode.bad_input
    assert str(bad_files[name]) in str(error)
    assert reason in error.reason


def test_missing_file_and_folder_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="không có tệp"):
        ocr_document(tmp_path / "absent.png")
    with pytest.raises(InputFileError, match="thư mục"):
        ocr_document(tmp_path)


def test_files_are_recognised_by_content_not_extension(header_png: Path, tmp_path: Path) -> None:
    disguised = tmp_path / "scan.pdf"
    disguised.write_bytes(header_png.read_bytes())
    assert sniff(disguised) == "png"
    assert "CỘNG HÒA" in ocr_document(disguised, OcrOptions(jobs=1)).text


def test_a_page_over_the_timeout_is_reported_not_hung(header_png: Path) -> None:
    result = ocr_document(header_png, OcrOptions(jobs=1, page_timeout=0.05))
    (page,) = result.pages
    assert page.error is not None and "0.05" in page.error
    assert page.text == ""
    assert result.warnings == (f"trang 1: {page.error}",)


def test_a_500_page_pdf_streams_through_the_pool(tmp_path: Path) -> None:
    path = text_pdf(tmp_path / "big.pdf", 500)
    assert len(page_refs(path)) == 500
    result = ocr_document(path, OcrOptions(jobs=2))
    assert [p.number for p in result.pages] == list(range(1, 501))
    assert all(p.source == "text-layer" for p in result.pages)
    assert result.pages[499].text == ("Trang 500: Cộng hòa xã hội chủ nghĩa Việt Nam, hồ sơ số 500")


def test_rasterising_a_long_pdf_holds_one_page_at_a_time(tmp_path: Path) -> None:
    path = text_pdf(tmp_path / "long.pdf", 120)
    # in a fresh process: render all 120 pages at 300 dpi (25 MB each), report the peak memory
    script = (
        "import sys\n"
        "from extractors.ocr import iter_pages\n"
        "pages = iter_pages(sys.argv[1])\n"
        "count = sum(1 for page in pages if page.image.shape[0] > 3400)\n"
        "status = open('/proc/self/status').read().split('VmHWM:')[1]\n"  # peak of this process
        "print(count, int(status.split()[0]) // 1024)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        timeout=300,
    ).stdout.split()
    count, peak_mib = int(out[0]), int(out[1])
    assert count == 120
    assert peak_mib < 400  # all 120 pages at once would take about 3000 MiB


def test_iter_pages_is_lazy(tmp_path: Path) -> None:
    path = text_pdf(tmp_path / "lazy.pdf", 3)
    pages = iter_pages(path)
    first = next(pages)
    assert first.number == 1 and first.dpi == pytest.approx(300)
    assert [p.number for p in pages] == [2, 3]


def test_cli_batch_reports_bad_files_and_exits_2(
    bad_files: dict[str, Path], header_png: Path, header_page: Page, tmp_path: Path
) -> None:
    tiff = tmp_path / "two.tif"
    from PIL import Image

    with Image.open(header_png) as image:
        grey = image.convert("L")
        grey.save(tiff, save_all=True, append_images=[grey], dpi=(300, 300))
    result = motcua(
        "ocr", "--json", "--jobs", "2", str(bad_files["empty"]), str(tiff), str(bad_files["bomb"])
    )
    assert result.returncode == ExitCode.bad_input, result.stderr
    assert "Traceback" not in result.stderr
    assert str(bad_files["empty"]) in result.stderr and str(bad_files["bomb"]) in result.stderr
    assert "2 of 3" in result.stderr
    lines = [json.loads(line) for line in result.stdout.strip().split("\n")]
    failed = [line for line in lines if line.get("ok") is False]
    assert sorted(line["path"] for line in failed) == sorted(
        [str(bad_files["empty"]), str(bad_files["bomb"])]
    )
    assert all(set(line) == {"path", "ok", "error", "hint"} and line["error"] for line in failed)
    (record,) = [line for line in lines if line.get("ok") is not False]
    assert record["path"] == str(tiff)
    assert [p["number"] for p in record["pages"]] == [1, 2]
    assert set(record["pages"][0]) == {"number", "text", "confidence", "width", "height", "source"}
    assert record["pages"][0]["source"] == "ocr"
    assert record["pages"][0]["confidence"] > 0.8
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in record["pages"][1]["text"]
    assert record["seconds"] > 0


def test_cli_text_output_and_searchable_pdf(header_png: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.pdf"
    result = motcua(
        "ocr", "--pdf", str(out), "--debug-images", str(tmp_path / "dbg"), str(header_png)
    )
    assert result.returncode == 0, result.stderr
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in result.stdout
    assert out.read_bytes().startswith(b"%PDF-")
    assert any((tmp_path / "dbg").rglob("*-grey.png"))
    text = subprocess.run(
        ["pdftotext", "-raw", str(out), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert " ".join(text.split()) == " ".join(result.stdout.split())


def test_cli_refuses_one_pdf_for_several_inputs(header_png: Path, tmp_path: Path) -> None:
    result = motcua("ocr", "--pdf", str(tmp_path / "x.pdf"), str(header_png), str(header_png))
    assert result.returncode == ExitCode.bad_input
    assert "--pdf" in result.stderr and "Traceback" not in result.stderr


def test_cli_reads_several_files_at_once_and_answers_in_their_order(
    bad_files: dict[str, Path], header_png: Path, tmp_path: Path
) -> None:
    copies = []
    for name in ("c", "a", "e", "b"):
        copy = tmp_path / f"{name}.png"
        copy.write_bytes(header_png.read_bytes())
        copies.append(copy)
    given = [copies[0], bad_files["empty"], copies[1], copies[2], copies[3]]
    result = motcua("ocr", "--json", "--jobs", "2", *map(str, given))
    assert result.returncode == ExitCode.bad_input, result.stderr
    lines = [json.loads(line) for line in result.stdout.strip().split("\n")]
    assert [line["path"] for line in lines] == [str(p) for p in given]
    assert [line.get("ok") for line in lines] == [None, False, None, None, None]
    assert all("CỘNG HÒA" in line["pages"][0]["text"] for line in lines if "pages" in line)
