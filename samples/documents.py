"""Synthetic documents with ground truth for field extraction: ID cards, declarations, letters.

- `make_card(seed, level)`: the front of a chip citizen-ID card (CCCD) drawn in code — emblem,
  bilingual labels, a face placeholder, the QR of the 7- or 6-field payload — then laid on a
  textured desk with a perspective warp, uneven light and JPEG, as a phone photo.
- `make_declaration(seed, level)`: a filled birth-registration declaration (Circular 04/2020/
  TT-BTP layout) on an A4 page at 300 dpi.
- `make_official(seed, level)`: an official document in the Decree 30/2020 layout (two-column
  header, type or `V/v` subject, body, `Nơi nhận:` and signer).

Pages go through the OCR benchmark's `degrade` (levels clean / scanned / harsh); cards have their
own photo levels with the same names. `Document.truth` holds the expected fields (the extraction
contract: NFC, ISO dates, digits only). Everything is generated from the seed: no files.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import random
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import segno
from PIL import Image, ImageDraw, ImageFont

from extractors.fields.numwords import date_to_words
from extractors.fields.validators import NO_EXPIRY, century_sex_digit, expected_expiry
from motcua.types import nfc
from samples.pages import LEVELS, Level, Page, degrade, uneven_lighting

__all__ = [
    "LEVELS",
    "Document",
    "Person",
    "corpus",
    "make_card",
    "make_declaration",
    "make_official",
    "make_person",
    "place_on_desk",
    "qr_payload",
    "render_card",
]

_LIB = "/usr/share/fonts/truetype/liberation2/"
_DEJAVU = "/usr/share/fonts/truetype/dejavu/"
SANS, SANS_BOLD = _LIB + "LiberationSans-Regular.ttf", _LIB + "LiberationSans-Bold.ttf"
SERIF, SERIF_BOLD = _LIB + "LiberationSerif-Regular.ttf", _LIB + "LiberationSerif-Bold.ttf"
SERIF_ITALIC = _LIB + "LiberationSerif-Italic.ttf"
SERIF_BOLD_ITALIC = _LIB + "LiberationSerif-BoldItalic.ttf"
DEJAVU_SANS, DEJAVU_BOLD = _DEJAVU + "DejaVuSans.ttf", _DEJAVU + "DejaVuSans-Bold.ttf"

SURNAMES = (
    "Nguyễn",
    "Trần",
    "Lê",
    "Phạm",
    "Hoàng",
    "Huỳnh",
    "Phan",
    "Vũ",
    "Võ",
    "Đặng",
    "Bùi",
    "Đỗ",
    "Hồ",
    "Ngô",
    "Dương",
    "Lý",
    "Đinh",
    "Trương",
)
MIDDLE = {
    "Nam": ("Văn", "Hữu", "Đức", "Minh", "Quốc", "Công", "Thành", "Xuân", "Gia"),
    "Nữ": ("Thị", "Ngọc", "Thu", "Thanh", "Kim", "Bảo", "Diệu", "Mỹ", "Thị"),
}
GIVEN = {
    "Nam": (
        "An",
        "Bình",
        "Cường",
        "Dũng",
        "Hùng",
        "Khang",
        "Long",
        "Nam",
        "Phúc",
        "Quang",
        "Sơn",
        "Thắng",
        "Tuấn",
        "Việt",
        "Huy",
        "Khoa",
        "Đạt",
        "Hiếu",
        "Lộc",
        "Trung",
    ),
    "Nữ": (
        "Anh",
        "Bích",
        "Chi",
        "Dung",
        "Hà",
        "Hằng",
        "Hương",
        "Lan",
        "Linh",
        "Mai",
        "Ngân",
        "Nhung",
        "Oanh",
        "Phương",
        "Thảo",
        "Trang",
        "Uyên",
        "Yến",
        "Hạnh",
        "Giang",
    ),
}

# (province as written in addresses, code, [(district, [wards/communes])])
PLACES: tuple[tuple[str, str, tuple[tuple[str, tuple[str, ...]], ...]], ...] = (
    (
        "Hà Nội",
        "001",
        (
            ("Quận Ba Đình", ("Phường Kim Mã", "Phường Ngọc Hà")),
            ("Huyện Đông Anh", ("Xã Uy Nỗ", "Xã Vân Hà")),
        ),
    ),
    (
        "Thanh Hóa",
        "038",
        (
            ("Huyện Quảng Xương", ("Xã Quảng Tân", "Xã Tiên Trang")),
            ("Thành phố Sầm Sơn", ("Phường Trường Sơn", "Phường Bắc Sơn")),
        ),
    ),
    (
        "Nghệ An",
        "040",
        (
            ("Huyện Diễn Châu", ("Xã Diễn Hồng", "Xã Diễn Kỷ")),
            ("Thành phố Vinh", ("Phường Hưng Bình", "Phường Trường Thi")),
        ),
    ),
    (
        "Đà Nẵng",
        "048",
        (
            ("Quận Hải Châu", ("Phường Thạch Thang", "Phường Hòa Cường Bắc")),
            ("Huyện Hòa Vang", ("Xã Hòa Phong", "Xã Hòa Tiến")),
        ),
    ),
    (
        "Quảng Nam",
        "049",
        (
            ("Huyện Điện Bàn", ("Xã Điện Minh", "Xã Điện Phước")),
            ("Thành phố Hội An", ("Phường Cẩm Phô", "Phường Minh An")),
        ),
    ),
    (
        "Bình Thuận",
        "060",
        (
            ("Huyện Hàm Thuận Bắc", ("Xã Hàm Trí", "Xã Hàm Chính")),
            ("Thành phố Phan Thiết", ("Phường Đức Nghĩa", "Phường Phú Thủy")),
        ),
    ),
    (
        "Hồ Chí Minh",
        "079",
        (
            ("Quận Gò Vấp", ("Phường 5", "Phường 17")),
            ("Huyện Củ Chi", ("Xã Tân Thạnh Đông", "Xã Phước Hiệp")),
        ),
    ),
    (
        "An Giang",
        "089",
        (
            ("Huyện Chợ Mới", ("Xã Kiến An", "Xã Mỹ Hội Đông")),
            ("Thành phố Long Xuyên", ("Phường Mỹ Bình", "Phường Bình Đức")),
        ),
    ),
    (
        "Quảng Ninh",
        "022",
        (
            ("Thành phố Hạ Long", ("Phường Hồng Gai", "Phường Bãi Cháy")),
            ("Huyện Tiên Yên", ("Xã Đông Ngũ", "Xã Hải Lạng")),
        ),
    ),
    (
        "Cần Thơ",
        "092",
        (
            ("Quận Ninh Kiều", ("Phường An Hòa", "Phường Tân An")),
            ("Huyện Phong Điền", ("Xã Nhơn Ái", "Xã Tân Thới")),
        ),
    ),
)
STREETS = (
    "Lê Lợi",
    "Trần Phú",
    "Nguyễn Huệ",
    "Hùng Vương",
    "Lý Thường Kiệt",
    "Quang Trung",
    "Hai Bà Trưng",
    "Phan Chu Trinh",
    "Nguyễn Trãi",
    "Bạch Đằng",
)
ETHNIC = ("Kinh", "Kinh", "Kinh", "Tày", "Thái", "Mường", "Khmer", "Hoa", "Nùng", "H'Mông")


@dataclass(frozen=True)
class Person:
    name: str  # Title Case
    sex: str  # Nam / Nữ
    birth: dt.date
    province: str
    number: str  # 12 digits, consistent with birth and sex
    home: str  # quê quán
    address: str  # residence
    ethnic: str = "Kinh"


@dataclass(frozen=True)
class Document:
    kind: str
    image: np.ndarray[Any, Any]  # BGR
    truth: dict[str, str | tuple[str, ...]]
    level: str
    seed: int
    dpi: int = 300


def _place(rng: random.Random, *, street: bool) -> tuple[str, str, str]:
    province, code, districts = rng.choice(PLACES)
    district, wards = rng.choice(districts)
    ward = rng.choice(wards)
    prefix = (
        f"Số {rng.randint(1, 250)}, đường {rng.choice(STREETS)}, "
        if street
        else (
            f"Thôn {rng.randint(1, 12)}, "
            if ward.startswith("Xã")
            else f"Tổ {rng.randint(1, 30)}, "
        )
    )
    return f"{prefix}{ward}, {district}, {province}", province, code


def make_person(
    rng: random.Random, *, sex: str | None = None, born: tuple[int, int] = (1950, 2008)
) -> Person:
    sex = sex or rng.choice(("Nam", "Nữ"))
    name = f"{rng.choice(SURNAMES)} {rng.choice(MIDDLE[sex])} {rng.choice(GIVEN[sex])}"
    birth = dt.date(rng.randint(*born), rng.randint(1, 12), rng.randint(1, 28))
    home, _, code = _place(rng, street=False)
    address, _, _ = _place(rng, street=rng.random() < 0.5)
    digit = century_sex_digit(birth.year, sex)
    number = f"{code}{digit}{birth.year % 100:02d}{rng.randint(0, 999999):06d}"
    return Person(
        nfc(name),
        sex,
        birth,
        home.split(", ")[-1],
        number,
        nfc(home),
        nfc(address),
        rng.choice(ETHNIC),
    )


def qr_payload(person: Person, issued: dt.date, *, cmnd: str, layout: int) -> str:
    fields = [
        person.number,
        cmnd,
        person.name.upper(),
        person.birth.strftime("%d%m%Y"),
        person.sex,
        person.address,
        issued.strftime("%d%m%Y"),
    ]
    if layout == 6:
        del fields[1]
    return "|".join(fields)


def _qr_image(payload: str, size: int) -> Image.Image:
    buffer = io.BytesIO()
    segno.make(payload, error="m", micro=False).save(buffer, kind="png", scale=10, border=2)
    return (
        Image.open(io.BytesIO(buffer.getvalue()))
        .convert("RGB")
        .resize((size, size), Image.Resampling.NEAREST)
    )


def _fit(
    draw: ImageDraw.ImageDraw,
    xy: tuple[float, float],
    text: str,
    path: str,
    size: int,
    max_width: float,
    fill: tuple[int, int, int],
) -> None:
    font = ImageFont.truetype(path, size)
    while font.getlength(text) > max_width and size > 12:
        size -= 1
        font = ImageFont.truetype(path, size)
    draw.text(xy, text, font=font, fill=fill)


def _split_address(text: str, font: ImageFont.FreeTypeFont, first_width: float) -> tuple[str, str]:
    parts = text.split(", ")
    for cut in range(len(parts) - 1, 0, -1):
        head = ", ".join(parts[:cut]) + ","
        if font.getlength(head) <= first_width:
            return head, ", ".join(parts[cut:])
    return parts[0] + ",", ", ".join(parts[1:])


CARD_MM = (85.6, 53.98)


def render_card(
    person: Person, issued: dt.date, *, qr_text: str | None, px_per_mm: float = 20.0, seed: int = 0
) -> np.ndarray[Any, Any]:
    """The card front (BGR), flat, at `px_per_mm`; `qr_text=None` leaves the QR out."""
    rng = random.Random(seed)
    w, h = round(CARD_MM[0] * px_per_mm), round(CARD_MM[1] * px_per_mm)
    s = px_per_mm / 20.0
    card = Image.new("RGB", (w, h), (236, 242, 246))
    draw = ImageDraw.Draw(card)
    # Guilloche background: faint sine lines, as the printed security pattern.
    phase = rng.uniform(0, 2 * math.pi)
    for k in range(0, h, round(26 * s)):
        pts = [(x, k + 9 * s * math.sin(x / (40 * s) + k + phase)) for x in range(0, w, 8)]
        draw.line(pts, fill=(214, 226, 236), width=max(1, round(2 * s)))
    red, ink, label = (200, 30, 30), (20, 20, 30), (40, 40, 60)
    cx, cy, r = round(130 * s), round(130 * s), round(85 * s)
    draw.ellipse(
        (cx - r, cy - r, cx + r, cy + r),
        fill=(210, 40, 40),
        outline=(230, 190, 40),
        width=round(8 * s),
    )
    star = [
        (
            cx + r * 0.55 * math.cos(math.radians(a)) * (1 if i % 2 == 0 else 0.4),
            cy + r * 0.55 * math.sin(math.radians(a)) * (1 if i % 2 == 0 else 0.4),
        )
        for i, a in enumerate(range(-90, 270, 36))
    ]
    draw.polygon(star, fill=(240, 200, 40))
    top_x, top_w = round(250 * s), round(1030 * s)
    rows = (
        ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", SANS_BOLD, 34, ink),
        ("SOCIALIST REPUBLIC OF VIET NAM", SANS, 26, label),
        ("Độc lập - Tự do - Hạnh phúc", SANS_BOLD, 30, ink),
        ("Independence - Freedom - Happiness", SANS, 24, label),
    )
    y = round(40 * s)
    for text, path, size, colour in rows:
        font = ImageFont.truetype(path, round(size * s))
        draw.text((top_x + (top_w - font.getlength(text)) / 2, y), text, font=font, fill=colour)
        y += round((size + 10) * s)
    title = ImageFont.truetype(SANS_BOLD, round(50 * s))
    text = "CĂN CƯỚC CÔNG DÂN"
    draw.text((top_x + (top_w - title.getlength(text)) / 2, y + 8 * s), text, font=title, fill=red)
    sub = ImageFont.truetype(SANS, round(26 * s))
    text = "Citizen Identity Card"
    draw.text((top_x + (top_w - sub.getlength(text)) / 2, y + 70 * s), text, font=sub, fill=label)
    if qr_text is not None:
        qr = _qr_image(qr_text, round(300 * s))
        card.paste(qr, (w - round(330 * s), round(30 * s)))
    # Face placeholder: grey panel with a head-and-shoulders silhouette.
    fx0, fy0, fx1, fy1 = round(50 * s), round(330 * s), round(370 * s), round(760 * s)
    draw.rectangle((fx0, fy0, fx1, fy1), fill=(200, 208, 215))
    mx = (fx0 + fx1) / 2
    draw.ellipse((mx - 80 * s, fy0 + 70 * s, mx + 80 * s, fy0 + 270 * s), fill=(120, 125, 135))
    draw.ellipse((mx - 150 * s, fy0 + 280 * s, mx + 150 * s, fy1 + 150 * s), fill=(120, 125, 135))
    draw.rectangle((fx0, fy1, fx1, fy1 + 200 * s), fill=(236, 242, 246))
    draw.rectangle((fx0, fy0, fx1, fy1), outline=(150, 160, 170), width=round(3 * s))
    lab = ImageFont.truetype(SANS, round(30 * s))
    val = ImageFont.truetype(SANS_BOLD, round(36 * s))
    x = round(410 * s)
    right = w - round(40 * s)

    def labelled(yy: float, lab_text: str, value: str, xx: float = x) -> float:
        draw.text((xx, yy), lab_text, font=lab, fill=label)
        end = xx + lab.getlength(lab_text) + 14 * s
        draw.text((end, yy - 4 * s), value, font=val, fill=ink)
        return end + val.getlength(value)

    y = round(360 * s)
    big = ImageFont.truetype(SANS_BOLD, round(48 * s))
    draw.text((x, y), "Số / No.:", font=lab, fill=label)
    draw.text(
        (x + lab.getlength("Số / No.:") + 20 * s, y - 12 * s),
        person.number,
        font=big,
        fill=(160, 20, 20),
    )
    y += round(72 * s)
    draw.text((x, y), "Họ và tên / Full name:", font=lab, fill=label)
    y += round(40 * s)
    draw.text(
        (x, y), person.name.upper(), font=ImageFont.truetype(SANS_BOLD, round(42 * s)), fill=ink
    )
    y += round(64 * s)
    labelled(y, "Ngày sinh / Date of birth:", person.birth.strftime("%d/%m/%Y"))
    y += round(56 * s)
    end = labelled(y, "Giới tính / Sex:", person.sex)
    labelled(y, "Quốc tịch / Nationality:", "Việt Nam", xx=max(end + 70 * s, x + 480 * s))
    y += round(56 * s)
    draw.text((x, y), "Quê quán / Place of origin:", font=lab, fill=label)
    y += round(40 * s)
    _fit(draw, (x, y), person.home, SANS_BOLD, round(36 * s), right - x, ink)
    y += round(58 * s)
    lab_text = "Nơi thường trú / Place of residence:"
    draw.text((x, y), lab_text, font=lab, fill=label)
    start = x + lab.getlength(lab_text) + 14 * s
    head, tail = _split_address(person.address, val, right - start)
    draw.text((start, y - 4 * s), head, font=val, fill=ink)
    y += round(48 * s)
    _fit(draw, (x, y), tail, SANS_BOLD, round(36 * s), right - x, ink)
    expiry = expected_expiry(person.birth, issued)
    small = ImageFont.truetype(SANS, round(26 * s))
    draw.text((fx0, fy1 + 40 * s), "Có giá trị đến:", font=small, fill=label)
    draw.text((fx0, fy1 + 74 * s), "Date of expiry", font=small, fill=label)
    draw.text(
        (fx0 + small.getlength("Có giá trị đến:") + 10 * s, fy1 + 36 * s),
        expiry.strftime("%d/%m/%Y") if expiry else NO_EXPIRY,
        font=ImageFont.truetype(SANS_BOLD, round(32 * s)),
        fill=ink,
    )
    return cv2.cvtColor(np.asarray(card), cv2.COLOR_RGB2BGR)


def _desk(rng: random.Random, nprng: np.random.Generator, w: int, h: int) -> np.ndarray[Any, Any]:
    """A wood-grain or fabric texture, darker than the card."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    if rng.random() < 0.5:
        phase = rng.uniform(0, 6.28)
        grain = np.sin(yy / rng.uniform(6, 14) + 3 * np.sin(xx / rng.uniform(90, 200)) + phase)
        base = np.array(rng.choice(((40, 80, 130), (30, 60, 100), (60, 100, 150))), np.float32)
        img = base[None, None, :] * (0.8 + 0.2 * grain[..., None])
    else:
        base = np.array(rng.choice(((70, 60, 50), (50, 70, 40), (90, 80, 80))), np.float32)
        img = np.broadcast_to(base, (h, w, 3)).astype(np.float32)
    img += nprng.normal(0, 10, (h, w, 3))
    return np.clip(img, 0, 255).astype(np.uint8)


