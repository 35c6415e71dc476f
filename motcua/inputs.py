"""The input gate: every door (CLI `ocr`, `extract`, `verify`, the hot folder, web upload, API)
checks a file here before anything decodes it.

`check_file(path)` refuses what is not a regular file (a FIFO, folder or device is never opened),
what is empty or larger than the size limit, and what is not a PDF or image by its first bytes;
then, without decoding pixels, image headers (pixel count, side, frame count via Pillow's header
read) and PDFs (page count, MediaBox size, the inflated size of each Flate stream) against
`InputLimits`. Each refusal is an `InputFileError` whose Vietnamese reason names the limit and
the `MOTCUA_*` setting that raises it. Imports only `motcua.errors` and `motcua.pdfium`
(`motcua.settings` lazily, for the limits in force).
"""

from __future__ import annotations

import os
import stat
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from motcua.errors import InputFileError

Format = Literal["pdf", "png", "jpeg", "tiff", "bmp", "webp"]
HINT_RESCAN = "quét lại tài liệu, hoặc lưu thành PDF, PNG, JPEG, TIFF (scan again or re-export)"
MM_PER_PT = 25.4 / 72
_INFLATE_CHUNK = 4 * 1024 * 1024
_MAGIC: tuple[tuple[bytes, Format], ...] = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
    (b"II+\x00", "tiff"),
    (b"BM", "bmp"),
)


@dataclass(frozen=True)
class InputLimits:
    """Bounds on one input file; the field `x` is the setting `MOTCUA_INPUT_X`."""

    max_mb: float = 200.0
    max_pages: int = 500
    max_frames: int = 200
    max_megapixels: float = 60.0
    max_side_px: int = 20_000
    max_page_mm: float = 1189.0  # A0's long side; the short side may be up to 841 mm
    max_stream_mb: float = 256.0

    @property
    def max_bytes(self) -> int:
        return int(self.max_mb * 1024 * 1024)

    @property
    def max_pixels(self) -> int:
        return int(self.max_megapixels * 1_000_000)


@dataclass(frozen=True)
class InputInfo:
    """What the gate learnt: the format by content, the size, pages (PDF) or frames (image)."""

    path: Path
    format: Format
    size: int
    count: int

    @property
    def kind(self) -> Literal["pdf", "image"]:
        return "pdf" if self.format == "pdf" else "image"


def default_limits() -> InputLimits:
    """The limits in force: the `MOTCUA_INPUT_*` settings (environment, TOML file)."""
    from motcua.settings import load_settings

    return load_settings().input_limits()


def _setting(field: str) -> str:
    return f"MOTCUA_INPUT_{field.upper()}"


def _over(path: Path, what: str, limit: str, field: str, hint: str | None = None) -> InputFileError:
    return InputFileError(
        path,
        f"{what}, vượt giới hạn {limit} (thiết lập {_setting(field)})",
        hint=hint or f"tách hoặc quét lại tài liệu, hoặc nâng {_setting(field)}",
    )


def check_regular(path: Path | str, limits: InputLimits | None = None) -> int:
    """The size of `path` when it is a regular, non-empty file within `max_mb`; never opens it."""
    path = Path(path)
    limits = limits or default_limits()
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise InputFileError(
            path, "không có tệp này (no such file)", hint="kiểm tra đường dẫn"
        ) from None
    except OSError as exc:
        raise InputFileError(path, f"không đọc được tệp (cannot be read: {exc.strerror})") from None
    if stat.S_ISDIR(info.st_mode):
        raise InputFileError(
            path, "là thư mục, không phải tệp (a folder)", hint="chỉ ra từng tệp trong thư mục"
        )
    if not stat.S_ISREG(info.st_mode):
        kind = "FIFO" if stat.S_ISFIFO(info.st_mode) else "thiết bị hoặc socket"
        raise InputFileError(
            path,
            f"không phải tệp thường ({kind}; not a regular file)",
            hint="chép tài liệu thành một tệp rồi đưa tệp đó",
        )
    if info.st_size == 0:
        raise InputFileError(path, "tệp rỗng (empty file, 0 bytes)", hint=HINT_RESCAN)
    if info.st_size > limits.max_bytes:
        raise _over(
            path,
            f"tệp {info.st_size / 1048576:.1f} MiB",
            f"{limits.max_mb:g} MiB",
            "max_mb",
        )
    return info.st_size


