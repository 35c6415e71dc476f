"""What a payload file says about itself: page count and searchable text (PDF text layer, .txt)."""

from __future__ import annotations

from pathlib import Path

from motcua.errors import InputFileError
from motcua.pdfium import open_pdf
from motcua.types import nfc
from storage.record import DocumentInfo


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
