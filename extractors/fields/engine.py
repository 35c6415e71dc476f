"""The generic engine: OCR'd pages + a template → fields, each checked and flagged.

Labels are found in the word boxes by fuzzy matching; the value is read to their right (up to
the next label) or on the lines below. Fields without a label (the Decree 30/2020 header) name
a locator. Every value is normalised, checked, and marked `needs_review` when a check fails, a
character had to be guessed, or a word was read with low confidence. Cross-field checks (ID
number against birth date and sex, date order, card expiry, date in words) come last.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Final

from rapidfuzz import fuzz, process

from extractors.fields import validators as v
from extractors.fields.layout import LabelHit, Segment, build_segments, match_label, token
from extractors.fields.model import Extraction, Field, QrPayload
from extractors.fields.templates import CrossCheck, FieldSpec, Template, templates
from extractors.ocr import OcrPage, Word
from motcua.types import fold, nfc

# OCR look-alikes inside a run of digits; using one marks the value for review.
_DIGIT_FIXES: Final = str.maketrans(
    {
        "O": "0",
        "o": "0",
        "D": "0",
        "Q": "0",
        "I": "1",
        "l": "1",
        "|": "1",
        "i": "1",
        "!": "1",
        "S": "5",
        "s": "5",
        "B": "8",
        "Z": "2",
        "z": "2",
        "g": "9",
        "G": "6",
        "T": "7",
    }
)
_DATE_RE: Final = re.compile(r"(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{4})")
# A slash OCR'd as a letter ("16J08I2041"): accepted, but the value goes to review.
_LOOSE_DATE_RE: Final = re.compile(
    r"(\d{1,2})\s*[/.\-|IlJjiT1!]\s*(\d{1,2})\s*[/.\-|IlJjiT1!]\s*(\d{4})"
)
_TRAILING: Final = " ;,.:"
UNKNOWN: Final = "unknown"


@dataclass
class _Value:
    """A located value before normalisation: raw text and the words it came from."""

    text: str
    words: tuple[Word, ...]
    items: tuple[str, ...] = ()  # for lists
    segment: int = -1


@dataclass
class _Doc:
    """One document's segments and the geometry the locators share."""

    segments: list[Segment]
    heights: dict[int, int]  # page → height
    template: Template
    label_spans: dict[int, list[tuple[int, int]]] = field(default_factory=dict)
    sections: dict[str, tuple[int, int]] = field(default_factory=dict)
    found: dict[str, _Value] = field(default_factory=dict)


# --- recognition ----------------------------------------------------------------------------


def recognise_kind(text: str) -> tuple[str, float]:
    """The template whose keywords the text holds best: (kind or `unknown`, share matched)."""
    folded = fold(text)
    best = (UNKNOWN, 0.0)
    for kind, template in templates().items():
        keywords = template.recognise.keywords
        hits = sum(1 for kw in keywords if fuzz.partial_ratio(fold(kw), folded) >= 90)
        share = hits / len(keywords)
        if hits >= template.recognise.min_matches and share > best[1]:
            best = (kind, share)
    return best


# --- layout helpers -------------------------------------------------------------------------


def _segments(pages: Sequence[OcrPage]) -> tuple[list[Segment], dict[int, int]]:
    segments: list[Segment] = []
    for page in pages:
        words = [w for w in page.words if w.text.strip()]
        segments += build_segments(words, page=page.number, width=page.width)
    return segments, {p.number: p.height for p in pages}


def _all_labels(template: Template) -> list[tuple[tuple[str, ...], bool]]:
    labels = [(spec.labels, spec.at_start) for spec in template.fields if spec.labels]
    labels += [(section.start, False) for section in template.sections]
    return labels


def _label_spans(doc: _Doc, index: int) -> list[tuple[int, int]]:
    """Where any label of the template sits in a segment (cached)."""
    if index not in doc.label_spans:
        spans = []
        for aliases, at_start in _all_labels(doc.template):
            hit = match_label(doc.segments[index], aliases, at_start=at_start)
            if hit:
                spans.append((hit.start, hit.end))
        doc.label_spans[index] = sorted(spans)
    return doc.label_spans[index]


