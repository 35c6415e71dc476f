"""PDFium (pypdfium2) behind one process-wide lock, and the one page-to-image function.

pypdfium2 forbids concurrent calls from several threads (PDFium keeps global state), and the web
server and intake OCR pages on thread pools: every use of PDFium in the project goes through
`open_pdf` (the lock is held while the document is open) or `page_image`. Imports only
`motcua.errors` from the project, so every library may use it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from PIL import Image

from motcua.errors import InputFileError

# Re-entrant: a function holding a document open may call another that opens one.
PDFIUM_LOCK = threading.RLock()
DEFAULT_MAX_PIXELS = 60_000_000


def _name(source: Path | str | bytes, name: str | None) -> str:
    if name is not None:
        return name
    return "<bytes>" if isinstance(source, bytes) else str(source)


@contextmanager
def open_pdf(source: Path | str | bytes, *, name: str | None = None) -> Iterator[Any]:
    """A `pypdfium2.PdfDocument`, opened and used under `PDFIUM_LOCK`, closed on exit.

    An empty user password is tried (PDFium does it itself); a password-protected or
    damaged file becomes `InputFileError` naming `name` (default: the path)."""
    import pypdfium2 as pdfium

    shown = _name(source, name)
    with PDFIUM_LOCK:
        try:
            document = pdfium.PdfDocument(source if isinstance(source, bytes) else str(source))
        except pdfium.PdfiumError as exc:
            if "password" in str(exc).lower():
                raise InputFileError(
                    shown,
                    "PDF được bảo vệ bằng mật khẩu (password-protected PDF)",
                    hint="xin bản không có mật khẩu, hoặc gỡ mật khẩu trước",
                ) from None
            raise InputFileError(
                shown,
                f"PDF bị hỏng (damaged PDF: {exc})",
                hint="quét lại tài liệu, hoặc lưu lại thành PDF (scan or export again)",
            ) from None
        try:
            yield document
        finally:
            document.close()


def page_image(
    source: Path | str | bytes,
    index: int,
    *,
    dpi: float = 300.0,
    width: int | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    name: str | None = None,
) -> tuple[Image.Image, float]:
    """Page `index` (0-based) rasterised: (RGB or grey PIL image, the dpi it was drawn at).

    `width` caps the image width in pixels (page previews); the scale is lowered further so
    the image never holds more than `max_pixels`. `IndexError` for a page that does not
    exist; `InputFileError` for a page PDFium cannot draw."""
    shown = _name(source, name)
    with open_pdf(source, name=shown) as document:
        if not 0 <= index < len(document):
            raise IndexError(index)
        page = document[index]
        try:
            width_pt, height_pt = page.get_size()
            width_pt, height_pt = max(width_pt, 1.0), max(height_pt, 1.0)
            scale = dpi / 72.0
            if width is not None:
                scale = min(scale, width / width_pt)
            if width_pt * height_pt * scale * scale > max_pixels:
                scale = (max_pixels / (width_pt * height_pt)) ** 0.5
            bitmap = page.render(scale=scale)
            try:
                image = bitmap.to_pil().copy()  # the bitmap's buffer goes with the page
            finally:
                bitmap.close()
        except InputFileError:
            raise
        except Exception as exc:  # PDFium reports damage in many ways
            raise InputFileError(
                shown, f"không dựng được trang {index + 1} (cannot render: {exc})"
            ) from None
        finally:
            page.close()
    return image, scale * 72.0