CARD_LEVELS: dict[str, dict[str, float]] = {
    "clean": {"angle": 6, "persp": 0.02, "light": 0.15, "blur": 0.0, "noise": 3, "jpeg": 92},
    "scanned": {"angle": 18, "persp": 0.05, "light": 0.3, "blur": 0.6, "noise": 6, "jpeg": 82},
    "harsh": {"angle": 35, "persp": 0.08, "light": 0.45, "blur": 1.0, "noise": 9, "jpeg": 68},
}


def place_on_desk(
    card: np.ndarray[Any, Any],
    seed: int,
    level: str = "clean",
    *,
    angle: float | None = None,
    size: tuple[int, int] = (2000, 1500),
) -> tuple[np.ndarray[Any, Any], list[tuple[float, float]]]:
    """Photograph `card` lying on a desk: rotation, perspective, uneven light, noise, JPEG.
    Returns the photo and where the card's corners (top-left, clockwise) landed."""
    rng = random.Random(seed)
    nprng = np.random.default_rng(seed)
    p = CARD_LEVELS[level]
    w, h = size
    photo = _desk(rng, nprng, w, h)
    ch, cw = card.shape[:2]
    theta = math.radians(angle if angle is not None else rng.uniform(-p["angle"], p["angle"]))
    scale = rng.uniform(0.62, 0.75) * w / cw
    if abs(math.sin(theta)) > 0.5:
        scale *= 0.8
    centre = (w / 2 + rng.uniform(-0.05, 0.05) * w, h / 2 + rng.uniform(-0.05, 0.05) * h)
    corners = []
    for x, y in ((0, 0), (cw, 0), (cw, ch), (0, ch)):
        dx, dy = (x - cw / 2) * scale, (y - ch / 2) * scale
        jitter = p["persp"] * cw * scale
        corners.append(
            (
                centre[0]
                + dx * math.cos(theta)
                - dy * math.sin(theta)
                + rng.uniform(-jitter, jitter),
                centre[1]
                + dx * math.sin(theta)
                + dy * math.cos(theta)
                + rng.uniform(-jitter, jitter),
            )
        )
    src = np.float32([(0, 0), (cw, 0), (cw, ch), (0, ch)])
    matrix = cv2.getPerspectiveTransform(src, np.float32(corners))
    mask = np.zeros((ch, cw), np.uint8)
    radius = round(3.2 * cw / CARD_MM[0])  # rounded corners, 3.18 mm (ISO/IEC 7810)
    cv2.rectangle(mask, (radius, 0), (cw - radius, ch), 255, -1)
    cv2.rectangle(mask, (0, radius), (cw, ch - radius), 255, -1)
    for x, y in (
        (radius, radius),
        (cw - radius, radius),
        (radius, ch - radius),
        (cw - radius, ch - radius),
    ):
        cv2.circle(mask, (x, y), radius, 255, -1)
    warped = cv2.warpPerspective(card, matrix, (w, h), flags=cv2.INTER_AREA)
    alpha = cv2.warpPerspective(mask, matrix, (w, h)).astype(np.float32)[..., None] / 255
    shadow = cv2.GaussianBlur(alpha, (0, 0), 12)[..., None] * 0.35
    photo = photo.astype(np.float32) * (1 - shadow)
    photo = photo * (1 - alpha) + warped.astype(np.float32) * alpha
    photo = np.clip(photo, 0, 255).astype(np.uint8)
    photo = uneven_lighting(photo, rng, depth=p["light"])
    if p["blur"]:
        photo = cv2.GaussianBlur(photo, (0, 0), p["blur"])
    noisy = photo.astype(np.float32) + nprng.normal(0, p["noise"], photo.shape)
    photo = np.clip(noisy, 0, 255).astype(np.uint8)
    ok, data = cv2.imencode(".jpg", photo, [cv2.IMWRITE_JPEG_QUALITY, int(p["jpeg"])])
    assert ok
    return cv2.imdecode(data, cv2.IMREAD_COLOR), corners


