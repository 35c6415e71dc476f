"""Hostile and broken input files, generated (no binaries in the repository), for the input gate.

`write_hostile(folder)` writes one file per trigger of issue 14 and returns {name: path}:
bombs (a PNG whose zTXt chunk inflates past Pillow's limit, a 30000² PNG of 150 KB, a PDF whose
content stream inflates to 300 MiB), lying headers (a BMP claiming 50000², a 100000×1 PNG, a
14400 pt MediaBox), too much work (a blank 5000-page PDF, a TIFF of 400 frames), damage (a
truncated TIFF, JPEG and PDF, zero bytes, text named `.jpg`, a looping page tree), an encrypted
PDF, and for the doors: a FIFO named `scan.pdf`, a folder named `.pdf`. `write_good(folder)`
writes files that must be processed, some under NFD or rich-markup names. Each bomb is built
from a repeated full-flush deflate segment, so writing it costs milliseconds, not an inflate.

`python -m samples.hostile FOLDER` writes both sets there.
"""

from __future__ import annotations

import io
import os
import struct
import sys
import unicodedata
import zlib
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
LINE = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"


def zeros_zlib(total: int, unit: int = 1 << 20) -> bytes:
    """A zlib stream inflating to `total` zero bytes (a multiple of `unit`), built cheaply."""
    assert total % unit == 0
    raw = zlib.compressobj(9, zlib.DEFLATED, -15)
    segment = raw.compress(bytes(unit)) + raw.flush(zlib.Z_FULL_FLUSH)  # self-contained
    end = zlib.compressobj(9, zlib.DEFLATED, -15).flush()  # an empty final block
    checksum = 1
    block = bytes(unit)
    for _ in range(total // unit):
        checksum = zlib.adler32(block, checksum)
    return b"\x78\xda" + segment * (total // unit) + end + struct.pack(">I", checksum)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bytes(width: int, height: int, idat: bytes, extra: bytes = b"") -> bytes:
    """A grey 8-bit PNG with the given (zlib) pixel data and extra chunks before it."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + extra
        + _chunk(b"IDAT", idat)
        + _chunk(b"IEND", b"")
    )


def text_image(text: str = LINE, size: tuple[int, int] = (1400, 160)) -> Image.Image:
    """A small white image with one line of Vietnamese print (fast to OCR)."""
    image = Image.new("L", size, 255)
    ImageDraw.Draw(image).text((40, 50), text, fill=0, font=ImageFont.truetype(_FONT, 48))
    return image


def _pdf(
    pages: list[tuple[float, float]], content: bytes = b"", encrypt: str | None = None
) -> bytes:
    import pikepdf

    pdf = pikepdf.new()
    for width, height in pages:
        page = pdf.add_blank_page(page_size=(width, height))
        if content:
            page.Contents = pdf.make_stream(content)
    out = io.BytesIO()
    if encrypt is None:
        pdf.save(out)
    else:
        pdf.save(out, encryption=pikepdf.Encryption(user=encrypt, owner=encrypt + "-owner"))
    return out.getvalue()


def _stream_bomb_pdf(inflated: int) -> bytes:
    """A one-page PDF whose content stream is a Flate bomb, written by hand (no inflate)."""
    data = zeros_zlib(inflated)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream",
    ]
    return _hand_pdf(objects)


def slow_raster_pdf(lines: int = 40000) -> bytes:
    """A few KB, one page, that PDFium takes seconds to rasterise at 300 dpi (about 5 s per 10000
    lines here): every line is stroked in half-point dashes. Its streams are small and legal, so
    no size limit of the gate refuses it; only the per-page time limit stops it."""
    body = b"1 w [0.5 0.5] 0 d " + b"".join(
        b"0 %d m 595 %d l S " % (i % 842, (i * 7) % 842) for i in range(lines)
    )
    return _pdf([(595, 842)], body)


def _looping_pdf() -> bytes:
    """A page tree whose /Kids points back at itself."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
    ]
    return _hand_pdf(objects)


def _hand_pdf(objects: list[bytes]) -> bytes:
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def _bmp_header(width: int, height: int) -> bytes:
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, 0, 2835, 2835, 0, 0)
    return b"BM" + struct.pack("<IHHI", 14 + 40 + 64, 0, 0, 14 + 40) + info + bytes(64)


