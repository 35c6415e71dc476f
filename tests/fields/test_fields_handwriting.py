"""Handwritten digits in the typed slots of a Decree 30 header (issue 18, item 2).

Generated images only: typed words rendered with a serif font, the digits drawn as pen
strokes with varied stroke width, slant, wobble and blur (seeds the classifier did not train
on), the word boxes given as OCR would give them.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from extractors.fields import digits
from extractors.fields import handwriting as hw
from extractors.fields.api import extract_from_pages
from extractors.fields.checks import Draft
from extractors.ocr import OcrPage, Word

FONT = "/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf"
WIDTH, HEIGHT = 2400, 3400


def _pens(seed: int, n: int) -> list[digits.Pen]:
    rng = np.random.default_rng(seed)
    return [digits.random_pen(rng, height=(40, 58)) for _ in range(n)]


def test_pen_digits_the_classifier_never_saw_are_read() -> None:
    rng = np.random.default_rng(424242)
    crops, truth = [], []
    for k in range(300):
        crops.append(digits.pen_digit(k % 10, digits.random_pen(rng), rng))
        truth.append(k % 10)
    read = digits.classify(crops)
    accuracy = np.mean([d == t for (d, _), t in zip(read, truth, strict=True)])
    assert accuracy >= 0.95
    # and it knows when it is sure: the confident readings are right more often still
    sure = [(d, t) for (d, p), t in zip(read, truth, strict=True) if p >= hw.SURE]
    assert len(sure) >= 120
    assert np.mean([d == t for d, t in sure]) >= 0.98


def test_a_blank_crop_is_not_a_confident_digit() -> None:
    assert hw.split_digits(np.zeros((60, 80), np.uint8), 40.0) == []


class Page:
    """A page image with typed words (boxes kept, as OCR gives them) and handwriting."""

    def __init__(self) -> None:
        self.image = Image.new("L", (WIDTH, HEIGHT), 255)
        self.draw = ImageDraw.Draw(self.image)
        self.font = ImageFont.truetype(FONT, 46)
        self.words: list[Word] = []
        self.lines: list[str] = []

    def typed(self, x: int, y: int, text: str, *, line: int, record: bool = True) -> int:
        for part in text.split(" "):
            left, top, right, bottom = self.draw.textbbox((x, y), part, font=self.font)
            self.draw.text((x, y), part, fill=0, font=self.font)
            if record:
                self.words.append(Word(part, (left, top, right, bottom), 0.95, line=line))
            x = right + 14
        return x

    def written(self, x: int, y_base: int, text: str, pen: digits.Pen, seed: int) -> int:
        rng = np.random.default_rng(seed)
        for ch in text:
            ink = digits.pen_digit(int(ch), pen, rng)
            ys, xs = np.nonzero(ink > 40)
            ink = ink[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
            h, w = ink.shape
            box = (x, y_base - h)
            patch = np.asarray(self.image.crop((*box, x + w, y_base)), np.float32)
            patch = np.minimum(patch, 255 - ink.astype(np.float32) * 0.85)
            self.image.paste(Image.fromarray(patch.astype(np.uint8)), box)
            x += w + 6
        return x

    def ocr_page(self, path: Path) -> OcrPage:
        cv2.imwrite(str(path), np.asarray(self.image))
        text = "\n".join(self.lines)
        return OcrPage(1, text, 0.9, WIDTH, HEIGHT, words=tuple(self.words), dpi=300)


def _letter(number: str, day: str, pen: digits.Pen, seed: int, *, ocr_number: str,
            ocr_day: str, ocr_confidence: float = 0.4) -> Page:  # fmt: skip
    """A letter header whose number and day are written by hand; the OCR words read them
    as `ocr_number`, `ocr_day` (what Tesseract makes of handwriting)."""
    page = Page()
    page.typed(300, 250, "ỦY BAN NHÂN DÂN", line=1)
    page.typed(300, 310, "TỈNH QUẢNG NGÃI", line=2)
    page.typed(1150, 250, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", line=1)
    page.typed(1300, 310, "Độc lập - Tự do - Hạnh phúc", line=2)
    x = page.typed(330, 450, "Số:", line=3)
    start = x + 10
    end = page.written(start, 492, number, pen, seed)
    page.words.append(Word(ocr_number, (start, 440, end, 500), ocr_confidence, line=3))
    page.typed(end + 30, 450, "/UBND-KTTH", line=3)
    x = page.typed(1250, 450, "Quảng Ngãi, ngày", line=3)
    start = x + 8
    end = page.written(start, 492, day, pen, seed + 1)
    page.words.append(Word(ocr_day, (start, 440, end, 500), ocr_confidence, line=3))
    page.typed(end + 24, 450, "tháng 02 năm 2025", line=3)
    page.typed(300, 560, "V/v tham gia ý kiến", line=4)
    page.lines = ["ỦY BAN NHÂN DÂN", "TỈNH QUẢNG NGÃI", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"]
    return page


@pytest.mark.parametrize("seed", [7, 19, 31, 43])
def test_handwritten_number_and_day_are_read_and_sent_to_review(tmp_path: Path, seed: int) -> None:
    number, day = ("575", "04") if seed % 2 else ("1595", "28")
    pen = _pens(seed, 1)[0]
    page = _letter(number, day, pen, seed, ocr_number="5†5", ocr_day="0P")
    path = tmp_path / "letter.png"
    found = extract_from_pages([page.ocr_page(path)], "van-ban", path=str(path)).fields
    so, date = found["so_ky_hieu"], found["ngay_ban_hanh"]
    # Never a wrong value unflagged: a handwritten-only reading always goes to review.
    assert so.needs_review and any("viết tay" in r for r in so.reasons)
    assert date.needs_review and any("viết tay" in r for r in date.reasons)
    assert so.value == f"{number}/UBND-KTTH"
    assert date.value == f"2025-02-{day}"


def test_clean_ocr_the_classifier_contradicts_goes_to_review(tmp_path: Path) -> None:
    """The silent case of the issue: OCR reads `435` cleanly where `1595` is written."""
    pen = digits.Pen(slant=0.2, stroke=3.5, wobble=0.8, blur=0.7, height=56)
    page = _letter("1595", "17", pen, 5, ocr_number="435", ocr_day="17", ocr_confidence=0.96)
    path = tmp_path / "letter.png"
    found = extract_from_pages([page.ocr_page(path)], "van-ban", path=str(path)).fields
    assert found["so_ky_hieu"].needs_review
    assert any("1595" in r for r in found["so_ky_hieu"].reasons)


def test_two_readers_that_agree_need_no_review(tmp_path: Path) -> None:
    pen = digits.Pen(slant=0.1, stroke=4.0, wobble=0.5, blur=0.5, height=60)
    page = _letter("27", "09", pen, 11, ocr_number="27", ocr_day="09")
    path = tmp_path / "letter.png"
    found = extract_from_pages([page.ocr_page(path)], "van-ban", path=str(path)).fields
    # OCR was unsure of its reading (confidence 0.4); the classifier reads the same
    assert (found["so_ky_hieu"].value, found["so_ky_hieu"].needs_review) == ("27/UBND-KTTH", False)
    assert (found["ngay_ban_hanh"].value, found["ngay_ban_hanh"].needs_review) == (
        "2025-02-09",
        False,
    )


def _draft(value: str, raw: str, reasons: list[str]) -> Draft:
    return Draft(value, 0.4, "ocr", reasons, True, raw)


def test_the_e_signature_date_confirms_a_handwritten_day() -> None:
    import datetime as dt

    draft = _draft("0P/02/2025", "ngày 0P tháng 02 năm 2025", ["không phải ngày tháng hợp lệ"])
    day = hw.SlotReading("05", 0.93, 2)
    hw._settle_date(draft, day, None, {dt.date(2025, 2, 5)}, [])
    assert (draft.value, draft.reasons) == ("2025-02-05", [])
    other = _draft("0P/02/2025", "ngày 0P tháng 02 năm 2025", ["không phải ngày tháng hợp lệ"])
    hw._settle_date(other, day, None, {dt.date(2025, 2, 6)}, [])
    assert other.value == "2025-02-05" and other.reasons  # no second source: review


def test_a_date_after_the_received_stamp_is_doubted() -> None:
    import datetime as dt

    draft = _draft("2#/03/2018", "ngày 2# tháng 3 năm 2018", ["không phải ngày tháng hợp lệ"])
    hw._settle_date(draft, hw.SlotReading("28", 0.95, 2), None, set(), [dt.date(2018, 3, 21)])
    assert any("dấu công văn đến" in r for r in draft.reasons)
