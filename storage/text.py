"""What a payload file says about itself: page count and searchable text (PDF text layer, .txt)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

from motcua.errors import InputFileError
from motcua.pdfium import open_pdf
from motcua.types import nfc
from storage.record import DocumentInfo

log = logging.getLogger(__name__)


def describe_file(path: Path, name: str) -> tuple[DocumentInfo, str]:
    """A `DocumentInfo` with the page count, and the file's text (empty for images)."""
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        try:
            with open_pdf(path) as pdf:
                texts = []
                for index in range(len(pdf)):
                    page = pdf[index]
                    textpage = page.get_textpage()
                    texts.append(textpage.get_text_range())
                    textpage.close()
                    page.close()
                info = DocumentInfo(file=name, page_count=len(pdf))
        except InputFileError as exc:
            raise InputFileError(
                path, f"not a readable PDF ({exc.reason})", hint="check the file or archive as-is"
            ) from None
        return info, nfc("\n".join(texts))
    if suffix in {".txt", ".text"}:
        return DocumentInfo(file=name, page_count=1), nfc(
            path.read_text(encoding="utf-8", errors="replace")
        )
    if suffix in {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp"}:
        return DocumentInfo(file=name, page_count=1), ""
    return DocumentInfo(file=name, page_count=0), ""


def files_text(paths: Iterable[Path]) -> str:
    """The text of the files motcua made for a record (a signed result, a receipt or a form):
    their PDF text layers, so the record is found by what they say. A file whose text cannot
    be read adds none (logged by file name) and the record is archived all the same."""
    texts = []
    for path in paths:
        try:
            texts.append(describe_file(path, path.name)[1])
        except (InputFileError, OSError) as exc:
            log.warning("no searchable text from %s: %s", path.name, exc.__class__.__name__)
    return "\n\f".join(t for t in texts if t.strip())
