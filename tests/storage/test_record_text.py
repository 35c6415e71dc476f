"""The text motcua indexes from the files it made: a file that cannot be read adds none."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from storage.text import files_text


def test_an_unreadable_file_adds_no_text_and_is_named(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    damaged = tmp_path / "bien-nhan.pdf"
    damaged.write_bytes(b"%PDF-1.7\n not a pdf at all")
    note = tmp_path / "ghi-chu.txt"
    note.write_text("Giấy tiếp nhận hồ sơ của Ngô Văn Huy", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="storage.text"):
        text = files_text([damaged, note, tmp_path / "missing.pdf"])
    assert text == "Giấy tiếp nhận hồ sơ của Ngô Văn Huy"
    assert "bien-nhan.pdf" in caplog.text and "missing.pdf" in caplog.text
    assert "Traceback" not in caplog.text
