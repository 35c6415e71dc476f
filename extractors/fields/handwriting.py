"""Digits written by hand into the typed slots of a Decree 30 header: the number before the
symbol (`Số: 575 /UBND-KTTH`) and the day and month of the date (`ngày 04 tháng 02 năm 2025`).

Offices write them at registration, so OCR trained on print reads them badly (`5†5`, `0P`) or,
worse, plausibly wrong. Here each slot is cut from the page image between the typed words
around it, its ink split into digits, and each digit read by `digits.classify`. The reading is
then weighed against what the document says elsewhere:
- OCR read the slot cleanly and the same: the value stands;
- the date matches the e-signature date printed on the page (`Ký ngày: 04/02/2025`): two
  sources agree, the value stands;
- otherwise the handwritten reading is used but sent to review, with the reason: a wrong value
  that nobody is told to check is the one outcome not accepted. A received stamp's date
  (`CV ĐẾN ... Ngày: 21/3/18`) bounds the issue date from above.
`read_slots` is the one hook the engine calls, after the locators and before the cross-checks.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

import cv2
import numpy as np

from extractors.fields import digits as classifier
from extractors.fields.checks import Draft
from extractors.fields.layout import Segment, token
from extractors.fields.locate import Doc
from extractors.fields.normalise import field_checks
from extractors.ocr import OcrPage, Word

log = logging.getLogger("extractors.fields.handwriting")

Array = np.ndarray[Any, Any]
SURE: Final = 0.80  # every digit at least this probable, or the slot is doubtful
SECOND: Final = 0.60  # enough to confirm what OCR read the same (two readers agree)
_GLUED: Final = 0.4  # of a character: how far a guessed edge inside a glued word moves
_PIECE: Final = re.compile(r"[^\W\d_]+|\d+|[^\w\s]+")
_SIGNED: Final = re.compile(
    r"(?:k[ýy]\s*(?:ng[àa]y|b[ởo]i)?|th[ờo]i\s*gian\s*k[ýy]|signed|date)\s*:?\s*"
    r"(\d{1,2})[./-](\d{1,2})[./-](\d{4})",
    re.IGNORECASE,
)
_RECEIVED: Final = re.compile(r"ng[àa]y\s*:?\s*(\d{1,2})\s*/\s*(\d{1,2})\s*/\s*(\d{2,4})", re.I)


@dataclass(frozen=True)
class SlotReading:
    """What the classifier read in one slot."""

    digits: str
    confidence: float  # the least probable digit's probability
    parts: int  # ink groups found (digits, or strokes that were not digits)

    @property
    def sure(self) -> bool:
        return self.at_least(SURE)

    def at_least(self, confidence: float) -> bool:
        return (
            bool(self.digits) and self.confidence >= confidence and self.parts == len(self.digits)
        )


# --- the page image ---------------------------------------------------------------------------


@lru_cache(maxsize=2)
def _page_grey(path: str, number: int, rotation: int) -> Array | None:
    """The page as OCR saw it (upright, not deskewed), grey; None when it cannot be read."""
    from extractors.ocr.sources import load_page, page_refs

    try:
        refs = page_refs(path)
        image = load_page(refs[number - 1]).image
    except Exception as exc:  # the page was read before; a failure here only skips the slots
        log.info("page %d image not available again: %s", number, type(exc).__name__)
        return None
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    turns = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}
    return cv2.rotate(grey, turns[rotation]) if rotation in turns else grey


# --- slots and their ink --------------------------------------------------------------------


def _x_at(word: Word, offset: float) -> float:
    """Where character `offset` of a word starts, by proportion (OCR gives word boxes only)."""
    left, _, right, _ = word.bbox
    return left + (right - left) * offset / max(1, len(word.text))


def split_digits(
    ink: Array,
    height: float,
    keep: tuple[float, float] | None = None,
    shade: Array | None = None,
) -> list[Array]:
    """The ink of a slot (bright on dark, a binary mask) cut into digit images, left to right.
    Dots and specks (the colon, dust) and rule lines running out of the band are dropped;
    strokes that overlap in x are one digit, kept when its centre lies within `keep` (x range
    in the mask); a blob much wider than tall is cut at its thinnest columns (touching digits).
    With `shade` (ink darkness, same shape) the digits keep their grey edges."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    rows = ink.shape[0]
    boxes = []
    for n in range(1, count):
        x, y, w, h, area = stats[n]
        if h < 0.35 * height and w < 0.35 * height:
            continue  # a dot, a colon, a speck
        if area < 0.02 * height * height:
            continue
        if h < 0.3 * height and (y == 0 or y + h == rows or w > 1.5 * height):
            continue  # a rule line (the header's underline) crossing the band
        boxes.append([x, x + w, n])
    boxes.sort()
    groups: list[list[Any]] = []
    for x0, x1, n in boxes:
        if groups:
            g = groups[-1]
            overlap = min(g[1], x1) - max(g[0], x0)
            if overlap > 0.4 * min(x1 - x0, g[1] - g[0]):
                g[0], g[1] = min(g[0], x0), max(g[1], x1)
                g[2].append(n)
                continue
        groups.append([x0, x1, [n]])
    if keep is not None:
        groups = [g for g in groups if keep[0] <= (g[0] + g[1]) / 2 <= keep[1]]
    out: list[Array] = []
    for x0, x1, members in groups:
        mask = np.isin(labels[:, x0:x1], members).astype(np.uint8) * 255
        if shade is not None:
            near = cv2.dilate(mask, np.ones((3, 3), np.uint8))
            mask = np.where(near > 0, shade[:, x0:x1], 0).astype(np.uint8)
        ys = np.nonzero(mask.any(axis=1))[0]
        out += _cut_touching(mask[ys.min() : ys.max() + 1])
    return out


