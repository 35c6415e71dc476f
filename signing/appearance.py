"""Signature appearances of Decree 30/2020 (Appendix I) as pyHanko stamp styles, and positions.

Leader: the handwritten signature with the seal over its left third, then the signer's name,
title, organisation and signing time (ISO 8601, +07:00) in an embedded Liberation Serif so
Vietnamese diacritics render. Organisation: top right of page 1, no image, Times-like 10 pt black:
copy mark, organisation name, time.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any, Final

from motcua.errors import InputFileError
from motcua.pdfium import open_pdf
from motcua.types import nfc
from signing.images import compose_leader_image, pdf_font_path

LEADER_SIZE: Final = (230.0, 120.0)  # width, height in points
ORGANIZATION_SIZE: Final = (230.0, 46.0)
_LEADER_FONT_SIZE: Final = 7
_ORGANIZATION_FONT_SIZE: Final = 10
_MARGIN: Final = 28.0  # about 1 cm from the page edge


@dataclass(frozen=True)
class Box:
    """A rectangle in PDF points: (x1, y1) lower left, (x2, y2) upper right."""

    x1: float
    y1: float
    x2: float
    y2: float

    def as_tuple(self) -> tuple[int, int, int, int]:
        return (round(self.x1), round(self.y1), round(self.x2), round(self.y2))


def _text_box_style(size: int) -> Any:
    from pyhanko.pdf_utils.font.opentype import GlyphAccumulatorFactory
    from pyhanko.pdf_utils.text import TextBoxStyle

    # fontTools warns about every table it cannot subset (FFTM): noise for our users
    logging.getLogger("fontTools.subset").setLevel(logging.ERROR)
    return TextBoxStyle(
        font=GlyphAccumulatorFactory(str(pdf_font_path())),
        font_size=size,
        leading=size + 2,
        text_color=(0.0, 0.0, 0.0),
    )


def leader_lines(name: str, title: str | None, organization: str | None, time: str) -> list[str]:
    lines = [f"Ký bởi: {name}"]
    if title:
        lines.append(title)
    if organization:
        lines.append(organization)
    lines.append(f"Thời gian ký: {time}")
    return [nfc(line) for line in lines]


def organization_lines(organization: str, time: str, copy_mark: str | None) -> list[str]:
    lines = [copy_mark] if copy_mark else []
    lines += [organization, time]
    return [nfc(line) for line in lines]


def _escape(text: str) -> str:
    return text.replace("%", "%%")  # pyHanko interpolates %(name)s in stamp text


@functools.lru_cache(maxsize=16)
def _composed_png(signature: Path, _sig_mtime: int, seal: Path | None, _seal_mtime: int) -> bytes:
    """Signature + seal composed once per batch (keyed by path and modification time)."""
    from PIL import Image

    try:
        image = (
            compose_leader_image(signature, seal)
            if seal is not None
            else Image.open(signature).convert("RGBA")
        )
    except OSError as exc:
        raise InputFileError(
            signature, f"not a readable image ({exc})", hint="pass PNG files"
        ) from None
    buffer = BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def leader_style(lines: list[str], signature_image: Path | None, seal_image: Path | None) -> Any:
    """Image (signature + seal) in the upper part of the box, the text lines below it."""
    from PIL import Image
    from pyhanko.pdf_utils import layout
    from pyhanko.pdf_utils.images import PdfImage
    from pyhanko.stamp import TextStampStyle

    text_height = len(lines) * (_LEADER_FONT_SIZE + 2) + 6
    background = None
    if signature_image is not None:
        for image_path in (signature_image, seal_image):
            if image_path is not None and not image_path.is_file():
                raise InputFileError(image_path, "image not found", hint="check the PNG path")
        png = _composed_png(
            signature_image,
            signature_image.stat().st_mtime_ns,
            seal_image,
            seal_image.stat().st_mtime_ns if seal_image is not None else 0,
        )
        # pyHanko needs its own PIL image per document: decoding the cached PNG is cheap
        background = PdfImage(Image.open(BytesIO(png)))
    return TextStampStyle(
        stamp_text=_escape("\n".join(lines)),
        text_box_style=_text_box_style(_LEADER_FONT_SIZE),
        border_width=0,
        background=background,
        background_opacity=1.0,
        background_layout=layout.SimpleBoxLayoutRule(
            x_align=layout.AxisAlignment.ALIGN_MID,
            y_align=layout.AxisAlignment.ALIGN_MAX,
            margins=layout.Margins(left=2, right=2, top=2, bottom=text_height),
        ),
        inner_content_layout=layout.SimpleBoxLayoutRule(
            x_align=layout.AxisAlignment.ALIGN_MIN,
            y_align=layout.AxisAlignment.ALIGN_MIN,
            margins=layout.Margins(left=4, right=2, top=2, bottom=3),
        ),
    )


def organization_style(lines: list[str]) -> Any:
    from pyhanko.pdf_utils import layout
    from pyhanko.stamp import TextStampStyle

    return TextStampStyle(
        stamp_text=_escape("\n".join(lines)),
        text_box_style=_text_box_style(_ORGANIZATION_FONT_SIZE),
        border_width=0,
        inner_content_layout=layout.SimpleBoxLayoutRule(
            x_align=layout.AxisAlignment.ALIGN_MAX,
            y_align=layout.AxisAlignment.ALIGN_MAX,
            margins=layout.Margins(left=2, right=2, top=2, bottom=2),
        ),
    )


def organization_box(page_width: float, page_height: float) -> Box:
    """Top right of the page."""
    width, height = ORGANIZATION_SIZE
    return Box(
        page_width - _MARGIN - width,
        page_height - 16 - height,
        page_width - _MARGIN,
        page_height - 16,
    )


def leader_box(
    pdf: bytes, page_index: int, signer_name: str | None, page_size: tuple[float, float]
) -> Box:
    """Above the signer's name block when the name is printed on the page, else bottom right.

    The name is searched on the page's text layer (pypdfium2), diacritic-exact, last occurrence.
    """
    width, height = LEADER_SIZE
    page_width, _page_height = page_size
    found = _find_text(pdf, page_index, signer_name) if signer_name else None
    if found is not None:
        left, _bottom, right, top = found
        centre = (left + right) / 2
        x1 = min(max(centre - width / 2, _MARGIN), page_width - _MARGIN - width)
        return Box(x1, top + 4, x1 + width, top + 4 + height)
    return Box(page_width - _MARGIN - width, 90, page_width - _MARGIN, 90 + height)


def _find_text(pdf: bytes, page_index: int, text: str) -> tuple[float, float, float, float] | None:
    try:
        with open_pdf(pdf) as document:
            page = document[page_index]
            textpage = page.get_textpage()
            searcher = textpage.search(nfc(text), match_case=True)
            last: tuple[int, int] | None = None
            while (hit := searcher.get_next()) is not None:
                last = hit
            if last is None:
                return None
            start, count = last
            boxes = [textpage.get_charbox(i) for i in range(start, start + count)]
    except InputFileError:
        return None
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )
