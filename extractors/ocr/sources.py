"""Input files to page images, lazily: PNG, JPEG, TIFF (multi-page), BMP, WebP and PDF.

Files are recognised by their first bytes, not their extension. `page_refs(path)` checks a file and
lists its pages without decoding them; `load_page(ref)` decodes one page (PDF pages rasterised
with pypdfium2 at 300 dpi). Bad input becomes `InputFileError` naming the file and the reason:
empty, truncated, not an image, password-protected, or a decompression bomb.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from motcua.errors import InputFileError

PDF_DPI = 300
MAX_PIXELS = 180_000_000  # about an A0 sheet at 300 dpi; beyond that it is a bomb, not a scan
HINT_RESCAN = "quét lại tài liệu, hoặc lưu thành PDF, PNG, JPEG, TIFF (scan again or re-export)"

Kind = Literal["pdf", "image"]
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
    (b"II+\x00", "tiff"),
    (b"BM", "bmp"),
)


@dataclass(frozen=True)
class PageRef:
    """One page of one file, cheap to pickle to a worker process."""

    path: str
    kind: Kind
    index: int  # 0-based page or frame index
    format: str  # pdf, png, jpeg, tiff, bmp, webp

    @property
    def number(self) -> int:
        return self.index + 1


@dataclass(frozen=True)
class SourceImage:
    """A decoded page: BGR or grey pixels and their resolution."""

    number: int
    image: np.ndarray[Any, Any]
    dpi: float


def sniff(path: Path) -> str:
    """The file's format from its first bytes: pdf, png, jpeg, tiff, bmp or webp."""
    try:
        with path.open("rb") as handle:
            head = handle.read(1024)
    except FileNotFoundError:
        raise InputFileError(
            path, "không có tệp này (no such file)", hint="kiểm tra đường dẫn"
        ) from None
    except IsADirectoryError:
        raise InputFileError(
            path, "là thư mục, không phải tệp (a folder)", hint="chỉ ra từng tệp trong thư mục"
        ) from None
    except OSError as exc:
        raise InputFileError(path, f"không đọc được tệp (cannot be read: {exc.strerror})") from None
    if not head:
        raise InputFileError(path, "tệp rỗng (empty file, 0 bytes)", hint=HINT_RESCAN)
    if b"%PDF-" in head:
        return "pdf"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return name
    raise InputFileError(
        path,
        "không phải ảnh hay PDF (not an image or PDF)",
        hint="motcua đọc PDF, PNG, JPEG, TIFF",
    )


def _open_pdf(path: Path) -> Any:
    import pypdfium2 as pdfium

    try:
        return pdfium.PdfDocument(str(path))  # an empty user password is tried by PDFium itself
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise InputFileError(
                path,
                "PDF được bảo vệ bằng mật khẩu (password-protected PDF)",
                hint="xin bản không có mật khẩu, hoặc gỡ mật khẩu trước",
            ) from None
        raise InputFileError(path, f"PDF bị hỏng (damaged PDF: {exc})", hint=HINT_RESCAN) from None


def _open_image(path: Path) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(path)
    except Image.DecompressionBombError:
        raise InputFileError(
            path, "ảnh quá lớn, không phải một trang scan (decompression bomb?)", hint=HINT_RESCAN
        ) from None
    except UnidentifiedImageError:
        raise InputFileError(
            path, "ảnh bị hỏng hoặc không hỗ trợ (damaged image)", hint=HINT_RESCAN
        ) from None
    except OSError as exc:
        raise InputFileError(
            path, f"không đọc được ảnh (cannot read: {exc})", hint=HINT_RESCAN
        ) from None
    width, height = image.size
    if width * height > MAX_PIXELS:
        image.close()
        raise InputFileError(
            path,
            f"ảnh {width}×{height} điểm ảnh, quá lớn, không phải một trang scan (too large)",
            hint="quét ở 300 dpi",
        )
    return image


