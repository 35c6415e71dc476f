"""Synthetic Vietnamese administrative pages with ground truth, for OCR tests and benchmarks.

`render_page(seed)` draws an A4 page at 300 dpi: the two-column header of Decree 30/2020
(issuing body | national motto), a document type, a subject and body paragraphs of real-looking
administrative prose, in one of several fonts and sizes. `degrade(page, level, seed)` turns it into
a "scanned" or "harsh" copy. `Page.text` is the ground truth in reading order (header block by
block: left, then right; then the body), NFC. Everything is generated from the seed: no files.

Used by `tests/ocr/`, `bench/ocr.py`, the field-extraction benchmark and `motcua demo`:
`from samples.pages import render_page, degrade, corpus`.
"""

from __future__ import annotations

import io
import random
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

Level = Literal["clean", "scanned", "harsh"]
LEVELS: tuple[Level, ...] = ("clean", "scanned", "harsh")

A4_MM = (210.0, 297.0)
_FONT_DIRS = ("/usr/share/fonts/truetype/liberation2/", "/usr/share/fonts/truetype/dejavu/")
FONTS: dict[str, str] = {
    "Liberation Serif": _FONT_DIRS[0] + "LiberationSerif-Regular.ttf",
    "Liberation Sans": _FONT_DIRS[0] + "LiberationSans-Regular.ttf",
    "DejaVu Serif": _FONT_DIRS[1] + "DejaVuSerif.ttf",
    "DejaVu Sans": _FONT_DIRS[1] + "DejaVuSans.ttf",
}
BOLD: dict[str, str] = {
    "Liberation Serif": _FONT_DIRS[0] + "LiberationSerif-Bold.ttf",
    "Liberation Sans": _FONT_DIRS[0] + "LiberationSans-Bold.ttf",
    "DejaVu Serif": _FONT_DIRS[1] + "DejaVuSerif-Bold.ttf",
    "DejaVu Sans": _FONT_DIRS[1] + "DejaVuSans-Bold.ttf",
}

PROVINCES = (
    "THÀNH PHỐ ĐÀ NẴNG",
    "TỈNH QUẢNG NAM",
    "TỈNH THANH HÓA",
    "TỈNH AN GIANG",
    "TỈNH BÌNH THUẬN",
)
PLACES = ("Đà Nẵng", "Quảng Nam", "Thanh Hóa", "An Giang", "Bình Thuận")
BODIES = (
    ("SỞ TƯ PHÁP", "STP-HCTP"),
    ("SỞ GIÁO DỤC VÀ ĐÀO TẠO", "SGDĐT-CTrTT"),
    ("SỞ NỘI VỤ", "SNV-VP"),
    ("ỦY BAN NHÂN DÂN XÃ HÒA TIẾN", "UBND-TP"),
)
TYPES = ("QUYẾT ĐỊNH", "THÔNG BÁO", "KẾ HOẠCH", "TỜ TRÌNH")
SUBJECTS = (
    "Về việc tiếp nhận và trả kết quả hồ sơ thủ tục hành chính",
    "Về việc triển khai chữ ký số trong cơ quan nhà nước",
    "Về việc lưu trữ hồ sơ điện tử tại bộ phận một cửa",
    "Về việc kiện toàn Trung tâm Phục vụ hành chính công",
)
# One sentence a line; long ones are fine here: they are data, not code.
SENTENCES = tuple(
    line.strip()
    for line in """
Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015.
Căn cứ Nghị định số 30/2020/NĐ-CP ngày 05 tháng 3 năm 2020 của Chính phủ về công tác văn thư.
Theo đề nghị của Chánh Văn phòng Ủy ban nhân dân và Giám đốc Sở Nội vụ.
Bộ phận tiếp nhận và trả kết quả có trách nhiệm hướng dẫn công dân hoàn thiện hồ sơ.
Cán bộ tiếp nhận kiểm tra tính đầy đủ của thành phần hồ sơ và viết giấy hẹn trả kết quả.
Trường hợp hồ sơ chưa đầy đủ, cán bộ hướng dẫn một lần để công dân bổ sung theo quy định.
Hồ sơ quá hạn giải quyết phải có phiếu xin lỗi và hẹn lại ngày trả kết quả gửi cho công dân.
Văn bản điện tử được ký số bởi người có thẩm quyền và ký số của cơ quan, tổ chức theo quy định.
Thời hạn bảo quản hồ sơ được xác định theo danh mục hồ sơ của cơ quan đã được phê duyệt.
Các cơ quan, đơn vị có liên quan chịu trách nhiệm thi hành quyết định này kể từ ngày ký.
Đăng ký khai sinh cho trẻ em được giải quyết ngay trong ngày làm việc nếu hồ sơ hợp lệ.
Chứng thực bản sao từ bản chính được trả trong ngày, nộp sau mười lăm giờ thì trả hôm sau.
Xác nhận tình trạng hôn nhân được giải quyết trong thời hạn ba ngày làm việc.
Ủy ban nhân dân xã tổ chức niêm yết công khai thủ tục hành chính tại trụ sở và trên cổng thông tin.
Người đứng đầu cơ quan chịu trách nhiệm về chất lượng phục vụ và mức độ hài lòng của người dân.
Việc số hóa kết quả giải quyết thủ tục hành chính được thực hiện đồng thời với việc trả kết quả.
Dữ liệu hồ sơ được lưu trữ an toàn, có ít nhất hai bản sao trên các phương tiện lưu trữ khác nhau.
Sở Thông tin và Truyền thông hướng dẫn các đơn vị sử dụng chứng thư số chuyên dùng.
Kinh phí thực hiện được bố trí từ nguồn ngân sách nhà nước theo phân cấp hiện hành.
Trong quá trình thực hiện, nếu có khó khăn, vướng mắc, đề nghị phản ánh về Sở Tư pháp để tổng hợp.
""".splitlines()
    if line.strip()
)