def make_card(
    seed: int,
    level: str = "clean",
    *,
    layout: int | None = None,
    angle: float | None = None,
    with_qr: bool = True,
) -> Document:
    """A photographed card front with its ground truth (QR fields included when present)."""
    rng = random.Random(seed)
    person = make_person(rng, born=(1950, 2006))
    earliest = max(person.birth.replace(year=person.birth.year + 14), dt.date(2021, 1, 1))
    issued = earliest + dt.timedelta(
        days=rng.randint(0, max(1, (dt.date(2025, 6, 30) - earliest).days))
    )
    layout = layout or rng.choice((6, 7))
    cmnd = f"{rng.randint(100000000, 399999999)}" if layout == 7 and rng.random() < 0.7 else ""
    payload = qr_payload(person, issued, cmnd=cmnd, layout=layout) if with_qr else None
    card = render_card(person, issued, qr_text=payload, seed=seed)
    image, _ = place_on_desk(card, seed, level, angle=angle)
    expiry = expected_expiry(person.birth, issued)
    truth: dict[str, str | tuple[str, ...]] = {
        "so_dinh_danh": person.number,
        "ho_ten": person.name.upper(),
        "ngay_sinh": person.birth.isoformat(),
        "gioi_tinh": person.sex,
        "quoc_tich": "Việt Nam",
        "que_quan": person.home,
        "noi_thuong_tru": person.address,
        "co_gia_tri_den": expiry.isoformat() if expiry else NO_EXPIRY,
    }
    if with_qr:
        truth["ngay_cap"] = issued.isoformat()
        if cmnd:
            truth["so_cmnd"] = cmnd
    return Document("cccd", image, truth, level, seed, dpi=300)