def read_head(path: Path, size: int = 1024) -> bytes:
    """The first bytes of a regular file (opened non-blocking: a FIFO swapped in never hangs)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise InputFileError(path, f"không đọc được tệp (cannot be read: {exc.strerror})") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise InputFileError(path, "không phải tệp thường (not a regular file)")
        return os.read(fd, size)
    finally:
        os.close(fd)


def sniff_head(path: Path, head: bytes) -> Format:
    """The format the first bytes show; anything else is refused."""
    if not head:
        raise InputFileError(path, "tệp rỗng (empty file, 0 bytes)", hint=HINT_RESCAN)
    if b"%PDF-" in head[:1024]:
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


def check_file(
    path: Path | str, limits: InputLimits | None = None, *, pdf_only: bool = False
) -> InputInfo:
    """Check one input file against `limits` (default: the settings) before any decoding."""
    path = Path(path)
    limits = limits or default_limits()
    size = check_regular(path, limits)
    fmt = sniff_head(path, read_head(path))
    if pdf_only and fmt != "pdf":
        raise InputFileError(path, "không phải tệp PDF (not a PDF file)", hint="đưa tệp PDF")
    count = check_pdf(path, limits) if fmt == "pdf" else check_image(path, limits)
    return InputInfo(path, fmt, size, count)


def open_image_header(path: Path, limits: InputLimits) -> Any:
    """A Pillow image with only its header read, its size within `limits`."""
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            # bomb warnings and "corrupt EXIF" notes: the gate's own checks answer for them
            warnings.simplefilter("ignore")
            image = Image.open(path)
    except Image.DecompressionBombError:
        raise _over(
            path,
            "ảnh quá lớn, quá nhiều điểm ảnh (decompression bomb)",
            f"{limits.max_megapixels:g} Mpx",
            "max_megapixels",
        ) from None
    except UnidentifiedImageError:
        raise InputFileError(
            path, "ảnh bị hỏng hoặc không hỗ trợ (damaged image)", hint=HINT_RESCAN
        ) from None
    except Exception as exc:  # Pillow reports damaged headers in many ways
        raise InputFileError(
            path, f"ảnh bị hỏng (damaged image: {type(exc).__name__}: {exc})", hint=HINT_RESCAN
        ) from None
    try:
        check_image_size(path, image.size, limits)
    except InputFileError:
        image.close()
        raise
    return image


def check_image_size(path: Path, size: tuple[int, int], limits: InputLimits) -> None:
    """Refuse an image (or one frame) whose pixel count or side is beyond `limits`."""
    width, height = size
    if width * height > limits.max_pixels:
        raise _over(
            path,
            f"ảnh {width}×{height} điểm ảnh ({width * height / 1e6:.0f} Mpx) quá lớn",
            f"{limits.max_megapixels:g} Mpx",
            "max_megapixels",
            hint="quét ở 300 dpi",
        )
    if max(width, height) > limits.max_side_px:
        raise _over(
            path,
            f"ảnh {width}×{height} điểm ảnh quá dài",
            f"{limits.max_side_px} điểm ảnh mỗi cạnh",
            "max_side_px",
            hint="quét ở 300 dpi",
        )
    if min(width, height) < 1:
        raise InputFileError(path, f"ảnh {width}×{height} điểm ảnh (empty image)")


def check_image(path: Path, limits: InputLimits) -> int:
    """The frame count of an image file whose header is within `limits`."""
    image = open_image_header(path, limits)
    try:
        frames = int(getattr(image, "n_frames", 1))
    except Exception as exc:  # a truncated multi-frame file fails while its frames are counted
        raise InputFileError(
            path, f"ảnh bị hỏng (damaged image: {type(exc).__name__}: {exc})", hint=HINT_RESCAN
        ) from None
    finally:
        image.close()
    if frames > limits.max_frames:
        raise _over(path, f"ảnh có {frames} khung hình", f"{limits.max_frames}", "max_frames")
    return frames


def check_pdf(path: Path, limits: InputLimits) -> int:
    """The page count of a PDF whose pages and streams are within `limits`."""
    from motcua.pdfium import open_pdf

    long_pt = limits.max_page_mm / MM_PER_PT * 1.01  # 1% for rounding in producers
    short_pt = long_pt / 2**0.5
    with open_pdf(path) as document:
        count = len(document)
        if count == 0:
            raise InputFileError(path, "PDF không có trang nào (no pages)", hint=HINT_RESCAN)
        if count > limits.max_pages:
            raise _over(path, f"PDF có {count} trang", f"{limits.max_pages} trang", "max_pages")
        for index in range(count):
            try:
                width, height = document.get_page_size(index)
            except Exception as exc:  # a looping or broken page tree
                raise InputFileError(
                    path, f"PDF bị hỏng, trang {index + 1} không đọc được ({exc})", hint=HINT_RESCAN
                ) from None
            if max(width, height) > long_pt or min(width, height) > short_pt:
                raise _over(
                    path,
                    f"trang {index + 1} khổ {width * MM_PER_PT:.0f}×{height * MM_PER_PT:.0f} mm",
                    f"khổ A0 ({limits.max_page_mm:g} mm cạnh dài)",
                    "max_page_mm",
                )
    _check_streams(path, limits)
    return count


def _check_streams(path: Path, limits: InputLimits) -> None:
    """Refuse a PDF one of whose Flate streams inflates beyond `max_stream_mb` (a bomb)."""
    import pikepdf

    bound = int(limits.max_stream_mb * 1024 * 1024)
    try:
        pdf = pikepdf.open(path)
    except Exception:  # PDFium opened it; what qpdf cannot read is PDFium's to judge
        return
    with pdf:
        for obj in pdf.objects:
            if not isinstance(obj, pikepdf.Stream):
                continue
            try:
                filters = obj.get("/Filter")
                first = filters[0] if isinstance(filters, pikepdf.Array) and filters else filters
                if first not in (pikepdf.Name.FlateDecode, pikepdf.Name("/Fl")):
                    continue
                raw = obj.read_raw_bytes()
            except Exception:
                continue
            if _inflated_size(raw, bound) > bound:
                raise _over(
                    path,
                    f"PDF có luồng dữ liệu giải nén ra hơn {limits.max_stream_mb:g} MiB"
                    " (decompression bomb)",
                    f"{limits.max_stream_mb:g} MiB",
                    "max_stream_mb",
                )


def _inflated_size(raw: bytes, bound: int) -> int:
    """How many bytes `raw` inflates to, counting in chunks and stopping past `bound`."""
    inflater = zlib.decompressobj()
    total = 0
    data = raw
    try:
        while data and total <= bound:
            total += len(inflater.decompress(data, _INFLATE_CHUNK))
            data = inflater.unconsumed_tail
            if inflater.eof:
                break
    except zlib.error:
        pass  # damaged data: PDFium decides what it can draw
    return total