@dataclass(frozen=True)
class Page:
    """A rendered page: BGR image, ground-truth text (reading order, NFC) and how it was made."""

    image: np.ndarray[Any, Any]
    text: str
    dpi: int
    font: str
    size_pt: float
    level: Level = "clean"
    skew: float = 0.0  # degrees the content was turned (counter-clockwise positive)
    header_blocks: tuple[str, ...] = field(default=())  # left block text, right block text
    line_tops: tuple[int, ...] = field(default=())  # y of each ground-truth line (clean page)
    line_height: int = 0


def _font(name: str, size_px: int, *, bold: bool = False) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype((BOLD if bold else FONTS)[name], size_px)


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: float) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if current and font.getlength(candidate) > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines


def render_page(
    seed: int,
    *,
    font: str | None = None,
    size_pt: float | None = None,
    dpi: int = 300,
    paragraphs: int | None = None,
    header: bool = True,
) -> Page:
    """Draw one A4 page of a Vietnamese administrative document, deterministic in `seed`."""
    rng = random.Random(seed)
    font = font or rng.choice(sorted(FONTS))
    size_pt = size_pt or rng.choice((11.0, 12.0, 13.0, 14.0))
    width, height = (round(mm / 25.4 * dpi) for mm in A4_MM)
    canvas = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(canvas)
    px = round(size_pt * dpi / 72)
    body_font, bold_font = _font(font, px), _font(font, px, bold=True)
    small_bold = _font(font, round(px * 0.92), bold=True)
    margin_left, margin_right, top = (
        round(30 / 25.4 * dpi),
        round(20 / 25.4 * dpi),
        round(20 / 25.4 * dpi),
    )
    line_h = round(px * 1.35)
    y = top
    truth: list[str] = []
    tops: list[int] = []
    blocks: list[str] = []
    if header:
        k = rng.randrange(len(PROVINCES))
        body, symbol = rng.choice(BODIES)
        number = rng.randint(10, 2999)
        day, month, year = (
            rng.randint(1, 28),
            rng.randint(1, 12),
            rng.choice((2020, 2023, 2024, 2025)),
        )
        left = [f"UBND {PROVINCES[k]}", body, f"Số: {number}/{symbol}"]
        right = [
            "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
            "Độc lập - Tự do - Hạnh phúc",
            f"{PLACES[k]}, ngày {day} tháng {month} năm {year}",
        ]
        left_fonts = [body_font, small_bold, body_font]
        right_fonts = [small_bold, small_bold, body_font]
        left_w = round((width - margin_left - margin_right) * 0.40)
        right_x0 = margin_left + left_w + round(px * 1.5)
        right_w = width - margin_right - right_x0
        for i in range(3):
            for text, fnt, x0, w in (
                (left[i], left_fonts[i], margin_left, left_w),
                (right[i], right_fonts[i], right_x0, right_w),
            ):
                tw = fnt.getlength(text)
                while tw > w and fnt.size > 10:  # shrink long header lines to fit their column
                    fnt = ImageFont.truetype(fnt.path, fnt.size - 2)
                    tw = fnt.getlength(text)
                draw.text((x0 + (w - tw) / 2, y), text, font=fnt, fill=0)
            y += line_h
        blocks = ["\n".join(left), "\n".join(right)]
        truth.extend(blocks)
        tops.extend([top + i * line_h for i in range(3)] * 2)
        y += line_h
        kind = rng.choice(TYPES)
        for text, fnt in ((kind, bold_font), (rng.choice(SUBJECTS), body_font)):
            tw = fnt.getlength(text)
            draw.text(((width - tw) / 2, y), text, font=fnt, fill=0)
            truth.append(text)
            tops.append(y)
            y += line_h
        y += line_h // 2
    usable = width - margin_left - margin_right
    count = paragraphs if paragraphs is not None else 100
    for _ in range(count):
        sentences = [rng.choice(SENTENCES) for _ in range(rng.randint(2, 4))]
        lines = _wrap(" ".join(sentences), body_font, usable - px * 2)
        if y + line_h * (len(lines) + 1) > height - top:
            break
        for j, line in enumerate(lines):
            x = margin_left + (px * 2 if j == 0 else 0)
            draw.text((x, y), line, font=body_font, fill=0)
            truth.append(line)
            tops.append(y)
            y += line_h
        y += line_h // 3
    image = cv2.cvtColor(np.asarray(canvas), cv2.COLOR_GRAY2BGR)
    text = unicodedata.normalize("NFC", "\n".join(truth))
    return Page(image, text, dpi, font, size_pt, "clean", 0.0, tuple(blocks), tuple(tops), line_h)