# --- A4 pages -------------------------------------------------------------------------------

A4_PX = (2480, 3508)  # 300 dpi


class _Pen:
    """Writes lines of text down an A4 page at 300 dpi."""

    def __init__(self, size_pt: float = 13.0) -> None:
        self.canvas = Image.new("RGB", A4_PX, (255, 255, 255))
        self.draw = ImageDraw.Draw(self.canvas)
        self.px = round(size_pt * 300 / 72)
        self.left, self.right = 354, A4_PX[0] - 236  # 30 mm / 20 mm margins
        self.y = 236
        self.line = round(self.px * 1.45)

    def font(self, path: str, scale: float = 1.0) -> ImageFont.FreeTypeFont:
        return ImageFont.truetype(path, round(self.px * scale))

    def text(self, x: float, text: str, path: str = SERIF, scale: float = 1.0) -> float:
        font = self.font(path, scale)
        self.draw.text((x, self.y), text, font=font, fill=(0, 0, 0))
        return x + font.getlength(text)

    def centred(
        self,
        text: str,
        path: str = SERIF,
        scale: float = 1.0,
        span: tuple[float, float] | None = None,
    ) -> None:
        x0, x1 = span or (self.left, self.right)
        font = self.font(path, scale)
        self.draw.text(
            ((x0 + x1 - font.getlength(text)) / 2, self.y), text, font=font, fill=(0, 0, 0)
        )

    def wrap(self, text: str, width: float, path: str = SERIF) -> list[str]:
        font = self.font(path)
        lines: list[str] = []
        current = ""
        for word in text.split():
            candidate = f"{current} {word}".strip()
            if current and font.getlength(candidate) > width:
                lines.append(current)
                current = word
            else:
                current = candidate
        return [*lines, current] if current else lines

    def fields(self, pairs: list[tuple[str, str]]) -> None:
        """`Label: value` pairs on one line, spaced out."""
        x = float(self.left)
        for label, value in pairs:
            x = self.text(x, f"{label}: ")
            x = self.text(x, value, SERIF) + self.px * 2.2
        self.y += self.line

    def nl(self, lines: float = 1.0) -> None:
        self.y += round(self.line * lines)

    def page(self, rng: random.Random, level: str, seed: int) -> np.ndarray[Any, Any]:
        image = cv2.cvtColor(np.asarray(self.canvas), cv2.COLOR_RGB2BGR)
        page = Page(image, "", 300, "Liberation Serif", self.px * 72 / 300)
        if level not in LEVELS:
            raise ValueError(f"unknown level {level}")
        lvl: Level = level  # type: ignore[assignment]
        return degrade(page, lvl, seed).image


