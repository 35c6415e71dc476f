"""Laying out an administrative document on a reportlab canvas, top to bottom.

Fonts are embedded TrueType (Liberation Serif, metric-compatible with Times New Roman, the font
Decree 30/2020 prescribes), so Vietnamese text survives copying and text extraction; the saved
file is made PDF/A-2b (`motcua.pdfa`). The header follows Decree 30/2020/NĐ-CP: issuing body on
the left, national motto and place/date on the right.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader, simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from motcua.errors import InputFileError, MissingDependencyError
from motcua.pdfa import convert_file
from motcua.types import fold, nfc

FONT_DIR = Path("/usr/share/fonts/truetype/liberation2")
REGULAR, BOLD, ITALIC, BOLD_ITALIC = "VnSerif", "VnSerif-Bold", "VnSerif-Italic", "VnSerif-BI"
_FONT_FILES = {
    REGULAR: "LiberationSerif-Regular.ttf",
    BOLD: "LiberationSerif-Bold.ttf",
    ITALIC: "LiberationSerif-Italic.ttf",
    BOLD_ITALIC: "LiberationSerif-BoldItalic.ttf",
}
MOTTO = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO_2 = "Độc lập - Tự do - Hạnh phúc"


def register_fonts(font_dir: Path = FONT_DIR) -> None:
    """Register the Vietnamese-capable serif family once per process."""
    if REGULAR in pdfmetrics.getRegisteredFontNames():
        return
    for name, filename in _FONT_FILES.items():
        path = font_dir / filename
        if not path.is_file():
            raise MissingDependencyError(
                f"font {path} not found",
                hint="install the Debian package fonts-liberation2 (`make setup`)",
            )
        pdfmetrics.registerFont(TTFont(name, str(path)))
    pdfmetrics.registerFontFamily(
        REGULAR, normal=REGULAR, bold=BOLD, italic=ITALIC, boldItalic=BOLD_ITALIC
    )


@dataclass(frozen=True)
class Office:
    """The issuing office as printed in a header (Decree 30/2020)."""

    name: str  # "Ủy ban nhân dân xã Hòa Tiến"
    parent: str | None = None  # "UBND HUYỆN HÒA VANG"
    place: str = ""  # "Hòa Tiến" for "Hòa Tiến, ngày ..."
    unit_code: str = ""
    desk: str = "Bộ phận Tiếp nhận và Trả kết quả"
    phone: str | None = None
    collective: str | None = None  # the body a leader signs for ("TM. ..."); None: derived

    @property
    def signing_body(self) -> str:
        """`ỦY BAN NHÂN DÂN` for a People's Committee (Decree 30/2020 writes "TM. ỦY BAN NHÂN
        DÂN" without the place), else the office's name in capitals."""
        if self.collective:
            return self.collective.upper()
        if fold(self.name).startswith("uy ban nhan dan"):
            return "ỦY BAN NHÂN DÂN"
        return self.name.upper()


@dataclass(frozen=True)
class SignatureBox:
    """Where the signer's appearance goes: page index (0-based) and a rectangle in PDF points.

    (x1, y1) is the lower-left and (x2, y2) the upper-right corner, origin at the bottom left of
    the page, as pyHanko's `SigFieldSpec(box=..., on_page=...)` takes them.
    """

    page: int
    x1: float
    y1: float
    x2: float
    y2: float

    @property
    def box(self) -> tuple[float, float, float, float]:
        return (self.x1, self.y1, self.x2, self.y2)


def date_line(place: str, day: dt.date) -> str:
    """`Hòa Tiến, ngày 24 tháng 4 năm 2026` (Decree 30/2020: day and month below 10 padded
    only for days 1-9 and months 1-2)."""
    dd = f"{day.day:02d}" if day.day < 10 else str(day.day)
    mm_ = f"{day.month:02d}" if day.month < 3 else str(day.month)
    prefix = f"{place}, " if place else ""
    return f"{prefix}ngày {dd} tháng {mm_} năm {day.year}"


