"""End to end with real Tesseract: generated documents written to files, read back through
`extract_fields` and `motcua extract`. Each document is OCR'd once per module (fixtures)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from extractors.fields import Extraction, extract_fields
from extractors.fields.api import NO_CARD, NO_QR, UNKNOWN_KIND
from motcua.errors import InputFileError
from motcua.types import nfc
from samples.documents import (
    Document,
    make_card,
    make_declaration,
    make_marital_declaration,
    make_official,
)
from samples.pages import render_page

MOTCUA = str(Path(sys.executable).with_name("motcua"))


def _same(key: str, got: object, truth: object) -> bool:
    if isinstance(truth, tuple):
        return isinstance(got, tuple) and [nfc(g) for g in got] == [nfc(t) for t in truth]
    text = " ".join(nfc(str(got)).split())
    return (
        text.casefold() == nfc(str(truth)).casefold()
        if "ho_ten" in key
        else (text == nfc(str(truth)))
    )


def _write(doc: Document, folder: Path, name: str) -> Path:
    path = folder / name
    cv2.imwrite(
        str(path), doc.image, [cv2.IMWRITE_JPEG_QUALITY, 95] if name.endswith("jpg") else []
    )
    return path


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fields")


@pytest.fixture(scope="module")
def card(folder: Path) -> tuple[Document, Path, Extraction]:
    doc = make_card(11, "scanned", layout=7, angle=22.0)
    path = _write(doc, folder, "card.jpg")
    return doc, path, extract_fields(path)


@pytest.fixture(scope="module")
def declaration(folder: Path) -> tuple[Document, Path, Extraction]:
    doc = make_declaration(12, "clean")
    path = _write(doc, folder, "to-khai.png")
    return doc, path, extract_fields(path)


@pytest.fixture(scope="module")
def official(folder: Path) -> tuple[Document, Path, Extraction]:
    doc = make_official(13, "scanned")
    path = _write(doc, folder, "van-ban.png")
    return doc, path, extract_fields(path)


def _check_no_silent_errors(doc: Document, result: Extraction, min_exact: float) -> None:
    assert result.kind == doc.kind
    wrong = {
        k: (result.fields[k].value if k in result.fields else None, t)
        for k, t in doc.truth.items()
        if k not in result.fields or not _same(k, result.fields[k].value, t)
    }
    silent = {
        k: v for k, v in wrong.items() if k in result.fields and not result.fields[k].needs_review
    }
    assert silent == {}, silent
    assert 1 - len(wrong) / len(doc.truth) >= min_exact, wrong


def test_card_photo(card: tuple[Document, Path, Extraction]) -> None:
    doc, _, result = card
    _check_no_silent_errors(doc, result, 0.9)
    for key in ("so_dinh_danh", "ho_ten", "ngay_sinh", "gioi_tinh", "noi_thuong_tru", "ngay_cap"):
        assert result.fields[key].source == "qr"
        assert result.fields[key].value == doc.truth[key]
    assert result.fields["que_quan"].source == "ocr"


def test_declaration(declaration: tuple[Document, Path, Extraction]) -> None:
    doc, _, result = declaration
    _check_no_silent_errors(doc, result, 0.9)
    for key in ("nguoi_yeu_cau.so_dinh_danh", "me.so_dinh_danh", "cha.so_dinh_danh"):
        field = result.fields[key]
        assert field.value == doc.truth[key] or field.needs_review


@pytest.mark.parametrize(("seed", "level"), [(21, "clean"), (22, "scanned")])
def test_marital_status_declaration(folder: Path, seed: int, level: str) -> None:
    """Circular 04/2020's form: recognised by its own keywords, both people's fields read, the
    ID numbers taken out of the 'Giấy tờ tùy thân' sentences."""
    doc = make_marital_declaration(seed, level)
    result = extract_fields(_write(doc, folder, f"xac-nhan-{seed}.png"))
    _check_no_silent_errors(doc, result, 0.9)
    for key in ("nguoi_yeu_cau.so_dinh_danh", "nguoi_duoc_cap.so_dinh_danh"):
        assert result.fields[key].value == doc.truth[key]
    assert (
        result.fields["nguoi_duoc_cap.tinh_trang_hon_nhan"].value
        == doc.truth["nguoi_duoc_cap.tinh_trang_hon_nhan"]
    )


def test_official_document(official: tuple[Document, Path, Extraction]) -> None:
    doc, _, result = official
    _check_no_silent_errors(doc, result, 0.85)


def test_card_without_qr_is_read_from_print_with_a_warning(folder: Path) -> None:
    doc = make_card(14, "clean", with_qr=False)
    result = extract_fields(_write(doc, folder, "no-qr.jpg"))
    assert result.kind == "cccd" and NO_QR in result.warnings
    assert all(f.source == "ocr" for f in result.fields.values())
    number = result.fields["so_dinh_danh"]
    assert number.value == doc.truth["so_dinh_danh"] or number.needs_review


def test_photo_without_a_card(folder: Path) -> None:
    rng = np.random.default_rng(5)
    desk = np.clip(rng.normal(100, 25, (900, 1200, 3)), 0, 255).astype(np.uint8)
    path = folder / "desk.jpg"
    cv2.imwrite(str(path), desk)
    result = extract_fields(path, kind="cccd")
    assert result.kind == "cccd" and result.fields == {}
    assert NO_CARD in result.warnings


def test_unknown_form(folder: Path) -> None:
    page = render_page(21, header=False, paragraphs=4)
    path = folder / "unknown.png"
    cv2.imwrite(str(path), page.image)
    result = extract_fields(path)
    assert result.kind == "unknown" and result.fields == {}
    assert UNKNOWN_KIND in result.warnings


def test_unreadable_files_raise_input_errors(folder: Path) -> None:
    broken = folder / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    with pytest.raises(InputFileError):
        extract_fields(broken)
    with pytest.raises(InputFileError):
        extract_fields(folder / "missing.png")


def test_cli_json_lines_and_exit_code(
    card: tuple[Document, Path, Extraction], folder: Path, motcua_home: Path
) -> None:
    doc, path, _ = card
    broken = folder / "broken-cli.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    run = subprocess.run(
        [MOTCUA, "extract", "--json", "--kind", "cccd", str(path), str(broken)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 2, run.stderr
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    assert len(lines) == 2
    data, failed = sorted(lines, key=lambda line: line.get("ok", True) is False)
    assert set(failed) == {"path", "ok", "error", "hint"}
    assert failed["path"] == str(broken) and failed["ok"] is False and failed["error"]
    assert data["path"] == str(path) and data["kind"] == "cccd"
    number = data["fields"]["so_dinh_danh"]
    assert number == {
        "value": doc.truth["so_dinh_danh"],
        "confidence": 0.99,
        "needs_review": False,
        "source": "qr",
    }
    assert "broken-cli.png" in run.stderr and "Traceback" not in run.stderr


def test_cli_table(declaration: tuple[Document, Path, Extraction], motcua_home: Path) -> None:
    _, path, _ = declaration
    run = subprocess.run(
        [MOTCUA, "extract", "--kind", "to-khai-khai-sinh", str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "khai_sinh.ho_ten" in run.stdout and "to-khai-khai-sinh" in run.stdout


@pytest.mark.parametrize("seed", [5, 34], ids=["urgency-stamp", "received-stamp"])
def test_official_letter_in_the_offices_layout(folder: Path, seed: int) -> None:
    """The header as the offices' scans show it: `UỶ BAN NHÂN DÂN` / `TỈNH AN GIANG` on two
    lines in the old tone placement, `CỘNG HOÀ`, and a red urgency or received stamp."""
    doc = make_official(seed, "clean", real_layout=True)
    result = extract_fields(_write(doc, folder, f"real-{seed}.png"), "van-ban", second_read=False)
    _check_no_silent_errors(doc, result, 0.95)
    got = {k: f.value for k, f in result.fields.items()}
    assert got["co_quan_ban_hanh"] == "ỦY BAN NHÂN DÂN TỈNH AN GIANG"
    assert "co_quan_chu_quan" not in got
    assert got["so_ky_hieu"] == doc.truth["so_ky_hieu"]
    assert got["ngay_ban_hanh"] == doc.truth["ngay_ban_hanh"]
    assert got.get("do_khan") == doc.truth.get("do_khan")


@pytest.mark.parametrize(("seed", "level"), [(41, "clean"), (42, "scanned")])
def test_official_birth_declaration_reads_the_identity_paper(
    folder: Path, seed: int, level: str
) -> None:
    """Circular 04/2020's form as offices print it: the requester's number is read out of
    'Giấy tờ tùy thân: Căn cước công dân số 0011…, cấp ngày …' (digits grouped or not)."""
    doc = make_declaration(seed, level, official=True)
    result = extract_fields(_write(doc, folder, f"khai-sinh-{seed}.png"))
    _check_no_silent_errors(doc, result, 0.9)
    assert (
        result.fields["nguoi_yeu_cau.so_dinh_danh"].value == doc.truth["nguoi_yeu_cau.so_dinh_danh"]
    )