def rotate(image: np.ndarray[Any, Any], angle: float, *, fill: int = 255) -> np.ndarray[Any, Any]:
    """Turn `image` by `angle` degrees counter-clockwise, expanding the canvas."""
    h, w = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
    nw, nh = int(h * sin + w * cos), int(h * cos + w * sin)
    matrix[0, 2] += nw / 2 - w / 2
    matrix[1, 2] += nh / 2 - h / 2
    border = (fill,) * (image.shape[2] if image.ndim == 3 else 1)
    return cv2.warpAffine(
        image,
        matrix,
        (nw, nh),
        flags=cv2.INTER_CUBIC,
        borderValue=border,  # type: ignore[arg-type]
    )


def _jpeg(image: np.ndarray[Any, Any], quality: int) -> np.ndarray[Any, Any]:
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return cv2.imdecode(data, cv2.IMREAD_COLOR)


def add_scanner_border(image: np.ndarray[Any, Any], rng: random.Random) -> np.ndarray[Any, Any]:
    """Dark bands along two edges, as a flatbed scanner leaves around a smaller sheet."""
    out = image.copy()
    h, w = out.shape[:2]
    left = rng.randint(w // 60, w // 25)
    bottom = rng.randint(h // 80, h // 30)
    out[:, :left] = rng.randint(10, 50)
    out[h - bottom :, :] = rng.randint(10, 50)
    return out


def uneven_lighting(
    image: np.ndarray[Any, Any], rng: random.Random, depth: float = 0.45
) -> np.ndarray[Any, Any]:
    """Multiply by a smooth gradient: a corner in shadow, as a phone photo or a raised lid gives."""
    h, w = image.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    cx, cy = rng.choice(((0, 0), (w, 0), (0, h), (w, h)))
    dist = np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2) / np.hypot(w, h)
    shade = 1.0 - depth * np.clip(1.0 - dist * 1.6, 0, 1)
    out = image.astype(np.float32) * (shade[..., None] if image.ndim == 3 else shade)
    return np.clip(out, 0, 255).astype(np.uint8)


def degrade(page: Page, level: Level, seed: int) -> Page:
    """A scanned (blur, noise, ±2.5° skew, JPEG, border) or harsh (low resolution, uneven
    lighting, ±4.5° skew, speckle) copy of `page`; `clean` returns it unchanged."""
    if level == "clean":
        return page
    rng = random.Random(seed)
    nprng = np.random.default_rng(seed)
    image = page.image
    dpi = page.dpi
    limit = 2.5 if level == "scanned" else 4.5
    angle = rng.uniform(0.5, limit) * rng.choice((-1, 1))
    image = rotate(image, angle)
    if level == "harsh":
        dpi = rng.choice((120, 150))
        scale = dpi / page.dpi
        image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        image = uneven_lighting(image, rng)
    image = cv2.GaussianBlur(image, (0, 0), 0.9 if level == "scanned" else 0.6)
    noise = nprng.normal(0, 6 if level == "scanned" else 9, image.shape)
    image = np.clip(image.astype(np.float32) + noise, 0, 255).astype(np.uint8)
    if level == "harsh":
        h, w = image.shape[:2]
        count = h * w // 1500
        ys, xs = nprng.integers(0, h, count), nprng.integers(0, w, count)
        image[ys, xs] = 0
    else:
        image = add_scanner_border(image, rng)
    image = _jpeg(image, rng.randint(55, 75) if level == "harsh" else rng.randint(70, 85))
    return replace(page, image=image, dpi=dpi, level=level, skew=angle)


def add_seal_and_signature(page: Page, seed: int) -> Page:
    """Stamp a red seal and a blue signature stroke over the body text, as on an issued result."""
    rng = random.Random(seed)
    h, w = page.image.shape[:2]
    ink = np.full((h, w, 3), 255, np.uint8)  # drawn apart, then multiplied: ink over ink
    cx, cy = w // 2 + rng.randint(-200, 200), h // 3 + rng.randint(-100, 300)
    cv2.circle(ink, (cx, cy), 260, (40, 40, 220), 14)
    cv2.circle(ink, (cx, cy), 200, (40, 40, 220), 6)
    cv2.putText(ink, "UBND", (cx - 150, cy + 30), cv2.FONT_HERSHEY_SIMPLEX, 3.0, (40, 40, 220), 10)
    xs = np.linspace(cx - 500, cx + 500, 60)
    ys = cy + 120 + 80 * np.sin(xs / 60.0)
    points = np.stack([xs, ys], axis=1).astype(np.int32)
    cv2.polylines(ink, [points], False, (200, 60, 20), 8)
    image = (page.image.astype(np.uint16) * ink // 255).astype(np.uint8)
    return replace(page, image=image)


def write_image(image: np.ndarray[Any, Any], path: str, dpi: int) -> None:
    """Save a page with its resolution in the file (PNG pHYs / JPEG JFIF / TIFF tags)."""
    rgb = Image.fromarray(cv2.cvtColor(image, cv2.COLOR_BGR2RGB) if image.ndim == 3 else image)
    buffer = io.BytesIO()
    fmt = "JPEG" if path.lower().endswith((".jpg", ".jpeg")) else None
    rgb.save(
        buffer,
        format=fmt or Image.registered_extensions()[path[path.rfind(".") :].lower()],
        dpi=(dpi, dpi),
        **({"quality": 92} if fmt else {}),
    )
    with open(path, "wb") as handle:
        handle.write(buffer.getvalue())


def corpus(level: Level, count: int, seed: int = 0) -> Iterator[Page]:
    """`count` pages at `level`, fonts and sizes cycling, deterministic in `seed`."""
    fonts = sorted(FONTS)
    sizes = (12.0, 13.0, 11.0, 14.0)
    for i in range(count):
        page = render_page(
            seed * 1000 + i, font=fonts[i % len(fonts)], size_pt=sizes[i % len(sizes)]
        )
        yield degrade(page, level, seed * 1000 + i + 7)


def render_columns(seed: int, *, font: str = "Liberation Serif", size_pt: float = 12.0) -> Page:
    """A half page set in two columns (a newsletter or a gazette page): ground truth is the left
    column, then the right one."""
    rng = random.Random(seed)
    dpi = 300
    width, height = 2480, 1700
    canvas = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(canvas)
    px = round(size_pt * dpi / 72)
    body = _font(font, px)
    margin, gutter = 250, 160
    column_w = (width - 2 * margin - gutter) / 2
    line_h = round(px * 1.35)
    truth: list[str] = []
    for col in range(2):
        x0 = margin + col * (column_w + gutter)
        y = 200
        while y < height - 200 - line_h * 6:
            text = " ".join(rng.choice(SENTENCES) for _ in range(2))
            for line in _wrap(text, body, column_w):
                draw.text((x0, y), line, font=body, fill=0)
                truth.append(line)
                y += line_h
            y += line_h // 2
    image = cv2.cvtColor(np.asarray(canvas), cv2.COLOR_GRAY2BGR)
    return Page(image, unicodedata.normalize("NFC", "\n".join(truth)), dpi, font, size_pt)


def crop(page: Page, height: int) -> Page:
    """The top of a clean page from `render_page`: the lines that fit in `height` pixels, image
    and ground truth alike (the rest is painted white)."""
    lines = page.text.split("\n")
    assert len(lines) == len(page.line_tops), "crop needs a page from render_page"
    fits = [top + page.line_height <= height for top in page.line_tops]
    kept = fits.index(False) if False in fits else len(lines)
    image = page.image[:height].copy()
    if kept < len(lines):
        image[page.line_tops[kept] - page.line_height // 4 :] = 255
    return replace(page, image=image, text="\n".join(lines[:kept]), line_tops=page.line_tops[:kept])