RELATIONS = ("Cha", "Mẹ", "Ông nội", "Bà nội", "Ông ngoại", "Bà ngoại")


def make_declaration(seed: int, level: str = "clean", *, official: bool = False) -> Document:
    """A filled birth-registration declaration (Tờ khai đăng ký khai sinh) with ground truth.

    `official` follows the form of Circular 04/2020/TT-BTP as offices print it: the requester's
    identity paper written out (`Giấy tờ tùy thân: Căn cước công dân số …, cấp ngày …`), the
    residence after it, the parents without ID numbers (the 2020 form asks none)."""
    rng = random.Random(seed)
    child_sex = rng.choice(("Nam", "Nữ"))
    born = dt.date(2025, 1, 1) - dt.timedelta(days=rng.randint(3, 900))
    child_home, _, _ = _place(rng, street=False)
    mother = make_person(rng, sex="Nữ", born=(1980, 2004))
    father = make_person(rng, sex="Nam", born=(1975, 2002))
    relation = rng.choice(RELATIONS)
    requester = {"Cha": father, "Mẹ": mother}.get(relation) or make_person(
        rng, sex="Nam" if relation.startswith("Ông") else "Nữ", born=(1945, 1975)
    )
    surname = father.name.split()[0]
    child = f"{surname} {rng.choice(MIDDLE[child_sex])} {rng.choice(GIVEN[child_sex])}"
    caps = rng.random() < 0.6  # names in capitals, as forms ask, or as the clerk typed them

    def shown(name: str) -> str:
        return name.upper() if caps else name

    made = born + dt.timedelta(days=rng.randint(1, 55))
    commune = child_home.split(", ")[1]
    birth_place = rng.choice(
        (
            f"Trạm Y tế {commune}",
            f"Bệnh viện Đa khoa tỉnh {child_home.split(', ')[-1]}",
            f"Trung tâm Y tế {child_home.split(', ')[2]}",
        )
    )
    ethnic = mother.ethnic if rng.random() < 0.5 else father.ethnic
    pen = _Pen(rng.choice((12.0, 13.0)))
    pen.centred("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", SERIF_BOLD)
    pen.nl()
    pen.centred("Độc lập - Tự do - Hạnh phúc", SERIF_BOLD)
    pen.nl(2)
    pen.centred("TỜ KHAI ĐĂNG KÝ KHAI SINH", SERIF_BOLD, 1.2)
    pen.nl(1.8)
    pen.centred(f"Kính gửi: Ủy ban nhân dân {commune}")
    pen.nl(1.6)
    pen.fields([("Họ, chữ đệm, tên người yêu cầu", shown(requester.name))])
    if official:
        issued = dt.date(2021, 1, 1) + dt.timedelta(days=rng.randint(0, 1200))
        grouped = " ".join(requester.number[i : i + 4] for i in range(0, 12, 4))
        number = rng.choice((requester.number, grouped))
        pen.fields([("Nơi cư trú", requester.address)])
        paper = rng.choice(("Căn cước công dân", "Căn cước", "Thẻ căn cước công dân"))
        pen.fields(
            [("Giấy tờ tùy thân", f"{paper} số {number}, cấp ngày {issued.strftime('%d/%m/%Y')}")]
        )
    else:
        pen.fields([("Số định danh cá nhân", requester.number)])
        pen.fields([("Nơi cư trú", requester.address)])
    pen.fields([("Quan hệ với người được khai sinh", relation)])
    pen.text(pen.left, "Đề nghị cơ quan đăng ký khai sinh cho người dưới đây:", SERIF_BOLD)
    pen.nl()
    pen.fields([("Họ, chữ đệm, tên", shown(child))])
    pen.fields([("Ngày, tháng, năm sinh", born.strftime("%d/%m/%Y"))])
    words = date_to_words(born)
    pen.fields([("Ghi bằng chữ", words[0].upper() + words[1:])])
    pen.fields([("Giới tính", child_sex), ("Dân tộc", ethnic), ("Quốc tịch", "Việt Nam")])
    pen.fields([("Nơi sinh", birth_place)])
    pen.fields([("Quê quán", child_home)])
    for parent, title in ((mother, "mẹ"), (father, "cha")):
        pen.fields([(f"Họ, chữ đệm, tên người {title}", shown(parent.name))])
        pen.fields(
            [
                ("Năm sinh", str(parent.birth.year)),
                ("Dân tộc", parent.ethnic),
                ("Quốc tịch", "Việt Nam"),
            ]
        )
        if not official:
            pen.fields([("Số định danh cá nhân", parent.number)])
        pen.fields([("Nơi cư trú", parent.address)])
    pen.nl(0.5)
    for line in pen.wrap(
        "Tôi cam đoan nội dung đề nghị đăng ký khai sinh trên đây là đúng sự "
        "thật, được sự thỏa thuận nhất trí của các bên liên quan theo quy định "
        "pháp luật. Tôi chịu hoàn toàn trách nhiệm trước pháp luật về nội dung "
        "cam đoan của mình.",
        pen.right - pen.left,
    ):
        pen.text(pen.left, line)
        pen.nl()
    pen.nl()
    span = (pen.left + (pen.right - pen.left) * 0.4, float(pen.right))
    pen.centred(
        f"Làm tại: {commune}, ngày {made.day:02d} tháng {made.month:02d} năm {made.year}",
        SERIF_ITALIC,
        span=span,
    )
    pen.nl()
    pen.centred("Người yêu cầu", SERIF_BOLD, span=span)
    pen.nl()
    pen.centred("(Ký, ghi rõ họ, chữ đệm, tên)", SERIF_ITALIC, span=span)
    pen.nl(3)
    pen.centred(shown(requester.name), SERIF_BOLD, span=span)
    image = pen.page(rng, level, seed)
    truth: dict[str, str | tuple[str, ...]] = {
        "nguoi_yeu_cau.ho_ten": shown(requester.name),
        "nguoi_yeu_cau.so_dinh_danh": requester.number,
        "nguoi_yeu_cau.noi_cu_tru": requester.address,
        "nguoi_yeu_cau.quan_he": relation,
        "khai_sinh.ho_ten": nfc(shown(child)),
        "khai_sinh.ngay_sinh": born.isoformat(),
        "khai_sinh.gioi_tinh": child_sex,
        "khai_sinh.dan_toc": ethnic,
        "khai_sinh.quoc_tich": "Việt Nam",
        "khai_sinh.noi_sinh": nfc(birth_place),
        "khai_sinh.que_quan": child_home,
        "me.ho_ten": shown(mother.name),
        "me.nam_sinh": str(mother.birth.year),
        "me.so_dinh_danh": mother.number,
        "cha.ho_ten": shown(father.name),
        "cha.nam_sinh": str(father.birth.year),
        "cha.so_dinh_danh": father.number,
        "ngay_lam": made.isoformat(),
    }
    if official:
        del truth["me.so_dinh_danh"], truth["cha.so_dinh_danh"]
    return Document("to-khai-khai-sinh", image, truth, level, seed)


