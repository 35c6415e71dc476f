"""Red framed stamps (urgency, received) are read although clean-up washes red ink out; a
round red seal is not read as a stamp."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from extractors.ocr import ocr_image
from extractors.ocr.stamps import stamp_boxes

SERIF = "/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf"
BOLD = "/usr/share/fonts/truetype/liberation2/LiberationSerif-Bold.ttf"
RED = (200, 30, 40)


def _page(stamp: list[str] | None, seal: bool) -> np.ndarray:
    image = Image.new("RGB", (2000, 900), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(SERIF, 50)
    draw.text((200, 120), "Số: 575/UBND-KTTH", font=font, fill=(0, 0, 0))
    draw.text((200, 600), "Thực hiện chỉ đạo của Ủy ban nhân dân tỉnh", font=font, fill=(0, 0, 0))
    if stamp:
        big = ImageFont.truetype(BOLD, 48)
        width = max(big.getlength(line) for line in stamp) + 40
        draw.rectangle((200, 240, 200 + width, 270 + 62 * len(stamp)), outline=RED, width=5)
        for i, line in enumerate(stamp):
            draw.text((220, 255 + 62 * i), line, font=big, fill=RED)
    if seal:
        draw.ellipse((1300, 150, 1750, 600), outline=RED, width=12)
        draw.text((1380, 350), "ỦY BAN NHÂN DÂN", font=font, fill=RED)
    return np.array(image)[:, :, ::-1].copy()


def test_a_red_urgency_stamp_is_read_and_a_seal_is_not_a_stamp() -> None:
    image = _page(["HỎA TỐC"], seal=True)
    boxes, _ = stamp_boxes(image, 300)
    assert len(boxes) == 1 and boxes[0][0] == 200
    page = ocr_image(image)
    assert "HỎA TỐC" in page.text
    assert "Số: 575/UBND-KTTH" in page.text
    stamp = [w for w in page.words if w.text in ("HỎA", "TỐC")]
    assert stamp and all(w.bbox[1] >= 240 and w.bbox[3] <= 340 for w in stamp)


def test_a_received_stamp_keeps_its_lines() -> None:
    page = ocr_image(_page(["CV ĐẾN", "Số: 2352", "Ngày: 21/3/18"], seal=False))
    assert "CV ĐẾN" in page.text and "2352" in page.text


def test_a_page_with_only_a_seal_reads_no_stamp() -> None:
    image = _page(None, seal=True)
    assert stamp_boxes(image, 300)[0] == []
    assert "ỦY BAN" not in ocr_image(image).text