def _cut_touching(crop: Array) -> list[Array]:
    h, w = crop.shape
    pieces = round(w / (0.75 * h)) if w > 1.15 * h else 1
    if pieces <= 1:
        return [crop]
    columns = (crop > 0).sum(axis=0).astype(np.float32)
    cuts = [0]
    for k in range(1, pieces):
        centre = round(k * w / pieces)
        lo, hi = max(1, centre - w // (3 * pieces)), min(w - 1, centre + w // (3 * pieces))
        cuts.append(lo + int(np.argmin(columns[lo:hi])) if hi > lo else centre)
    cuts.append(w)
    return [crop[:, a:b] for a, b in itertools.pairwise(cuts) if b - a > 1]


def read_slot(grey: Array, x0: float, x1: float, top: int, bottom: int) -> SlotReading | None:
    """Read the digits whose centres lie between x0 and x1 on the line from `top` to `bottom`
    (the typed words' box). Handwriting rises above and below the typed line and spills past
    a slot's edges guessed inside a glued word (`ngày04`), so the band read is wider."""
    height = max(4.0, float(bottom - top))
    margin = 0.6 * height
    y0 = max(0, int(top - 1.0 * height))
    y1 = min(grey.shape[0], int(bottom + 0.6 * height))
    a, b = max(0, int(x0 - margin)), min(grey.shape[1], int(x1 + margin))
    if x1 - x0 < 0.3 * height or y1 <= y0 or b <= a:
        return None
    band = grey[y0:y1, a:b]
    level, _ = cv2.threshold(band, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    # a blank slot: Otsu splits paper noise; a 1-bit scan: Otsu lands on 0
    level = min(max(level, 100.0), 170.0)
    ink = (band < level).astype(np.uint8) * 255
    crops = split_digits(ink, height, keep=(x0 - a, x1 - a), shade=255 - band)
    if not crops:
        return SlotReading("", 0.0, 0)
    read = classifier.classify(crops)
    return SlotReading("".join(str(d) for d, _ in read), min(p for _, p in read), len(crops))


# --- the number slot ------------------------------------------------------------------------


def _number_slot(seg: Segment) -> tuple[float, float, int, int] | None:
    """(x0, x1, top, bottom) between `Số:` and the `/` of the symbol."""
    words = seg.words
    if not words or not token(words[0].text).startswith("so"):
        return None
    label = words[0]
    text = label.text
    colon = text.find(":")
    end = colon + 1 if colon >= 0 else min(2, len(text))
    x0 = label.bbox[2] if end >= len(text) else _x_at(label, end - _GLUED)
    for word in words:
        slash = word.text.find("/")
        if slash >= 0:
            x1 = word.bbox[0] if slash == 0 else _x_at(word, slash + _GLUED)
            return x0, x1, label.bbox[1], label.bbox[3]
    return None


# --- the date slots -------------------------------------------------------------------------


def _date_slots(words: Sequence[Word]) -> dict[str, tuple[float, float, int, int]]:
    """`day` and `month` slots (x0, x1, top, bottom) of a `ngày … tháng … năm` run."""
    marks: dict[str, tuple[float, float]] = {}
    tops = [w.bbox[1] for w in words]
    bottoms = [w.bbox[3] for w in words]
    for word in words:
        for match in _PIECE.finditer(word.text):
            name = token(match.group())
            if name in ("ngay", "thang", "nam") and name not in marks:
                # inside a glued word (`ngày04`) a handwritten digit is wider than a printed
                # letter: the guessed edge gives the slot some of its neighbours' share
                start = word.bbox[0] if match.start() == 0 else _x_at(word, match.start() + _GLUED)
                glued = match.end() < len(word.text)
                end = _x_at(word, match.end() - _GLUED) if glued else word.bbox[2]
                marks[name] = (start, end)
    if not {"ngay", "thang", "nam"} <= marks.keys() or not tops:
        return {}
    top, bottom = int(np.median(tops)), int(np.median(bottoms))
    return {
        "day": (marks["ngay"][1], marks["thang"][0], top, bottom),
        "month": (marks["thang"][1], marks["nam"][0], top, bottom),
    }


def _signed_dates(pages: Sequence[OcrPage]) -> set[dt.date]:
    found = set()
    for page in pages:
        for m in _SIGNED.finditer(page.text):
            try:
                found.add(dt.date(int(m[3]), int(m[2]), int(m[1])))
            except ValueError:
                continue
    return found


def _received_dates(doc: Doc) -> list[dt.date]:
    """Dates on received stamps (`Ngày: 21/3/18`): the letter was issued on or before them."""
    from extractors.fields.header import _stamps

    found = []
    for i in _stamps(doc):
        for m in _RECEIVED.finditer(doc.segments[i].text):
            year = int(m[3]) + (2000 if len(m[3]) == 2 else 0)
            try:
                found.append(dt.date(year, int(m[2]), int(m[1])))
            except ValueError:
                continue
    return found


# --- the hook -------------------------------------------------------------------------------


def _grey_for(doc: Doc, pages: Sequence[OcrPage], segment: int, path: str | None) -> Array | None:
    if path is None or segment < 0:
        return None
    number = doc.segments[segment].page
    page = next((p for p in pages if p.number == number), None)
    if page is None or page.source != "ocr":
        return None  # a text layer has no handwriting to read
    grey = _page_grey(path, number, page.rotation)
    if grey is None or grey.shape[:2] != (page.height, page.width):
        return None
    return grey


def read_slots(
    doc: Doc, drafts: dict[str, Draft], pages: Sequence[OcrPage], path: str | None
) -> None:
    """Read the handwritten number and date slots of the header and settle their drafts."""
    for spec in doc.template.fields:
        draft = drafts.get(spec.key)
        raw = doc.found.get(spec.key)
        if draft is None or raw is None or not isinstance(draft.value, str):
            continue
        if spec.locate == "header_number":
            grey = _grey_for(doc, pages, raw.segment, path)
            slot = _number_slot(doc.segments[raw.segment]) if grey is not None else None
            if grey is not None and slot is not None:
                reading = read_slot(grey, *slot)
                if reading is not None and reading.parts:
                    _settle_number(spec, draft, reading, _symbol_of(doc.segments[raw.segment]))
        elif spec.locate == "issue_date":
            grey = _grey_for(doc, pages, raw.segment, path)
            slots = _date_slots(raw.words) if grey is not None else {}
            if grey is not None and slots:
                day = read_slot(grey, *slots["day"])
                month = read_slot(grey, *slots["month"])
                _settle_date(draft, day, month, _signed_dates(pages), _received_dates(doc))


# reasons that say only that OCR was unsure of its reading: a second reader that agrees
# answers them (a failed check or a locator's doubt stays)
_READING: Final = ("chữ đọc được với độ tin cậy thấp", "có ký tự đọc nhầm thành chữ số")


def _confirmed(draft: Draft) -> None:
    draft.reasons = [r for r in draft.reasons if not r.startswith(_READING)]
    if not draft.reasons:
        draft.confidence = max(draft.confidence, 0.8)


def _symbol_of(seg: Segment) -> str:
    """The typed symbol after the slot's `/` (`UBND-KTTH`), as OCR read the line."""
    text = "".join(w.text for w in seg.words)
    return text.partition("/")[2].rstrip(" ;,.:")


def _settle_number(spec: Any, draft: Draft, reading: SlotReading, symbol: str) -> None:
    value = draft.value
    assert isinstance(value, str)
    head, sep, tail = value.partition("/")
    if not sep:  # the value stopped at a wide gap before the symbol: take it from the line
        head, tail = value, symbol
    if not tail or not reading.digits:
        return
    if head.isdigit() and head == reading.digits:
        if reading.at_least(SECOND):
            _confirmed(draft)  # OCR and the classifier read the same
        return
    if head.isdigit() and (not draft.reasons or not reading.sure):
        if not draft.reasons:  # a clean OCR reading that the classifier contradicts
            draft.reasons.append(
                f"số viết tay đọc được '{reading.digits}' khác với '{head}', cần đối chiếu"
            )
            draft.confidence = min(draft.confidence, 0.5)
        return
    if len(reading.digits) > 5:
        return
    candidate = f"{reading.digits}/{tail}"
    draft.value = candidate
    draft.reasons = [
        *field_checks(spec, candidate),
        f"số viết tay, máy đọc '{reading.digits}' "
        f"(độ tin cậy {reading.confidence:.2f}), cần đối chiếu",
    ]
    draft.confidence = min(0.5, reading.confidence)


def _ocr_date(draft: Draft) -> dt.date | None:
    """The date as the OCR draft has it, where it parsed."""
    if isinstance(draft.value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", draft.value):
        return dt.date.fromisoformat(draft.value)
    return None


def _candidate(draft: Draft, day: SlotReading, month: SlotReading | None) -> dt.date | None:
    """The date with the handwritten day (and month, where it was not printed)."""
    year = re.search(r"(\d{4})\s*$", draft.raw)
    if year is None:
        return None
    printed = re.search(r"th[áa]ng\s*0?(\d{1,2})\s*n", draft.raw, re.IGNORECASE)
    if printed is not None:
        month_digits = printed.group(1)  # typed: OCR reads it well
    elif month is not None and month.digits:
        month_digits = month.digits
    else:
        return None
    try:
        return dt.date(int(year.group(1)), int(month_digits), int(day.digits))
    except ValueError:
        return None


def _settle_date(
    draft: Draft,
    day: SlotReading | None,
    month: SlotReading | None,
    signed: set[dt.date],
    received: list[dt.date],
) -> None:
    if day is None or not day.digits:
        return
    candidate = _candidate(draft, day, month)
    ocr = _ocr_date(draft)
    if candidate is None:
        if ocr is not None and day.sure:
            draft.reasons.append("ngày viết tay đọc không ra ngày hợp lệ, cần đối chiếu")
            draft.confidence = min(draft.confidence, 0.5)
        return
    late = [r for r in received if candidate > r]
    if ocr is not None and (ocr == candidate or not draft.reasons or not day.sure):
        if ocr == candidate and day.at_least(SECOND) and not late:
            _confirmed(draft)  # OCR and the classifier read the same
        elif ocr != candidate and (day.sure or not draft.reasons):
            draft.reasons.append(
                f"ngày viết tay đọc được {candidate:%d/%m/%Y}, "
                "khác với chữ nhận dạng, cần đối chiếu"
            )
            draft.confidence = min(draft.confidence, 0.5)
        return
    draft.value = candidate.isoformat()
    if candidate in signed and day.sure and not late:
        draft.reasons = []  # the e-signature date says the same
        draft.confidence = max(0.8, day.confidence)
        return
    draft.reasons = [
        f"ngày viết tay, máy đọc '{day.digits}' (độ tin cậy {day.confidence:.2f}), cần đối chiếu"
    ]
    if late:
        draft.reasons.append("ngày ban hành sau ngày trên dấu công văn đến, cần đối chiếu")
    draft.confidence = min(0.5, day.confidence)