# (parent body or "", issuing body, symbol of the body, place, signer's titles)
BODIES = (
    (
        "UBND THÀNH PHỐ ĐÀ NẴNG",
        "SỞ GIÁO DỤC VÀ ĐÀO TẠO",
        "SGDĐT",
        "Đà Nẵng",
        ("GIÁM ĐỐC",),
        ("KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC"),
    ),
    (
        "UBND TỈNH QUẢNG NAM",
        "SỞ TƯ PHÁP",
        "STP",
        "Quảng Nam",
        ("GIÁM ĐỐC",),
        ("KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC"),
    ),
    (
        "UBND HUYỆN QUẢNG XƯƠNG",
        "PHÒNG TƯ PHÁP",
        "PTP",
        "Quảng Xương",
        ("TRƯỞNG PHÒNG",),
        ("KT. TRƯỞNG PHÒNG", "PHÓ TRƯỞNG PHÒNG"),
    ),
    (
        "",
        "ỦY BAN NHÂN DÂN XÃ HÒA PHONG",
        "UBND",
        "Hòa Phong",
        ("TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH"),
        ("TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"),
    ),
    (
        "",
        "ỦY BAN NHÂN DÂN TỈNH AN GIANG",
        "UBND",
        "An Giang",
        ("TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH"),
        ("TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"),
    ),
    (
        "BỘ TƯ PHÁP",
        "CỤC HỘ TỊCH, QUỐC TỊCH, CHỨNG THỰC",
        "HTQTCT",
        "Hà Nội",
        ("CỤC TRƯỞNG",),
        ("KT. CỤC TRƯỞNG", "PHÓ CỤC TRƯỞNG"),
    ),
    (
        "UBND TỈNH BÌNH THUẬN",
        "SỞ NỘI VỤ",
        "SNV",
        "Bình Thuận",
        ("GIÁM ĐỐC",),
        ("KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC"),
    ),
)
DEPARTMENTS = ("VP", "CTrTT", "TCCB", "HCTH", "KHTC", "NV", "TTr", "QLHC")
TYPES = {
    "QĐ": "Quyết định",
    "TB": "Thông báo",
    "KH": "Kế hoạch",
    "TTr": "Tờ trình",
    "BC": "Báo cáo",
    "": "Công văn",
}
SUBJECTS = (
    "tăng cường công tác cải cách thủ tục hành chính năm {y}",
    "triển khai số hóa hồ sơ, kết quả giải quyết thủ tục hành chính",
    "tổ chức tiếp nhận hồ sơ trực tuyến toàn trình",
    "kiện toàn Bộ phận Tiếp nhận và Trả kết quả",
    "chấn chỉnh việc trả kết quả giải quyết hồ sơ quá hạn",
    "thực hiện chữ ký số trên văn bản điện tử",
    "lịch tiếp công dân tháng {m} năm {y}",
    "tổng kết công tác văn thư, lưu trữ năm {y}",
)
BODY = (
    "Thực hiện chỉ đạo của cấp trên về việc đẩy mạnh cải cách hành chính, nâng cao chất lượng "
    "phục vụ người dân và doanh nghiệp, cơ quan đề nghị các đơn vị triển khai các nội dung sau.",
    "Các đơn vị rà soát quy trình nội bộ, công khai đầy đủ thủ tục hành chính tại Bộ phận Tiếp "
    "nhận và Trả kết quả, bảo đảm giải quyết hồ sơ đúng hạn.",
    "Tổ chức số hóa hồ sơ, kết quả giải quyết thủ tục hành chính theo quy định, cập nhật đầy đủ "
    "trên Hệ thống thông tin giải quyết thủ tục hành chính.",
    "Trong quá trình thực hiện, nếu có khó khăn, vướng mắc, đề nghị các đơn vị phản ánh kịp thời "
    "để tổng hợp, báo cáo cấp có thẩm quyền xem xét, giải quyết.",
    "Định kỳ hằng tháng, các đơn vị báo cáo kết quả thực hiện trước ngày 20 để tổng hợp chung.",
)
RECIPIENTS = (
    "Như trên",
    "UBND tỉnh",
    "Sở Nội vụ",
    "Văn phòng UBND",
    "Các phòng chuyên môn",
    "UBND các xã, phường",
    "Cổng thông tin điện tử",
    "Ban Giám đốc",
)


def _seal_and_signature(image: Image.Image, x: float, y: float, rng: random.Random) -> None:
    """Blue signature stroke with a red seal overlapping its left third, above the name."""
    arr = np.array(image)
    cx, cy = round(x), round(y)
    cv2.circle(arr, (cx - 150, cy), 140, (220, 60, 60), 7)
    cv2.circle(arr, (cx - 150, cy), 100, (220, 60, 60), 3)
    xs = np.linspace(cx - 160, cx + 220, 50)
    ys = cy + 40 * np.sin(xs / rng.uniform(25, 45))
    cv2.polylines(arr, [np.stack([xs, ys], 1).astype(np.int32)], False, (30, 60, 200), 5)
    image.paste(Image.fromarray(arr))


def _stamp(image: Image.Image, x: float, y: float, lines: list[str], scale: float = 0.8) -> None:
    """A red rubber stamp: boxed lines of capitals (received or urgency stamp)."""
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(SERIF_BOLD, round(54 * scale))
    width = max(font.getlength(line) for line in lines) + 40
    height = len(lines) * round(66 * scale) + 30
    draw.rectangle((x, y, x + width, y + height), outline=(200, 30, 40), width=5)
    for i, line in enumerate(lines):
        draw.text((x + 20, y + 15 + i * round(66 * scale)), line, font=font, fill=(200, 30, 40))