def _encoded(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def write_hostile(folder: Path) -> dict[str, Path]:
    """Write the hostile files into `folder` (created); {name: path}."""
    folder.mkdir(parents=True, exist_ok=True)
    small = text_image()
    tiff = _encoded(small, "TIFF", compression="tiff_lzw")
    jpeg = _encoded(small, "JPEG", quality=80)
    good_pdf = _pdf([(595, 842)], b"BT /F1 12 Tf 72 720 Td (x) Tj ET")
    ztxt = _chunk(b"zTXt", b"Comment\x00\x00" + zeros_zlib(64 << 20))
    contents: dict[str, bytes] = {
        "ztxt-bomb.png": png_bytes(16, 16, zlib.compress(bytes(17 * 16)), ztxt),
        "truncated.tif": tiff[: len(tiff) // 3],
        "truncated-header.tif": tiff[:12],
        "claims-50000.bmp": _bmp_header(50000, 50000),
        "wide-100000x1.png": png_bytes(100000, 1, zlib.compress(bytes(100001))),
        "huge-30000.png": png_bytes(30000, 30000, zeros_zlib(30001 * 30000, 30001 * 1000)),
        "blank-5000-pages.pdf": _pdf([(595, 842)] * 5000),
        "mediabox-14400pt.pdf": _pdf([(14400, 14400)]),
        "stream-bomb.pdf": _stream_bomb_pdf(300 << 20),
        "empty.pdf": b"",
        "empty.jpg": b"",
        "text-named.jpg": "Đây không phải ảnh (not an image)\n".encode(),
        "truncated.jpg": jpeg[: len(jpeg) // 2],
        "truncated.pdf": good_pdf[: len(good_pdf) // 2],
        "encrypted.pdf": _pdf([(595, 842)], encrypt="mat-khau"),
        "looping-pages.pdf": _looping_pdf(),
    }
    paths = {}
    for name, data in contents.items():
        (folder / name).write_bytes(data)
        paths[name] = folder / name
    with Image.new("L", (32, 32), 255) as frame:
        frames = [frame.copy() for _ in range(399)]
        frame.save(folder / "frames-400.tif", save_all=True, append_images=frames)
    paths["frames-400.tif"] = folder / "frames-400.tif"
    fifo = folder / "scan.pdf"
    if not fifo.exists():
        os.mkfifo(fifo)
    paths["fifo scan.pdf"] = fifo
    (folder / "folder.pdf").mkdir(exist_ok=True)
    paths["folder.pdf"] = folder / "folder.pdf"
    return paths


def write_good(folder: Path) -> dict[str, Path]:
    """Files every command must process, under awkward names: {name: path}."""
    folder.mkdir(parents=True, exist_ok=True)
    image = text_image()
    nfd = unicodedata.normalize("NFD", "Giấy tờ đầu.png")
    files = {
        "nfd": (folder / nfd, _encoded(image, "PNG", dpi=(300, 300))),
        "markup": (folder / "[bold red]đỏ[-x].png", _encoded(image, "PNG", dpi=(300, 300))),
        # a `/` cannot be in a name, but a folder "a[" makes the path read ".../a[/x]b.png"
        "closing-tag": (folder / "a[" / "x]b.png", _encoded(image, "PNG", dpi=(300, 300))),
        "png-named-pdf": (folder / "anh-ten-pdf.pdf", _encoded(image, "PNG", dpi=(300, 300))),
        "pdf": (
            folder / "a[" / "x] văn bản.pdf",
            _encoded(image.convert("RGB"), "PDF", resolution=300),
        ),
        "encrypted-empty-password": (folder / "han-che-sua.pdf", _pdf([(595, 842)], encrypt="")),
    }
    paths = {}
    for key, (path, data) in files.items():
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(data)
        paths[key] = path
    return paths


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "hostile")
    for name, path in {**write_hostile(target / "hostile"), **write_good(target / "good")}.items():
        print(f"{name}\t{path}")
