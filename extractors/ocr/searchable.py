"""Searchable PDFs: the original page images with an invisible text layer over their words.

Images are embedded as they are: JPEG bytes pass through (DCTDecode), other formats are stored
losslessly (Flate, 1-bit kept 1-bit); PDF pages are copied unchanged (a page whose own text layer
was kept gets nothing added). The text layer is drawn in render mode 3 (invisible) with a
glyph-less Type 0 font whose character codes are the UTF-16 code units of the text and whose
ToUnicode map is the identity, so copy/paste and `pdftotext` give the NFC text back. Each word is
stretched (Tz) over its box; a page OCR'd after a quarter turn gets /Rotate so it shows upright.
The file is written as PDF/A-2b (`motcua.pdfa`); when the pages of a PDF cannot be (a font not
embedded), the rendition draws each page as a 200 dpi JPEG under its words instead — the
citizen's original is archived byte for byte beside it.
"""

from __future__ import annotations

import glob
import io
import math
import os
import statistics
import zlib
from pathlib import Path

import pikepdf
from PIL import Image

from extractors.ocr.model import OcrPage, OcrResult, Word
from extractors.ocr.sources import load_image_frame, sniff
from motcua.errors import InputFileError, MissingDependencyError
from motcua.pdfa import save_pdfa

FONT_NAME = "/GlyphLessFont"
GLYPH_WIDTH = 500  # /DW in 1/1000 em: every glyph is half an em wide before Tz stretching
RASTER_DPI = 200  # a PDF page that cannot be PDF/A is drawn as an image at this resolution


def _glyphless_font_file() -> bytes:
    """Tesseract's own glyph-less TrueType font (`pdf.ttf`, Apache-2.0), shipped in tessdata."""
    candidates = [os.environ.get("TESSDATA_PREFIX", "")]
    candidates += sorted(glob.glob("/usr/share/tesseract-ocr/*/tessdata"), reverse=True)
    candidates += ["/usr/share/tessdata", "/usr/local/share/tessdata"]
    for folder in candidates:
        path = Path(folder) / "pdf.ttf"
        if folder and path.is_file():
            return path.read_bytes()
    raise MissingDependencyError(
        "Tesseract's pdf.ttf (glyph-less font) was not found",
        hint="apt-get install tesseract-ocr (see scripts/bootstrap) or set TESSDATA_PREFIX",
    )


def _to_unicode_cmap() -> bytes:
    ranges = [
        f"<{hi:02X}00> <{hi:02X}FF> <{hi:02X}00>" for hi in range(256) if not 0xD8 <= hi <= 0xDF
    ]
    blocks = []
    for start in range(0, len(ranges), 100):
        chunk = ranges[start : start + 100]
        blocks.append(f"{len(chunk)} beginbfrange\n" + "\n".join(chunk) + "\nendbfrange")
    return (
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
        "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
        + "\n".join(blocks)
        + "\nendcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n"
    ).encode("ascii")


def _font(pdf: pikepdf.Pdf) -> pikepdf.Object:
    font_file = pikepdf.Stream(pdf, _glyphless_font_file())
    descriptor = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.FontDescriptor,
            FontName=pikepdf.Name(FONT_NAME),
            Flags=5,
            FontBBox=[0, 0, GLYPH_WIDTH, 1000],
            ItalicAngle=0,
            Ascent=1000,
            Descent=0,
            CapHeight=1000,
            StemV=80,
            FontFile2=font_file,
        )
    )
    cid_to_gid = pikepdf.Stream(
        pdf, zlib.compress(b"\x00\x01" * 65536), Filter=pikepdf.Name.FlateDecode
    )
    cid_font = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Font,
            Subtype=pikepdf.Name.CIDFontType2,
            BaseFont=pikepdf.Name(FONT_NAME),
            CIDSystemInfo=pikepdf.Dictionary(Registry="Adobe", Ordering="Identity", Supplement=0),
            FontDescriptor=descriptor,
            CIDToGIDMap=cid_to_gid,
            DW=GLYPH_WIDTH,
        )
    )
    return pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Font,
            Subtype=pikepdf.Name.Type0,
            BaseFont=pikepdf.Name(FONT_NAME),
            Encoding=pikepdf.Name("/Identity-H"),
            DescendantFonts=[cid_font],
            ToUnicode=pikepdf.Stream(pdf, _to_unicode_cmap()),
        )
    )