def make_official(seed: int, level: str = "clean", *, real_layout: bool = False) -> Document:
    """An official document (Decree 30/2020 layout) with ground truth.

    `real_layout` draws the header the way the offices' own scans show it (bench/letters.py):
    a body without a parent on two lines (`ỦY BAN NHÂN DÂN` / `TỈNH …`), the old tone
    placement half the time (`UỶ`, `HOÀ`), and sometimes a red urgency stamp (`HỎA TỐC`,
    `KHẨN`, its value in the truth's `do_khan`) or a received stamp (`CV ĐẾN`, with its own Số
    and Ngày) that must not be read as the document's."""
    rng = random.Random(seed)
    variation = random.Random(seed * 7919 + 17)  # the main stream stays as without it
    parent, body, symbol, place, titles, deputy_titles = rng.choice(BODIES)
    code = rng.choice(list(TYPES))
    kind = TYPES[code]
    number = rng.randint(1, 3999)
    dept = rng.choice(DEPARTMENTS)
    so_ky_hieu = f"{number}/{code}-{symbol}" if code else f"{number}/{symbol}-{dept}"
    issued = dt.date(
        rng.choice((2020, 2022, 2023, 2024, 2025)), rng.randint(1, 12), rng.randint(1, 28)
    )
    subject = rng.choice(SUBJECTS).format(y=issued.year, m=issued.month)
    signer = make_person(rng, born=(1965, 1985))
    title_lines = rng.choice((titles, deputy_titles))
    recipients = ["Như trên", *rng.sample(RECIPIENTS[1:], rng.randint(1, 3)), f"Lưu: VT, {dept}"]
    pen = _Pen(13.0)
    col = (pen.right - pen.left) * 0.42
    left = (float(pen.left) - 60, pen.left + col)
    right = (pen.left + col + 60, float(pen.right) + 60)
    old_tones = real_layout and variation.random() < 0.5
    motto = (
        "CỘNG HOÀ XÃ HỘI CHỦ NGHĨA VIỆT NAM" if old_tones else "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    )
    rows_left = [(parent, SERIF)] if parent else []
    rows_left += [(body, SERIF_BOLD), ("", SERIF), (f"Số: {so_ky_hieu}", SERIF)]
    head = "ỦY BAN NHÂN DÂN "
    if real_layout and not parent and body.startswith(head):
        printed = body[: len(head) - 1].replace("ỦY", "UỶ") if old_tones else body[: len(head) - 1]
        rows_left = [(printed, SERIF_BOLD), (body[len(head) :], SERIF_BOLD), *rows_left[1:]]
    rows_right = [
        (motto, SERIF_BOLD),
        ("Độc lập - Tự do - Hạnh phúc", SERIF_BOLD),
        ("", SERIF),
        (
            f"{place}, ngày {issued.day:02d} tháng {issued.month:02d} năm {issued.year}",
            SERIF_ITALIC,
        ),
    ]
    if len(rows_left) < len(rows_right):
        rows_left = [("", SERIF), *rows_left]
    header_top = pen.y
    for (ltext, lpath), (rtext, rpath) in zip(rows_left, rows_right, strict=True):
        if ltext:
            font = pen.font(lpath, 0.95)
            scale = min(0.95, 0.95 * (left[1] - left[0]) / font.getlength(ltext))
            pen.centred(ltext, lpath, scale, span=left)
        if rtext:
            pen.centred(rtext, rpath, 0.95 if rpath == SERIF_BOLD else 1.0, span=right)
        pen.nl()
    urgency = ""
    stamp = variation.random() if real_layout else 1.0
    if stamp < 0.25:
        urgency = variation.choice(("Hỏa tốc", "Khẩn", "Thượng khẩn"))
        _stamp(pen.canvas, pen.left + 40, pen.y + 10, [urgency.upper()], 0.9)
    elif stamp < 0.5:
        received = variation.randint(100, 9999)
        day = issued + dt.timedelta(days=variation.randint(1, 9))
        lines = ["CV ĐẾN", f"Số: {received}", f"Ngày: {day.day}/{day.month}/{day.year % 100:02d}"]
        _stamp(pen.canvas, 40, header_top + 4 * pen.line, lines, 0.7)
    if not code:
        subject_text = f"V/v {subject}"
        for line in pen.wrap(subject_text, left[1] - left[0] - 40):
            pen.centred(line, SERIF, 0.95, span=left)
            pen.nl()
        pen.nl()
        pen.centred(f"Kính gửi: {rng.choice(RECIPIENTS[1:])}")
        pen.nl(1.5)
        trich_yeu = subject
    else:
        pen.nl()
        pen.centred(kind.upper(), SERIF_BOLD, 1.1)
        pen.nl()
        subject_text = (
            subject[0].upper() + subject[1:] if rng.random() < 0.5 else (f"Về việc {subject}")
        )
        for line in pen.wrap(subject_text, pen.right - pen.left - 300, SERIF_BOLD):
            pen.centred(line, SERIF_BOLD)
            pen.nl()
        pen.nl(1.2)
        trich_yeu = subject_text
    for paragraph in rng.sample(BODY, rng.randint(2, 4)):
        for j, line in enumerate(pen.wrap(paragraph, pen.right - pen.left - 80)):
            pen.text(pen.left + (80 if j == 0 else 0), line)
            pen.nl()
    pen.nl()
    top = pen.y
    pen.text(pen.left, "Nơi nhận:", SERIF_BOLD_ITALIC, 0.9)
    pen.nl(0.9)
    for i, item in enumerate(recipients):
        pen.text(pen.left, f"- {item}{'.' if i == len(recipients) - 1 else ';'}", SERIF, 0.85)
        pen.nl(0.85)
    pen.y = top
    for line in title_lines:
        pen.centred(line, SERIF_BOLD, span=right)
        pen.nl()
    _seal_and_signature(pen.canvas, (right[0] + right[1]) / 2, pen.y + pen.line * 2.6, rng)
    pen.nl(5)
    name = signer.name
    pen.centred(name, SERIF_BOLD, span=right)
    image = pen.page(rng, level, seed)
    truth: dict[str, str | tuple[str, ...]] = {
        "co_quan_ban_hanh": body,
        "so_ky_hieu": so_ky_hieu,
        "loai_van_ban": kind,
        "dia_danh": place,
        "ngay_ban_hanh": issued.isoformat(),
        "trich_yeu": nfc(trich_yeu),
        "nguoi_ky": name,
        "chuc_vu_nguoi_ky": title_lines[-1],
        "noi_nhan": tuple(recipients),
    }
    if urgency:
        truth["do_khan"] = urgency
    return Document("van-ban", image, truth, level, seed)


MARITAL_STATUSES = (
    "Chưa đăng ký kết hôn với ai",
    "Đã đăng ký kết hôn, đã ly hôn theo Bản án số 12/2020/HNGĐ-ST",
    "Chưa kết hôn lần nào",
)
MARITAL_PURPOSES = (
    "Đăng ký kết hôn",
    "Làm thủ tục vay vốn ngân hàng",
    "Bổ sung hồ sơ mua bán nhà đất",
    "Xuất khẩu lao động",
)


def make_marital_declaration(seed: int, level: str = "clean") -> Document:
    """A filled declaration for a confirmation of marital status (Circular 04/2020/TT-BTP).

    The identity papers are written as sentences ("Căn cước công dân số …, cấp ngày …"), as the
    official form asks; the requester is the person concerned or a relative."""
    rng = random.Random(seed)
    person = make_person(rng, sex=rng.choice(("Nam", "Nữ")), born=(1960, 2005))
    relation = rng.choice(("Bản thân", "Bản thân", "Cha", "Mẹ"))
    requester = (
        person
        if relation == "Bản thân"
        else make_person(rng, sex="Nam" if relation == "Cha" else "Nữ", born=(1940, 1975))
    )
    caps = rng.random() < 0.6

    def shown(name: str) -> str:
        return name.upper() if caps else name

    def paper(who: Person) -> str:
        issued = dt.date(2021, 1, 1) + dt.timedelta(days=rng.randint(0, 1200))
        return f"Căn cước công dân số {who.number}, cấp ngày {issued.strftime('%d/%m/%Y')}"

    made = dt.date(2025, 1, 2) + dt.timedelta(days=rng.randint(0, 600))
    commune = person.address.split(", ")[-3] if person.address.count(", ") >= 2 else "xã"
    status = rng.choice(MARITAL_STATUSES)
    purpose = rng.choice(MARITAL_PURPOSES)
    pen = _Pen(rng.choice((12.0, 13.0)))
    pen.centred("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", SERIF_BOLD)
    pen.nl()
    pen.centred("Độc lập - Tự do - Hạnh phúc", SERIF_BOLD)
    pen.nl(2)
    pen.centred("TỜ KHAI CẤP GIẤY XÁC NHẬN TÌNH TRẠNG HÔN NHÂN", SERIF_BOLD, 1.1)
    pen.nl(1.8)
    pen.centred(f"Kính gửi: Ủy ban nhân dân {commune}")
    pen.nl(1.6)
    pen.fields([("Họ, chữ đệm, tên người yêu cầu", shown(requester.name))])
    pen.fields([("Nơi cư trú", requester.address)])
    pen.fields([("Giấy tờ tùy thân", paper(requester))])
    pen.fields([("Quan hệ với người được cấp Giấy xác nhận tình trạng hôn nhân", relation)])
    pen.text(
        pen.left,
        "Đề nghị cấp Giấy xác nhận tình trạng hôn nhân cho người có tên dưới đây:",
        SERIF_BOLD,
    )
    pen.nl()
    pen.fields([("Họ, chữ đệm, tên", shown(person.name))])
    pen.fields([("Ngày, tháng, năm sinh", person.birth.strftime("%d/%m/%Y"))])
    pen.fields([("Giới tính", person.sex), ("Dân tộc", person.ethnic), ("Quốc tịch", "Việt Nam")])
    pen.fields([("Nơi cư trú", person.address)])
    pen.fields([("Giấy tờ tùy thân", paper(person))])
    pen.fields([("Tình trạng hôn nhân", status)])
    pen.fields([("Mục đích của việc sử dụng Giấy xác nhận tình trạng hôn nhân", purpose)])
    pen.nl(0.5)
    for line in pen.wrap(
        "Tôi cam đoan những nội dung khai trên đây là đúng sự thật và chịu trách nhiệm "
        "trước pháp luật về cam đoan của mình.",
        pen.right - pen.left,
    ):
        pen.text(pen.left, line)
        pen.nl()
    pen.nl()
    span = (pen.left + (pen.right - pen.left) * 0.4, float(pen.right))
    pen.centred(
        f"Làm tại: {commune}, ngày {made.day:02d} tháng {made.month:02d} năm {made.year}",
        SERIF_ITALIC,
        span=span,
    )
    pen.nl()
    pen.centred("Người yêu cầu", SERIF_BOLD, span=span)
    pen.nl()
    pen.centred("(Ký, ghi rõ họ, chữ đệm, tên)", SERIF_ITALIC, span=span)
    pen.nl(3)
    pen.centred(shown(requester.name), SERIF_BOLD, span=span)
    image = pen.page(rng, level, seed)
    truth: dict[str, str | tuple[str, ...]] = {
        "nguoi_yeu_cau.ho_ten": shown(requester.name),
        "nguoi_yeu_cau.noi_cu_tru": requester.address,
        "nguoi_yeu_cau.so_dinh_danh": requester.number,
        "nguoi_yeu_cau.quan_he": relation,
        "nguoi_duoc_cap.ho_ten": shown(person.name),
        "nguoi_duoc_cap.ngay_sinh": person.birth.isoformat(),
        "nguoi_duoc_cap.gioi_tinh": person.sex,
        "nguoi_duoc_cap.dan_toc": person.ethnic,
        "nguoi_duoc_cap.quoc_tich": "Việt Nam",
        "nguoi_duoc_cap.noi_cu_tru": person.address,
        "nguoi_duoc_cap.so_dinh_danh": person.number,
        "nguoi_duoc_cap.tinh_trang_hon_nhan": nfc(status),
        "nguoi_duoc_cap.muc_dich": nfc(purpose),
        "ngay_lam": made.isoformat(),
    }
    return Document("to-khai-xac-nhan-hon-nhan", image, truth, level, seed)


MAKERS = {
    "cccd": make_card,
    "to-khai-khai-sinh": make_declaration,
    "to-khai-xac-nhan-hon-nhan": make_marital_declaration,
    "van-ban": make_official,
}


def corpus(count: int, seed: int = 0) -> list[tuple[str, int, str]]:
    """`count` (kind, seed, level) recipes cycling kinds and levels; build with `MAKERS[kind]`."""
    kinds = list(MAKERS)
    n = len(kinds)
    return [(kinds[i % n], seed * 10_000 + i, LEVELS[(i // n) % len(LEVELS)]) for i in range(count)]