def _find_sections(doc: _Doc) -> None:
    names = [s.name for s in doc.template.sections]
    starts: dict[str, int] = {}
    previous = 0
    for section in doc.template.sections:
        for i in range(previous, len(doc.segments)):
            hit = match_label(doc.segments[i], section.start, threshold=90)
            if hit is None:
                continue
            # The best-scoring section wins a segment ("người mẹ" vs "người cha").
            rivals = [
                match_label(doc.segments[i], other.start, threshold=90)
                for other in doc.template.sections
                if other.name != section.name
            ]
            if any(r and r.score > hit.score for r in rivals):
                continue
            starts[section.name] = previous = i
            break
    ordered = [n for n in names if n in starts]
    for n, name in enumerate(ordered):
        end = starts[ordered[n + 1]] if n + 1 < len(ordered) else len(doc.segments)
        doc.sections[name] = (starts[name], end)


def _range(doc: _Doc, spec: FieldSpec) -> tuple[int, int] | None:
    if spec.section is None:
        return 0, len(doc.segments)
    return doc.sections.get(spec.section)


def _value_start(segment: Segment, hit: LabelHit) -> int:
    """Skip the rest of a bilingual label (`/ Full name:`) up to its colon."""
    words = segment.words
    if words[hit.end - 1].text.endswith(":"):
        return hit.end
    for j in range(hit.end, min(hit.end + 4, len(words))):
        if ":" in words[j].text:
            return j + 1
    return hit.end


def _below(
    doc: _Doc, index: int, anchor_left: int, height: float, *, after_bottom: int, max_gap: float
) -> tuple[int, list[Word]] | None:
    """The words of the next line under `after_bottom` in the column that starts near
    `anchor_left` (same page); words left of the column belong to something else."""
    page = doc.segments[index].page
    for j in range(index + 1, min(index + 12, len(doc.segments))):
        seg = doc.segments[j]
        if seg.page != page or seg.top < after_bottom - 0.3 * height:
            continue
        if seg.top - after_bottom > max_gap * height:
            return None
        first = next(
            (k for k, w in enumerate(seg.words) if w.bbox[0] >= anchor_left - height), None
        )
        if first is not None and abs(seg.words[first].bbox[0] - anchor_left) < 4 * height:
            if any(start >= first for start, _ in _label_spans(doc, j)):
                return None  # the next label's line, not a continuation
            return j, list(seg.words[first:])
    return None


# --- locators -------------------------------------------------------------------------------


def _by_label(doc: _Doc, spec: FieldSpec) -> _Value | None:
    span = _range(doc, spec)
    if span is None:
        return None
    hits = []
    for i in range(*span):
        hit = match_label(doc.segments[i], spec.labels, at_start=spec.at_start)
        if hit:
            hits.append((i, hit))
    if not hits:
        return None
    # Best label first; a label with nothing after it (the English line under a
    # bilingual label) yields to the next best.
    hits.sort(key=lambda h: -h[1].score)
    value = _Value("", ())
    for index, hit in hits:
        value = _read_from(doc, spec, index, hit)
        if _clean(value.text):
            return value
    return value


def _read_from(doc: _Doc, spec: FieldSpec, index: int, hit: LabelHit) -> _Value:
    segment = doc.segments[index]
    start = _value_start(segment, hit)
    stops = [s for s, _ in _label_spans(doc, index) if s >= start]
    end = min(stops, default=len(segment.words))
    words: list[Word] = []
    for word in segment.words[start:end]:
        # A wide gap inside a value means the next column (the card's expiry row).
        if words and word.bbox[0] - words[-1].bbox[2] > 1.2 * segment.height:
            break
        words.append(word)
    label_left = segment.words[hit.start].bbox[0]
    height = segment.height
    last_bottom = segment.bottom
    last = index
    if spec.read == "below" or (spec.read == "right_or_below" and not words):
        found = _below(doc, index, label_left, height, after_bottom=last_bottom, max_gap=2.5)
        if found is None:
            return _Value("", ())
        last, words = found
        last_bottom = doc.segments[last].bottom
    lines = 1
    while lines < spec.lines:
        found = _below(doc, last, label_left, height, after_bottom=last_bottom, max_gap=1.2)
        if found is None:
            break
        last, more = found
        words += more
        last_bottom = doc.segments[last].bottom
        lines += 1
    return _Value(" ".join(w.text for w in words), tuple(words), segment=index)