def _display_to_user(rotate: int, width: float, height: float, x0: float, y0: float) -> list[float]:
    """cm matrix from the shown (rotated) page's coordinates to the unrotated user space."""
    a, b, c, d, e, f = {
        0: (1, 0, 0, 1, 0, 0),
        90: (0, 1, -1, 0, width, 0),
        180: (-1, 0, 0, -1, width, height),
        270: (0, -1, 1, 0, 0, height),
    }[rotate]
    return [a, b, c, d, e + x0, f + y0]


def _fmt(value: float) -> str:
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def text_layer(page: OcrPage, shown_width: float, shown_height: float) -> bytes:
    """Content-stream operators drawing the page's words invisibly, in shown-page points.

    Words of a line sit on one straight baseline at the page's skew angle (the image is not
    deskewed, so neither is its text layer); each word is stretched over its box and followed
    by a space glyph stretched over the gap to the next word, so extraction sees words and
    spaces where they are."""
    if not page.words or not page.width or not page.height:
        return b""
    sx, sy = shown_width / page.width, shown_height / page.height
    theta = math.radians(-page.skew)  # deskew turned the image by `skew`: the text runs at -skew
    slope, cos, sin = math.tan(theta), math.cos(theta), math.sin(theta)
    lines: dict[int, list[Word]] = {}
    for word in page.words:
        lines.setdefault(word.line, []).append(word)
    out = ["BT", "3 Tr"]
    for words in lines.values():
        boxes = [(w.bbox[0] * sx, shown_height - w.bbox[3] * sy, w.bbox[2] * sx) for w in words]
        heights = [
            (w.bbox[3] - w.bbox[1]) * sy - abs(sin) * (w.bbox[2] - w.bbox[0]) * sx for w in words
        ]
        size = max(statistics.median(heights), 1.0)
        # baseline y = intercept + slope·x; a box's lowest corner is its left end when the line
        # rises to the right, its right end when it falls
        intercept = statistics.median(
            bottom - slope * (left if slope >= 0 else right) for left, bottom, right in boxes
        )
        out.append(f"/Focr {_fmt(size)} Tf")
        for i, (word, (left, _, right)) in enumerate(zip(words, boxes, strict=True)):
            length = (right - left) / cos
            units = len(word.text.encode("utf-16-be")) // 2
            natural = units * size * GLYPH_WIDTH / 1000
            stretch = max(1.0, 100.0 * length / natural) if natural else 100.0
            y = intercept + slope * left
            matrix = f"{_fmt(cos)} {_fmt(sin)} {_fmt(-sin)} {_fmt(cos)} {_fmt(left)} {_fmt(y)}"
            encoded = word.text.encode("utf-16-be").hex().upper()
            out.append(f"{_fmt(stretch)} Tz {matrix} Tm <{encoded}> Tj")
            following = boxes[i + 1][0] if i + 1 < len(words) else right + size * 0.25
            gap = max((following - right) / cos, size * 0.05)
            space = 100.0 * gap / (size * GLYPH_WIDTH / 1000)
            out.append(f"{_fmt(space)} Tz <0020> Tj")
    out.append("ET")
    return ("\n".join(out) + "\n").encode("ascii")


def _add_text_layer(
    pdf: pikepdf.Pdf, page: pikepdf.Page, ocr: OcrPage, font: pikepdf.Object
) -> None:
    x0, y0, x1, y1 = (float(v) for v in page.cropbox)
    width, height = x1 - x0, y1 - y0
    original = int(page.obj.get("/Rotate", 0)) % 360
    rotate = (original + ocr.rotation) % 360
    shown = (width, height) if rotate in (0, 180) else (height, width)
    body = text_layer(ocr, *shown)
    if not body:
        return
    matrix = " ".join(_fmt(v) for v in _display_to_user(rotate, width, height, x0, y0))
    resources = page.obj.get("/Resources")
    if resources is None:
        page.obj.Resources = resources = pikepdf.Dictionary()
    if "/Font" not in resources:
        resources.Font = pikepdf.Dictionary()
    resources.Font.Focr = font
    page.contents_coalesce()
    page.contents_add(pikepdf.Stream(pdf, b"q\n"), prepend=True)
    page.contents_add(pikepdf.Stream(pdf, b"Q\nq " + matrix.encode() + b" cm\n" + body + b"Q\n"))
    page.obj.Rotate = rotate


