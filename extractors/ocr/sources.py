"""Input files to page images, lazily: PNG, JPEG, TIFF (multi-page), BMP, WebP and PDF.

Files are recognised by their first bytes, not their extension. `page_refs(path)` checks a file and
lists its pages without decoding them; `load_page(ref)` decodes one page (PDF pages rasterised
with pypdfium2 at 300 dpi). Bad input becomes `InputFileError` naming the file and the reason:
empty, truncated, not an image, password-protected, or a decompression bomb.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np
from PIL import Image, ImageOps

from motcua.errors import InputFileError
from motcua.inputs import (
    HINT_RESCAN,
    InputLimits,
    check_file,
    check_image_size,
    check_regular,
    default_limits,
    open_image_header,
    read_head,
    sniff_head,
)
from motcua.pdfium import page_image

PDF_DPI = 300

Kind = Literal["pdf", "image"]


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
    """The format of a regular file from its first bytes: pdf, png, jpeg, tiff, bmp or webp."""
    check_regular(path)
    return sniff_head(path, read_head(path))


def _open_image(path: Path, limits: InputLimits | None = None) -> Image.Image:
    image: Image.Image = open_image_header(path, limits or default_limits())
    return image


def page_refs(path: Path | str, limits: InputLimits | None = None) -> list[PageRef]:
    """Pass `path` through the input gate and list its pages (nothing decoded)."""
    info = check_file(path, limits)
    return [PageRef(str(info.path), info.kind, i, info.format) for i in range(info.count)]


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


def load_image_frame(
    path: Path, index: int, limits: InputLimits | None = None
) -> tuple[Image.Image, float]:
    """One frame of an image file, decoded, EXIF orientation applied, and its dpi."""
    limits = limits or default_limits()
    check_regular(path, limits)
    image = _open_image(path, limits)
    try:
        if index:
            image.seek(index)
            check_image_size(path, image.size, limits)  # each frame has its own header
        image.load()
        dpi = _guess_dpi(image.info, image.size)
        upright = ImageOps.exif_transpose(image)
        if upright is not image:
            upright.load()
        return upright if upright is not None else image, dpi
    except InputFileError:
        image.close()
        raise
    except Exception as exc:  # Pillow reports damaged data in many ways
        image.close()
        truncated = "truncated" in str(exc).lower()
        reason = "bị cắt cụt (truncated)" if truncated else f"bị hỏng (damaged: {exc})"
        raise InputFileError(path, f"ảnh {reason}", hint=HINT_RESCAN) from None


def render_pdf_page(
    path: Path, index: int, dpi: float = PDF_DPI, limits: InputLimits | None = None
) -> SourceImage:
    """Rasterise one PDF page (BGR or grey) at `dpi`, lowered to stay within the pixel limit."""
    limits = limits or default_limits()
    image, drawn_dpi = page_image(path, index, dpi=dpi, max_pixels=limits.max_pixels)
    with image:
        return SourceImage(index + 1, to_array(image), drawn_dpi)


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


def preview_image(path: Path | str, index: int, width: int) -> Image.Image:
    """Page `index` (0-based) of a scan or PDF as an RGB or grey image at most `width` wide,
    for page previews. `IndexError` for a page the file does not have."""
    path = Path(path)
    if sniff(path) == "pdf":
        image, _ = page_image(path, index, dpi=PDF_DPI, width=width)
    else:
        with _open_image(path) as probe:
            if not 0 <= index < int(getattr(probe, "n_frames", 1)):
                raise IndexError(index)
        frame, _ = load_image_frame(path, index)
        with frame:
            if frame.width > width:
                height = max(1, round(frame.height * width / frame.width))
                image = frame.resize((width, height), Image.Resampling.LANCZOS)
            else:
                image = frame.copy()
    if image.mode not in ("L", "RGB"):
        image = image.convert("RGB")
    return image