def _header_number(doc: _Doc) -> int | None:
    """The `Số:` segment of the first page's header."""
    page = doc.segments[0].page if doc.segments else 1
    limit = 0.4 * doc.heights.get(page, 1)
    for i, seg in enumerate(doc.segments):
        if seg.page == page and seg.top < limit and match_label(seg, ("Số",), at_start=True):
            return i
    return None


def _date_words(seg: Segment) -> tuple[int, str] | None:
    """`<place>, ngày 26 tháng 7 năm 2020` → (index of `ngày`, `26/7/2020`)."""
    toks = [token(w.text) for w in seg.words]
    for k in range(len(toks) - 5):
        if toks[k] == "ngay" and toks[k + 2] == "thang" and toks[k + 4] == "nam":
            day, month, year = (seg.words[k + n].text for n in (1, 3, 5))
            return k, f"{day}/{month}/{year}"
    return None


def _date_segment(doc: _Doc, spec: FieldSpec) -> tuple[int, int, str] | None:
    span = _range(doc, spec)
    if span is None:
        return None
    first_page = doc.segments[0].page if doc.segments else 1
    for i in range(*span):
        seg = doc.segments[i]
        if spec.section is None and (
            seg.page != first_page or seg.top > 0.4 * doc.heights.get(seg.page, 1)
        ):
            continue
        found = _date_words(seg)
        if found:
            return i, found[0], found[1]
    return None


def _issue_date(doc: _Doc, spec: FieldSpec) -> _Value | None:
    found = _date_segment(doc, spec)
    if found is None:
        return None
    i, k, text = found
    return _Value(text, doc.segments[i].words[k : k + 6], segment=i)


def _place(doc: _Doc, spec: FieldSpec) -> _Value | None:
    found = _date_segment(doc, spec)
    if found is None:
        return None
    i, k, _ = found
    words = doc.segments[i].words[:k]
    if words and token(words[0].text) == "lam" and len(words) > 1:  # "Làm tại:"
        words = words[2:]
    return _Value(" ".join(w.text for w in words).rstrip(_TRAILING), words, segment=i)


def _issuing_body(doc: _Doc, spec: FieldSpec) -> _Value | None:
    number = _header_number(doc)
    if number is None:
        return None
    anchor = doc.segments[number]
    rows = [
        s
        for s in doc.segments[:number]
        if s.page == anchor.page
        and s.centre_x < 0.5 * s.width
        and s.bottom < anchor.top
        and any(c.isalpha() for c in s.text)
    ]
    if not rows:
        return None
    body = rows[1:] if len(rows) >= 2 else rows
    words = tuple(w for s in body for w in s.words)
    return _Value(" ".join(s.text for s in body), words, segment=number)


def _after_header(doc: _Doc) -> int | None:
    """The first segment after both the `Số:` line and the place-and-date line (by reading
    order, not by pixel rows: a skewed scan tilts the header)."""
    number = _header_number(doc)
    if number is None:
        return None
    date = _date_segment(doc, FieldSpec(key="_", locate="issue_date"))
    last = max(number, date[0]) if date is not None else number
    return last + 1 if last + 1 < len(doc.segments) else None


def _pitch(a: Segment, b: Segment) -> float:
    """How far below `a` line `b` sits, in `a`'s word heights, measured where the two lines
    overlap most closely in x (robust to a little skew)."""
    best: tuple[float, float] | None = None
    for wa in a.words:
        xa = (wa.bbox[0] + wa.bbox[2]) / 2
        for wb in b.words:
            dx = abs(xa - (wb.bbox[0] + wb.bbox[2]) / 2)
            dy = (wb.bbox[1] + wb.bbox[3]) / 2 - (wa.bbox[1] + wa.bbox[3]) / 2
            if best is None or dx < best[0]:
                best = (dx, dy)
    return (best[1] if best else 0.0) / max(a.height, 1.0)