def page_refs(path: Path | str) -> list[PageRef]:
    """Check that `path` is a readable image or PDF and list its pages (nothing decoded)."""
    path = Path(path)
    fmt = sniff(path)
    if fmt == "pdf":
        document = _open_pdf(path)
        try:
            count = len(document)
        finally:
            document.close()
        if count == 0:
            raise InputFileError(path, "PDF không có trang nào (no pages)", hint=HINT_RESCAN)
        return [PageRef(str(path), "pdf", i, fmt) for i in range(count)]
    with _open_image(path) as image:
        frames = int(getattr(image, "n_frames", 1))
    return [PageRef(str(path), "image", i, fmt) for i in range(frames)]


def _guess_dpi(info: Any, size: tuple[int, int]) -> float:
    dpi = info.get("dpi")
    try:
        value = float(dpi[0]) if dpi else 0.0
    except (TypeError, ValueError):
        value = 0.0
    if 100 <= value <= 1200:
        return value
    # phone photos say 72 dpi or nothing: assume the long side is an A4 sheet's (11.69 in)
    return float(min(max(max(size) / 11.69, 72.0), 600.0))


def to_array(image: Image.Image) -> np.ndarray[Any, Any]:
    """PIL image → grey (uint8) or BGR array; 16-bit scaled to 8, palettes expanded."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        array = np.asarray(image, dtype=np.float64)
        top = float(array.max()) or 1.0
        return (array * (255.0 / top)).astype(np.uint8)
    if image.mode in ("1", "L"):
        return np.asarray(image.convert("L"))
    if image.mode == "LA":
        return np.asarray(image.convert("L"))
    rgb = np.asarray(image.convert("RGB"))
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)


def load_image_frame(path: Path, index: int) -> tuple[Image.Image, float]:
    """One frame of an image file, decoded, EXIF orientation applied, and its dpi."""
    image = _open_image(path)
    try:
        if index:
            image.seek(index)
        image.load()
        dpi = _guess_dpi(image.info, image.size)
        upright = ImageOps.exif_transpose(image)
        if upright is not image:
            upright.load()
        return upright if upright is not None else image, dpi
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        truncated = "truncated" in str(exc).lower()
        reason = "bị cắt cụt (truncated)" if truncated else f"bị hỏng (damaged: {exc})"
        raise InputFileError(path, f"ảnh {reason}", hint=HINT_RESCAN) from None


def render_pdf_page(path: Path, index: int, dpi: float = PDF_DPI) -> SourceImage:
    """Rasterise one PDF page (BGR) at `dpi`, lowered if the page would exceed `MAX_PIXELS`."""
    document = _open_pdf(path)
    try:
        page = document[index]
        width_pt, height_pt = page.get_size()
        scale = dpi / 72.0
        if width_pt * height_pt * scale * scale > MAX_PIXELS:
            scale = (MAX_PIXELS / (width_pt * height_pt)) ** 0.5
        bitmap = page.render(scale=scale)
        array = np.array(bitmap.to_numpy(), copy=True)
        # free PDFium's buffers now, not when the garbage collector gets round to them
        bitmap.close()
        page.close()
        if array.ndim == 3 and array.shape[2] == 4:
            array = cv2.cvtColor(array, cv2.COLOR_BGRA2BGR)
        return SourceImage(index + 1, array, scale * 72.0)
    except InputFileError:
        raise
    except Exception as exc:  # PDFium reports damage in many ways
        raise InputFileError(
            path, f"không dựng được trang {index + 1} (cannot render: {exc})"
        ) from None
    finally:
        document.close()


def load_page(ref: PageRef) -> SourceImage:
    """Decode one page of a file."""
    path = Path(ref.path)
    if ref.kind == "pdf":
        return render_pdf_page(path, ref.index)
    image, dpi = load_image_frame(path, ref.index)
    with image:
        return SourceImage(ref.number, to_array(image), dpi)


def iter_pages(path: Path | str) -> Iterator[SourceImage]:
    """Page images of a file, one at a time (a 500-page PDF is never all in memory)."""
    for ref in page_refs(path):
        yield load_page(ref)