class Sheet:
    """A document laid out downwards from the top margin; starts new pages when full."""

    def __init__(
        self,
        path: Path,
        pagesize: tuple[float, float],
        *,
        margins: tuple[float, float, float, float] = (20 * mm, 15 * mm, 20 * mm, 30 * mm),
        title: str = "",
        base_size: float = 13,
    ) -> None:
        register_fonts()
        self.path = path
        self.width, self.height = pagesize
        self.top, self.right, self.bottom, self.left = margins
        self.base_size = base_size
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputFileError(path.parent, f"cannot create folder: {exc.strerror}") from None
        self.canvas = Canvas(str(path), pagesize=pagesize, pageCompression=1)
        self.canvas.setTitle(nfc(title))
        self.canvas.setCreator("motcua")
        self.page = 0
        self.y = self.height - self.top

    @property
    def text_width(self) -> float:
        return self.width - self.left - self.right

    def ensure(self, height: float) -> None:
        if self.y - height < self.bottom:
            self.new_page()

    def new_page(self) -> None:
        self.canvas.showPage()
        self.page += 1
        self.y = self.height - self.top

    def space(self, points: float) -> None:
        self.y -= points

    def centered(
        self,
        text: str,
        *,
        size: float | None = None,
        font: str = REGULAR,
        x_center: float | None = None,
        underline: bool = False,
        width: float | None = None,
    ) -> None:
        """Centred text, wrapped to `width` (default the text width)."""
        size = size or self.base_size
        centre = self.left + self.text_width / 2 if x_center is None else x_center
        for line in simpleSplit(nfc(text), font, size, width or self.text_width):
            self.ensure(size * 1.3)
            self.y -= size * 1.2
            self.canvas.setFont(font, size)
            self.canvas.drawCentredString(centre, self.y, line)
            if underline:
                half = pdfmetrics.stringWidth(line, font, size) / 2
                self.canvas.setLineWidth(0.6)
                self.canvas.line(centre - half, self.y - 2.5, centre + half, self.y - 2.5)
        self.y -= size * 0.15

    def paragraph(
        self,
        text: str,
        *,
        size: float | None = None,
        font: str = REGULAR,
        indent: float = 0,
        first_line_indent: float = 0,
    ) -> None:
        """Left-aligned wrapped text."""
        size = size or self.base_size
        width = self.text_width - indent
        lines = simpleSplit(nfc(text), font, size, width - first_line_indent) or [""]
        if len(lines) > 1 and first_line_indent:
            rest = " ".join(lines[1:])
            lines = [lines[0], *simpleSplit(rest, font, size, width)]
        for i, line in enumerate(lines):
            self.ensure(size * 1.35)
            self.y -= size * 1.3
            self.canvas.setFont(font, size)
            x = self.left + indent + (first_line_indent if i == 0 else 0)
            self.canvas.drawString(x, self.y, line)

    def labelled(
        self, label: str, value: str, *, size: float | None = None, value_font: str = REGULAR
    ) -> None:
        """`Label: value`, the value wrapped under itself, label in the regular face."""
        size = size or self.base_size
        head = nfc(label) + ": "
        head_width = pdfmetrics.stringWidth(head, REGULAR, size)
        value_width = self.text_width - head_width
        if value_width < self.text_width * 0.35:  # a long label: value on its own lines
            self.paragraph(head.strip(), size=size)
            self.paragraph(value, size=size, font=value_font, indent=12)
            return
        lines = simpleSplit(nfc(value), value_font, size, value_width) or [""]
        for i, line in enumerate(lines):
            self.ensure(size * 1.35)
            self.y -= size * 1.3
            if i == 0:
                self.canvas.setFont(REGULAR, size)
                self.canvas.drawString(self.left, self.y, head)
            self.canvas.setFont(value_font, size)
            self.canvas.drawString(self.left + head_width, self.y, line)

    def header(
        self,
        office: Office,
        *,
        issuing_body: str,
        number_line: str | None,
        place_date: str,
        size: float = 12,
        parent: str | None = None,
    ) -> None:
        """The two-column header of Decree 30/2020: body left, motto right.

        `parent` replaces the office's parent body on the first line (a desk prints its office).
        """
        left_w = self.text_width * 0.42
        right_w = self.text_width - left_w
        left_c = self.left + left_w / 2
        right_c = self.left + left_w + right_w / 2
        top = self.y
        first = parent if parent is not None else office.parent
        if first:
            self.centered(first.upper(), size=size, x_center=left_c, width=left_w)
        self.centered(
            issuing_body.upper(),
            size=size,
            font=BOLD,
            x_center=left_c,
            width=left_w,
            underline=True,
        )
        if number_line:
            self.space(4)
            self.centered(number_line, size=size, x_center=left_c, width=left_w)
        left_bottom = self.y
        self.y = top
        self.centered(MOTTO, size=size, font=BOLD, x_center=right_c, width=right_w)
        self.centered(MOTTO_2, size=size + 1, font=BOLD, x_center=right_c, underline=True)
        self.space(6)
        self.centered(place_date, size=size, font=ITALIC, x_center=right_c, width=right_w)
        self.y = min(self.y, left_bottom) - 8

    def image(self, png: bytes, *, x: float, y: float, size: float) -> None:
        self.canvas.drawImage(ImageReader(BytesIO(png)), x, y, width=size, height=size)

    def signature_block(
        self,
        role_lines: Sequence[str],
        *,
        note: str | None,
        signer_name: str | None,
        box_height: float = 32 * mm,
        left_lines: Sequence[str] = (),
        size: float | None = None,
        at_bottom: bool = False,
    ) -> SignatureBox:
        """The signer's block on the right half; returns the empty box left for the signature."""
        size = size or self.base_size
        needed = size * 1.3 * (len(role_lines) + 3) + box_height
        self.ensure(needed)
        if at_bottom:  # the signer's block sits at the foot of the page, the box at its right
            self.y = min(self.y, self.bottom + needed)
        half = self.text_width / 2
        centre = self.left + half + half / 2
        top = self.y
        for line in role_lines:
            self.centered(line, size=size, font=BOLD, x_center=centre, width=half)
        if note:
            self.centered(note, size=size - 2, font=ITALIC, x_center=centre, width=half)
        y_top = self.y - 2
        y_bottom = y_top - box_height
        signature = SignatureBox(
            page=self.page,
            x1=round(self.left + half, 2),
            y1=round(y_bottom, 2),
            x2=round(self.left + self.text_width, 2),
            y2=round(y_top, 2),
        )
        self.y = y_bottom
        if signer_name:
            self.centered(signer_name, size=size, font=BOLD, x_center=centre, width=half)
        after = self.y
        if left_lines:
            self.y = top
            left_c = self.left + half / 2
            for line in left_lines:
                self.centered(line, size=size, font=BOLD, x_center=left_c, width=half)
        self.y = min(self.y, after)
        return signature

    def save(self) -> int:
        """Write the file; returns the number of pages."""
        self.canvas.showPage()
        try:
            self.canvas.save()
        except OSError as exc:
            raise InputFileError(self.path, f"cannot write the PDF: {exc.strerror}") from None
        convert_file(self.path)  # every form and result motcua issues is PDF/A-2b
        return self.page + 1