def _image_xobject(
    pdf: pikepdf.Pdf, path: Path, index: int, fmt: str
) -> tuple[pikepdf.Object, float, float]:
    """(image XObject, width pt, height pt) of one frame, without lossy recompression."""
    image, dpi = load_image_frame(path, index)
    with image:
        width, height = image.size
        exif_turned = fmt == "jpeg" and image.getexif().get(0x0112, 1) not in (1, None)
        if fmt == "jpeg" and not exif_turned and image.mode in ("L", "RGB"):
            data = path.read_bytes()
            colour = pikepdf.Name.DeviceGray if image.mode == "L" else pikepdf.Name.DeviceRGB
            xobject = pikepdf.Stream(pdf, data)
            xobject.Filter = pikepdf.Name.DCTDecode
            bits = 8
        else:
            if image.mode == "1":
                raw, colour, bits = image.tobytes(), pikepdf.Name.DeviceGray, 1
            elif image.mode == "L":
                raw, colour, bits = image.tobytes(), pikepdf.Name.DeviceGray, 8
            else:
                rgb = image.convert("RGBA")
                flat = Image.new("RGB", rgb.size, (255, 255, 255))
                flat.paste(rgb, mask=rgb.getchannel("A"))
                raw, colour, bits = flat.tobytes(), pikepdf.Name.DeviceRGB, 8
            xobject = pikepdf.Stream(pdf, zlib.compress(raw, 6))
            xobject.Filter = pikepdf.Name.FlateDecode
    xobject.Type = pikepdf.Name.XObject
    xobject.Subtype = pikepdf.Name.Image
    xobject.Width, xobject.Height = width, height
    xobject.ColorSpace = colour
    xobject.BitsPerComponent = bits
    return xobject, width * 72.0 / dpi, height * 72.0 / dpi


def write_searchable_pdf(source: Path | str, result: OcrResult, output: Path | str) -> Path:
    """Write `output`: the pages of `source` with `result`'s words as an invisible text layer."""
    source, output = Path(source), Path(output)
    fmt = sniff(source)
    pdf = pikepdf.new()
    font = _font(pdf)
    if fmt == "pdf":
        try:
            original = pikepdf.open(source)  # an empty user password opens by itself
        except pikepdf.PasswordError:
            raise InputFileError(
                source, "PDF được bảo vệ bằng mật khẩu (password-protected)"
            ) from None
        with original:
            for ocr, src_page in zip(result.pages, original.pages, strict=False):
                pdf.pages.append(src_page)
                if ocr.source == "ocr" and not ocr.error:
                    _add_text_layer(pdf, pdf.pages[-1], ocr, font)
            passed = save_pdfa(pdf, output).ok
        if not passed:
            _rasterised(source, result, output)
        return output
    for ocr in result.pages:
        xobject, width, height = _image_xobject(pdf, source, ocr.number - 1, fmt)
        pdf.add_blank_page(page_size=(width, height))
        page = pdf.pages[-1]
        page.obj.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=xobject))
        drawing = f"q {_fmt(width)} 0 0 {_fmt(height)} 0 0 cm /Im0 Do Q\n".encode()
        page.obj.Contents = pikepdf.Stream(pdf, drawing)
        if not ocr.error:
            _add_text_layer(pdf, page, ocr, font)
    _save(pdf, output)
    return output


def _save(pdf: pikepdf.Pdf, output: Path) -> None:
    save_pdfa(pdf, output)


def _rasterised(source: Path, result: OcrResult, output: Path) -> None:
    """The PDF/A rendition of a PDF whose own pages cannot be PDF/A (a font not embedded, CMYK
    drawing): every page drawn as an image, with its words as the invisible text layer."""
    from motcua.pdfium import page_image

    pdf = pikepdf.new()
    font = _font(pdf)
    for ocr in result.pages:
        image, dpi = page_image(source, ocr.number - 1, dpi=RASTER_DPI)
        with image:
            grey = image.mode == "L"
            buffer = io.BytesIO()
            image.convert("L" if grey else "RGB").save(buffer, "JPEG", quality=85)
            width, height = image.size
        xobject = pikepdf.Stream(pdf, buffer.getvalue())
        xobject.Filter = pikepdf.Name.DCTDecode
        xobject.Type, xobject.Subtype = pikepdf.Name.XObject, pikepdf.Name.Image
        xobject.Width, xobject.Height, xobject.BitsPerComponent = width, height, 8
        xobject.ColorSpace = pikepdf.Name.DeviceGray if grey else pikepdf.Name.DeviceRGB
        points = (width * 72.0 / dpi, height * 72.0 / dpi)
        pdf.add_blank_page(page_size=points)
        page = pdf.pages[-1]
        page.obj.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=xobject))
        drawing = f"q {_fmt(points[0])} 0 0 {_fmt(points[1])} 0 0 cm /Im0 Do Q\n".encode()
        page.obj.Contents = pikepdf.Stream(pdf, drawing)
        if not ocr.error:  # drawn as the page is shown: turned upright as an image scan is
            _add_text_layer(pdf, page, ocr, font)
    save_pdfa(pdf, output)