def _is_vv(seg: Segment) -> bool:
    return fold(seg.words[0].text).replace(" ", "").startswith(("v/v", "v/", "vv"))


def _doc_type(doc: _Doc, spec: FieldSpec) -> _Value | None:
    first = _after_header(doc)
    if first is None:
        return None
    choices = {fold(c): c for c in spec.choices}
    for i in range(first, min(first + 5, len(doc.segments))):
        seg = doc.segments[i]
        if _is_vv(seg):
            return _Value("Công văn", seg.words[:1], segment=i)
        match = process.extractOne(
            fold(seg.text), list(choices), scorer=fuzz.ratio, score_cutoff=85
        )
        if match:
            return _Value(seg.text, seg.words, segment=i)
    return None


def _subject(doc: _Doc, spec: FieldSpec) -> _Value | None:
    kind = doc.found.get("loai_van_ban")
    if kind is None or kind.segment < 0:
        return None
    start = doc.segments[kind.segment]
    words: list[Word] = list(start.words[1:]) if _is_vv(start) else []
    last = start if words else None
    i = kind.segment + 1
    while i < len(doc.segments):
        seg = doc.segments[i]
        reference = last or start
        if seg.page != start.page or _pitch(reference, seg) > 2.4:
            break
        if token(seg.words[0].text) in {"kinh", "can"}:  # "Kính gửi", "Căn cứ"
            break
        if last is not None and abs(seg.centre_x - last.centre_x) > 0.25 * seg.width:
            i += 1
            continue  # the other header column
        words += seg.words
        last = seg
        i += 1
    if not words:
        return None
    return _Value(" ".join(w.text for w in words), tuple(words), segment=kind.segment)


def _recipients_anchor(doc: _Doc) -> tuple[int, LabelHit] | None:
    found = None
    for i, seg in enumerate(doc.segments):
        hit = match_label(seg, ("Nơi nhận",), at_start=True)
        if hit:
            found = (i, hit)
    return found


def _recipients(doc: _Doc, spec: FieldSpec) -> _Value | None:
    anchor = _recipients_anchor(doc)
    if anchor is None:
        return None
    index, _ = anchor
    label = doc.segments[index]
    items: list[str] = []
    words: list[Word] = []
    last = label
    for seg in doc.segments[index + 1 :]:
        if seg.page != label.page or seg.centre_x > 0.5 * seg.width:
            continue
        if _pitch(last, seg) > 2.6 or abs(seg.left - label.left) > 3 * label.height:
            break
        text = seg.text.lstrip("-–—+•*~_ ").rstrip(_TRAILING).strip()
        if text:
            items.append(text)
            words += seg.words
        last = seg
    if not items:
        return None
    return _Value("; ".join(items), tuple(words), items=tuple(items), segment=index)


def _signature_block(doc: _Doc) -> list[Segment]:
    anchor = _recipients_anchor(doc)
    if anchor is not None:
        label = doc.segments[anchor[0]]
        page, top = label.page, label.top - 3 * label.height  # a skewed scan tilts the row
    else:
        page = doc.segments[-1].page if doc.segments else 1
        top = int(0.55 * doc.heights.get(page, 1))
    block = []
    for seg in doc.segments:
        if seg.page != page or seg.top < top or seg.centre_x < 0.5 * seg.width:
            continue
        letters = [c for c in seg.text if c.isalpha()]
        if len(letters) >= 3:
            block.append(seg)
    return block


def _is_caps(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 3 and sum(c.isupper() for c in letters) >= 0.9 * len(letters)


def _signer(doc: _Doc, spec: FieldSpec) -> _Value | None:
    names = [s for s in _signature_block(doc) if not _is_caps(s.text) and len(s.words) >= 2]
    if not names:
        return None
    seg = names[-1]
    return _Value(seg.text, seg.words)


def _signer_title(doc: _Doc, spec: FieldSpec) -> _Value | None:
    block = _signature_block(doc)
    names = [s for s in block if not _is_caps(s.text) and len(s.words) >= 2]
    limit = names[-1].top if names else None
    titles = [s for s in block if _is_caps(s.text) and (limit is None or s.top < limit)]
    if not titles:
        return None
    seg = titles[-1]
    return _Value(seg.text, seg.words)


_LOCATORS: Final[dict[str, Callable[[_Doc, FieldSpec], _Value | None]]] = {
    "label": _by_label,
    "issue_date": _issue_date,
    "place": _place,
    "issuing_body": _issuing_body,
    "doc_type": _doc_type,
    "subject": _subject,
    "recipients": _recipients,
    "signer": _signer,
    "signer_title": _signer_title,
}


# --- normalisers ----------------------------------------------------------------------------


_APOSTROPHES: Final = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'"})


def _clean(text: str) -> str:
    text = nfc(text).replace("Ð", "Đ").translate(_APOSTROPHES)  # Icelandic eth → Vietnamese Đ
    return " ".join(text.split()).strip(_TRAILING + "-").strip()


def _normalise(spec: FieldSpec, raw: _Value) -> tuple[str | tuple[str, ...], list[str]]:
    """(value, problems) for a located raw value."""
    text = _clean(raw.text)
    problems: list[str] = []
    kind = spec.normalise
    if text and not (text[0].isalnum() or text[0] == "("):
        problems.append("giá trị bắt đầu bằng ký tự lạ, cần đối chiếu")
    if kind == "list":
        items = []
        for item in (_clean(i) for i in raw.items):
            # "Lưu: VT, <unit>" is a fixed phrase (Decree 30/2020): VT is the clerical office.
            fixed = re.sub(r"^Lưu\s*:?\s*V[^,\s]{0,2}\s*[,;.]*\s+", "Lưu: VT, ", item)
            if fixed != item and not item.startswith("Lưu: VT, "):
                problems.append("đã sửa dòng 'Lưu: VT, ...', cần đối chiếu")
            if fixed:
                items.append(fixed)
        return tuple(items), problems
    if kind == "digits" or kind == "year":
        compact = re.sub(r"[\s.\-]", "", text)
        fixed = compact.translate(_DIGIT_FIXES)
        if fixed != compact:
            problems.append("có ký tự đọc nhầm thành chữ số, cần đối chiếu")
        if kind == "year" and not re.fullmatch(r"\d{4}", fixed):
            problems.append("năm sinh phải gồm 4 chữ số")
        return fixed, problems
    if kind == "date" or kind == "expiry":
        if kind == "expiry" and fold(text).startswith(("khong thoi", "khong th0i")):
            if text != v.NO_EXPIRY:
                problems.append("đọc không rõ 'Không thời hạn'")
            return v.NO_EXPIRY, problems
        match = _DATE_RE.search(text)
        if match is None:
            loose = _LOOSE_DATE_RE.search(text.replace("O", "0").replace("o", "0"))
            if loose is not None:
                problems.append("dấu phân cách ngày tháng đọc không rõ, cần đối chiếu")
                match = loose
        date = v.parse_date("/".join(match.groups())) if match else None
        if date is None:
            return text, ["không phải ngày tháng hợp lệ (dd/mm/yyyy)"]
        return date.isoformat(), problems
    if kind == "sex":
        folded = token(text)
        if folded in {"nam", "nu"}:
            return ("Nam" if folded == "nam" else "Nữ"), problems
        return text, ["giới tính phải là Nam hoặc Nữ"]
    if kind == "choice":
        choices = {fold(c): c for c in spec.choices}
        if fold(text) in choices:
            return choices[fold(text)], problems
        nearest = process.extractOne(fold(text), list(choices), scorer=fuzz.ratio, score_cutoff=75)
        if nearest:
            return choices[nearest[0]], ["giá trị đọc không rõ, đã chọn giá trị gần nhất"]
        return text, ["giá trị không có trong danh mục"]
    if kind == "symbol":
        compact = text.replace(" ", "")
        if "/" in compact:
            head, tail = compact.split("/", 1)
            fixed = head.translate(_DIGIT_FIXES)
            if fixed != head:
                problems.append("có ký tự đọc nhầm thành chữ số, cần đối chiếu")
            compact = f"{fixed}/{tail}"
        return compact, problems
    if "address" in spec.checks:
        repaired = v.repair_address(text)
        if repaired is not None:
            problems.append("đã sửa dấu của tên đơn vị hành chính, cần đối chiếu")
            text = repaired
    if kind == "name":
        name = " ".join(w.strip(_TRAILING) for w in text.split())
        repaired = v.repair_surname(name)
        if repaired is not None:
            problems.append(f"họ đọc được '{name.split()[0]}', đã sửa theo danh mục họ")
            name = repaired
        return name, problems
    return text, problems


def _field_checks(spec: FieldSpec, value: str) -> list[str]:
    problems: list[str] = []
    if spec.pattern and not re.fullmatch(spec.pattern, value):
        problems.append("không đúng định dạng")
    for check in spec.checks:
        if check == "cccd":
            problems += v.check_cccd(value)
        elif check == "name":
            problems += v.check_name(value)
        elif check == "address":
            problems += v.check_address(value)
        elif check == "caps" and not _is_caps(value):
            problems.append("phải viết hoa toàn bộ")
    return problems


# --- assembling -----------------------------------------------------------------------------


@dataclass
class _Draft:
    value: str | tuple[str, ...]
    confidence: float
    source: str
    reasons: list[str]
    output: bool
    raw: str = ""


def _ocr_fields(doc: _Doc) -> dict[str, _Draft]:
    drafts: dict[str, _Draft] = {}
    for spec in doc.template.fields:
        raw = _LOCATORS[spec.locate](doc, spec)
        if raw is None or not _clean(raw.text):
            continue
        doc.found[spec.key] = raw
        value, problems = _normalise(spec, raw)
        if isinstance(value, str):
            problems += _field_checks(spec, value)
        confidences = [w.confidence for w in raw.words] or [0.0]
        confidence = min(confidences)
        if confidence < doc.template.review_below:
            problems.append("chữ đọc được với độ tin cậy thấp")
        if problems:
            confidence = min(confidence, 0.5)
        drafts[spec.key] = _Draft(value, confidence, "ocr", problems, spec.output, raw.text)
    return drafts


def _same_text(a: str, b: str) -> bool:
    return token(a.replace(" ", "")) == token(b.replace(" ", ""))


def _merge_qr(
    template: Template, drafts: dict[str, _Draft], qr: QrPayload, warnings: list[str]
) -> None:
    for spec in template.fields:
        if not spec.qr:
            continue
        value = str(getattr(qr, spec.qr))
        if not value:
            continue
        printed = drafts.get(spec.key)
        reasons: list[str] = []
        if qr.repaired:
            reasons.append("mã QR sai bảng mã, đã sửa lại")
        # Only a confident reading of the print can contradict the QR; a doubtful one cannot.
        confident = printed is not None and not printed.reasons
        if (
            confident
            and printed
            and isinstance(printed.value, str)
            and not _same_text(printed.value, value)
        ):
            reasons.append("giá trị in trên thẻ khác giá trị trong mã QR")
            warnings.append(f"{spec.key}: giá trị in trên thẻ khác mã QR, cần kiểm tra")
        confidence = 0.99 if not reasons else 0.5
        drafts[spec.key] = _Draft(value, confidence, "qr", reasons, spec.output)


def _date_of(drafts: dict[str, _Draft], key: str | None) -> dt.date | None:
    draft = drafts.get(key) if key else None
    if draft is None or not isinstance(draft.value, str):
        return None
    return v.parse_iso(draft.value)


def _flag(
    drafts: dict[str, _Draft],
    keys: Sequence[str | None],
    problems: list[str],
    warnings: list[str],
    what: str,
) -> None:
    if not problems:
        return
    for key in keys:
        if key and key in drafts:
            drafts[key].reasons += problems
            drafts[key].confidence = min(drafts[key].confidence, 0.5)
    warnings.extend(f"{what}: {p}" for p in problems)


def _cross_checks(template: Template, drafts: dict[str, _Draft], warnings: list[str]) -> None:
    for check in template.checks:
        if check.check == "cccd_consistent":
            _check_cccd(check, drafts, warnings)
        elif check.check == "date_order":
            dates = [(key, _date_of(drafts, key)) for key in check.fields]
            present = [(k, d) for k, d in dates if d is not None]
            for (ka, a), (kb, b) in itertools.pairwise(present):
                if not a < b:
                    _flag(drafts, [ka, kb], [f"{ka} phải trước {kb}"], warnings, "ngày tháng")
        elif check.check == "card_expiry":
            birth = _date_of(drafts, check.birth)
            expiry = drafts.get(check.expiry or "")
            issued = _date_of(drafts, check.issued)
            if birth and expiry and isinstance(expiry.value, str):
                _read_expiry_digits(expiry, birth, issued)
            if birth and expiry and isinstance(expiry.value, str):
                problems = v.check_expiry(expiry.value, birth=birth, issued=issued)
                _flag(drafts, [check.expiry], problems, warnings, check.expiry or "")
        elif check.check == "drafting_unit":
            _check_drafting_unit(check, drafts, warnings)
        elif check.check == "date_words":
            words = drafts.get(check.words or "")
            digits = drafts.get(check.digits or "")
            if words and digits and isinstance(words.value, str) and isinstance(digits.value, str):
                problems = v.check_date_words(words.value, digits.value)
                _flag(drafts, [check.digits], problems, warnings, check.digits or "")


def _check_drafting_unit(check: CrossCheck, drafts: dict[str, _Draft], warnings: list[str]) -> None:
    """An official letter's symbol ends with the drafting unit (`1906/SGDĐT-CTrTT`), which the
    file copy names again (`Lưu: VT, CTrTT`) — Decree 30/2020, Appendix I and III."""
    kind = drafts.get(check.doc_type or "")
    symbol = drafts.get(check.symbol or "")
    recipients = drafts.get(check.recipients or "")
    if not (kind and symbol and recipients) or kind.value != "Công văn":
        return
    if not isinstance(symbol.value, str) or "-" not in symbol.value:
        return
    unit = symbol.value.rsplit("-", 1)[1]
    filed = [
        m.group(1)
        for item in recipients.value
        if (m := re.match(r"Lưu\s*:?\s*VT\s*[,;.]?\s*(\S+)", str(item)))
    ]
    if filed and filed[-1].rstrip(".;,") != unit:
        problem = "đơn vị soạn thảo trong số ký hiệu khác với dòng 'Lưu: VT, ...'"
        _flag(drafts, [check.symbol, check.recipients], [problem], warnings, "so_ky_hieu")


def _read_expiry_digits(expiry: _Draft, birth: dt.date, issued: dt.date | None) -> None:
    """An expiry whose slashes OCR lost (`211082028`) is accepted when its digits spell the
    date the 25/40/60 rule gives for this birth (and issue) date: two sources agree. Without
    the issue date any of the three milestone birthdays may fit, but only one can."""
    if expiry.value == v.NO_EXPIRY or not expiry.raw:
        return
    if issued is not None:
        expected = v.expected_expiry(birth, issued)
        candidates = [expected] if expected else []
    else:
        candidates = [v.birthday_at(birth, age) for age in v.EXPIRY_AGES]
    digits = re.sub(r"\D", "", expiry.raw.replace("O", "0").replace("o", "0"))
    fits = []
    for date in candidates:
        day, month, year = date.strftime("%d"), date.strftime("%m"), str(date.year)
        spellings = (
            day + month + year,
            f"{day}1{month}1{year}",
            f"{day}1{month}{year}",
            f"{day}{month}1{year}",
        )
        if any(digits.startswith(s) for s in spellings):
            fits.append(date)
    if len(fits) == 1:
        expiry.value = fits[0].isoformat()
        expiry.reasons = [r for r in expiry.reasons if "ngày tháng" not in r]
        expiry.confidence = max(expiry.confidence, 0.8)


def _check_cccd(check: CrossCheck, drafts: dict[str, _Draft], warnings: list[str]) -> None:
    number = drafts.get(check.number or "")
    if number is None or not isinstance(number.value, str):
        return
    birth = _date_of(drafts, check.birth)
    year_draft = drafts.get(check.birth_year or "")
    year = None
    if year_draft and isinstance(year_draft.value, str) and year_draft.value.isdigit():
        year = int(year_draft.value)
    sex: str | None
    if check.sex and check.sex.startswith("="):
        sex = check.sex[1:]
    else:
        sex_draft = drafts.get(check.sex or "")
        sex = sex_draft.value if sex_draft and isinstance(sex_draft.value, str) else None
    problems = v.check_cccd(number.value, birth=birth, birth_year=year, sex=sex)
    # Structure problems were already found by the field check; keep only consistency ones.
    problems = [p for p in problems if p not in number.reasons]
    keys = [check.number, check.birth, check.birth_year]
    if check.sex and not check.sex.startswith("="):
        keys.append(check.sex)
    _flag(drafts, keys, problems, warnings, check.number or "")


def extract_with_template(
    pages: Sequence[OcrPage],
    template: Template,
    *,
    qr: QrPayload | None = None,
    warnings: Sequence[str] = (),
    path: str | None = None,
) -> Extraction:
    """Apply one template to OCR'd pages (and a parsed QR for cards)."""
    segments, heights = _segments(pages)
    doc = _Doc(segments, heights, template)
    _find_sections(doc)
    notes = list(warnings)
    missing_sections = [s.name for s in template.sections if s.name not in doc.sections]
    if missing_sections:
        notes.append("không tìm thấy phần: " + ", ".join(missing_sections))
    drafts = _ocr_fields(doc)
    if qr is not None:
        _merge_qr(template, drafts, qr, notes)
    _cross_checks(template, drafts, notes)
    fields: dict[str, Field] = {}
    for spec in template.fields:
        draft = drafts.get(spec.key)
        if draft is None:
            if spec.output and not spec.qr:
                notes.append(f"{spec.key}: không tìm thấy trên giấy tờ")
            continue
        if not draft.output:
            continue
        reasons = tuple(dict.fromkeys(draft.reasons))
        fields[spec.key] = Field(
            value=draft.value,
            confidence=round(max(0.0, min(1.0, draft.confidence)), 4),
            needs_review=bool(reasons),
            source="qr" if draft.source == "qr" else "ocr",
            reasons=reasons,
        )
    return Extraction(kind=template.kind, fields=fields, warnings=tuple(notes), path=path)


def cross_read(primary: Extraction, second: Extraction) -> Extraction:
    """Merge two OCR reads of the same document (e.g. another language model). An OCR field
    both reads give cleanly but differently goes to review (OCR slips rarely repeat exactly);
    a field the first read could not make valid is taken from the second when it passed
    every check there."""
    fields: dict[str, Field] = {}
    for key, f in primary.fields.items():
        other = second.fields.get(key)
        if f.source == "ocr" and other is not None and other.source == "ocr":
            if f.needs_review and not other.needs_review:
                f = other
            elif not f.needs_review and not other.needs_review and other.value != f.value:
                reason = "hai lần đọc cho kết quả khác nhau, cần đối chiếu"
                f = Field(f.value, min(f.confidence, 0.5), True, f.source, (*f.reasons, reason))
        fields[key] = f
    for key, other in second.fields.items():
        if key not in fields and not other.needs_review:
            fields[key] = other
    warnings = tuple(w for w in primary.warnings if not _resolved(w, fields))
    page_errors = (
        *primary.page_errors,
        *(e for e in second.page_errors if e not in primary.page_errors),
    )
    return Extraction(primary.kind, fields, warnings, primary.path, page_errors)


def _resolved(warning: str, fields: dict[str, Field]) -> bool:
    """A per-field warning of the first read that the merged field no longer needs."""
    key = warning.split(":", 1)[0]
    return key in fields and not fields[key].needs_review
