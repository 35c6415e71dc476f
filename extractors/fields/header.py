"""The Decree 30/2020/NĐ-CP header and signature block: locators for values without a label
(issuing body, number, place and date, type, subject, recipients, signer), and the registry
that templates name them by.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

from rapidfuzz import fuzz, process

from extractors.fields.decree30 import (
    header_rules,
    header_shape,
    respelled,
    stamp_segments,
    urgency_of,
)
from extractors.fields.layout import LabelHit, Segment, match_label, token
from extractors.fields.locate import (
    TRAILING,
    Doc,
    Value,
    by_label,
    field_range,
    is_caps,
    pitch,
    read_from,
)
from extractors.fields.templates import FieldSpec
from extractors.ocr import Word
from motcua.types import fold


def _stamps(doc: Doc) -> frozenset[int]:
    """Segments that are stamps (received, urgency): never the document's number or date."""
    if doc.stamps is None:
        found = stamp_segments(doc.segments)
        found |= {i for i, s in enumerate(doc.segments) if urgency_of(s)}
        doc.stamps = frozenset(found)
    return doc.stamps


def _header_number(doc: Doc) -> int | None:
    """The `Số:` segment of the first page's header; a `Số` without a symbol (`/`) yields to
    one with it, and a stamp's `Số` is never it."""
    page = doc.segments[0].page if doc.segments else 1
    limit = 0.4 * doc.heights.get(page, 1)
    stamps = _stamps(doc)
    found = [
        i
        for i, seg in enumerate(doc.segments)
        if seg.page == page
        and seg.top < limit
        and i not in stamps
        and match_label(seg, ("Số",), at_start=True)
    ]
    with_symbol = [i for i in found if "/" in doc.segments[i].text]
    candidates = with_symbol or found
    return candidates[0] if candidates else None


_PIECE: Final = re.compile(r"[^\W\d_]+|\d+|[^\w\s]+|_+")


def _date_words(seg: Segment) -> tuple[int, int, str] | None:
    """`<place>, ngày 26 tháng 7 năm 2020` → (word index of `ngày`, word index after the year,
    `26/7/2020`). Tolerant of what scans do to a date typed around handwritten digits: words
    glued (`ngày04`, `tháng01`), a digit OCR'd as a sign (`2#`), a month slot left empty; what
    cannot be read stays in the text, for the date check to refuse and flag."""
    pieces = [(n, p) for n, w in enumerate(seg.words) for p in _PIECE.findall(w.text)]
    toks = [fold(p) for _, p in pieces]
    for a, tok in enumerate(toks):
        if tok != "ngay":
            continue
        for c in range(a + 1, min(a + 9, len(toks) - 1)):
            if toks[c] != "nam" or not re.fullmatch(r"[0-9OoIlSB]{4}", toks[c + 1]):
                continue
            slots = toks[a + 1 : c]
            b = a + 1 + slots.index("thang") if "thang" in slots else c
            day = "".join(p for _, p in pieces[a + 1 : b])
            month = "".join(p for _, p in pieces[b + 1 : c]) if b < c else ""
            return pieces[a][0], pieces[c + 1][0] + 1, f"{day}/{month}/{pieces[c + 1][1]}"
    return None


def _date_segment(doc: Doc, spec: FieldSpec) -> tuple[int, int, int, str] | None:
    """(segment, word index of `ngày`, word index after the year, date text)."""
    span = field_range(doc, spec)
    if span is None:
        return None
    first_page = doc.segments[0].page if doc.segments else 1
    stamps = _stamps(doc) if spec.section is None else frozenset()
    for i in range(*span):
        seg = doc.segments[i]
        if i in stamps:
            continue
        if spec.section is None and (
            seg.page != first_page or seg.top > 0.4 * doc.heights.get(seg.page, 1)
        ):
            continue
        found = _date_words(seg)
        if found:
            return i, *found
    return None


def _issue_date(doc: Doc, spec: FieldSpec) -> Value | None:
    found = _date_segment(doc, spec)
    if found is None:
        return None
    i, k, end, text = found
    return Value(text, doc.segments[i].words[k:end], segment=i)


def _place(doc: Doc, spec: FieldSpec) -> Value | None:
    found = _date_segment(doc, spec)
    if found is None:
        return None
    i, k, _, _ = found
    words = doc.segments[i].words[:k]
    if words and token(words[0].text) == "lam" and len(words) > 1:  # "Làm tại:"
        words = words[2:]
    return Value(" ".join(w.text for w in words).rstrip(TRAILING), words, segment=i)


def _number(doc: Doc, spec: FieldSpec) -> Value | None:
    """`Số: 1906/SGDĐT-CTrTT` read from the header's own `Số:` line, not a stamp's."""
    index = _header_number(doc)
    if index is None:
        return None
    hit = match_label(doc.segments[index], spec.labels or ("Số",), at_start=True)
    return read_from(doc, spec, index, hit) if hit else None


def _left_part(seg: Segment) -> Segment:
    """A header line with the motto glued on its right (the two columns on one row, close
    enough for one segment): the part before `CỘNG HÒA`."""
    toks = [token(w.text) for w in seg.words]
    for m in range(1, len(toks) - 1):
        if toks[m] == "cong" and toks[m + 1].startswith("hoa"):
            return Segment(seg.words[:m], seg.page, seg.width)
    return seg


def _header_rows(doc: Doc) -> tuple[int, list[Segment]] | None:
    """The `Số:` segment and the left-column lines above it (stamps left out)."""
    number = _header_number(doc)
    if number is None:
        return None
    anchor = doc.segments[number]
    stamps = _stamps(doc)
    rows = [
        s
        for i, s in enumerate(doc.segments[:number])
        if i not in stamps and s.page == anchor.page and s.bottom < anchor.top
    ]
    rows = [_left_part(s) for s in rows]
    rows = [s for s in rows if s.centre_x < 0.5 * s.width and sum(c.isalpha() for c in s.text) >= 2]
    return number, rows


def _bodies(doc: Doc, spec: FieldSpec, *, parent: bool) -> Value | None:
    found = _header_rows(doc)
    if found is None or not found[1]:
        return None
    number, rows = found
    shape = header_shape(rows)
    body = shape.parent if parent else shape.issuer
    if not body:
        return None
    words = tuple(w for s in body for w in s.words)
    text = " ".join(respelled(s) for s in body)
    return Value(text, words, segment=number, doubts=shape.doubts)


def _issuing_body(doc: Doc, spec: FieldSpec) -> Value | None:
    return _bodies(doc, spec, parent=False)


def _parent_body(doc: Doc, spec: FieldSpec) -> Value | None:
    return _bodies(doc, spec, parent=True)


def _urgency(doc: Doc, spec: FieldSpec) -> Value | None:
    """The most urgent urgency stamp on the first page's upper half (`HỎA TỐC`, `KHẨN`)."""
    page = doc.segments[0].page if doc.segments else 1
    limit = 0.5 * doc.heights.get(page, 1)
    marks = [
        (urgency, seg)
        for seg in doc.segments
        if seg.page == page and seg.top < limit and (urgency := urgency_of(seg))
    ]
    if not marks:
        return None
    order = header_rules().urgency
    value, seg = min(marks, key=lambda m: order.index(m[0]))
    return Value(value, seg.words)


def _after_header(doc: Doc) -> int | None:
    """The first segment after both the `Số:` line and the place-and-date line (by reading
    order, not by pixel rows: a skewed scan tilts the header)."""
    number = _header_number(doc)
    if number is None:
        return None
    date = _date_segment(doc, FieldSpec(key="_", locate="issue_date"))
    last = max(number, date[0]) if date is not None else number
    return last + 1 if last + 1 < len(doc.segments) else None


def _is_vv(seg: Segment) -> bool:
    return fold(seg.words[0].text).replace(" ", "").startswith(("v/v", "v/", "vv"))


def _doc_type(doc: Doc, spec: FieldSpec) -> Value | None:
    first = _after_header(doc)
    if first is None:
        return None
    choices = {fold(c): c for c in spec.choices}
    stamps = _stamps(doc)
    for i in range(first, min(first + 5, len(doc.segments))):
        seg = doc.segments[i]
        if i in stamps:
            continue
        if _is_vv(seg):
            return Value("Công văn", seg.words[:1], segment=i)
        match = process.extractOne(
            fold(seg.text), list(choices), scorer=fuzz.ratio, score_cutoff=85
        )
        if match:
            return Value(seg.text, seg.words, segment=i)
    return None


def _subject(doc: Doc, spec: FieldSpec) -> Value | None:
    kind = doc.found.get("loai_van_ban")
    if kind is None or kind.segment < 0:
        return None
    start = doc.segments[kind.segment]
    words: list[Word] = list(start.words[1:]) if _is_vv(start) else []
    last = start if words else None
    stamps = _stamps(doc)
    i = kind.segment + 1
    while i < len(doc.segments):
        seg = doc.segments[i]
        reference = last or start
        if i in stamps:
            i += 1
            continue
        if seg.page != start.page or pitch(reference, seg) > 2.4:
            break
        if token(seg.words[0].text) in {"kinh", "can"}:  # "Kính gửi", "Căn cứ"
            break
        if abs(seg.centre_x - reference.centre_x) > 0.25 * seg.width:
            i += 1
            continue  # the other header column, or a stamp beside the title
        words += seg.words
        last = seg
        i += 1
    if not words:
        return None
    return Value(" ".join(w.text for w in words), tuple(words), segment=kind.segment)


def _recipients_anchor(doc: Doc) -> tuple[int, LabelHit] | None:
    found = None
    for i, seg in enumerate(doc.segments):
        hit = match_label(seg, ("Nơi nhận",), at_start=True)
        if hit:
            found = (i, hit)
    return found


def _recipients(doc: Doc, spec: FieldSpec) -> Value | None:
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
        if pitch(last, seg) > 2.6 or abs(seg.left - label.left) > 3 * label.height:
            break
        text = seg.text.lstrip("-–—+•*~_ ").rstrip(TRAILING).strip()
        if text:
            items.append(text)
            words += seg.words
        last = seg
    if not items:
        return None
    return Value("; ".join(items), tuple(words), items=tuple(items), segment=index)


def _signature_block(doc: Doc) -> list[Segment]:
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


def _signer(doc: Doc, spec: FieldSpec) -> Value | None:
    names = [s for s in _signature_block(doc) if not is_caps(s.text) and len(s.words) >= 2]
    if not names:
        return None
    seg = names[-1]
    return Value(seg.text, seg.words)


def _signer_title(doc: Doc, spec: FieldSpec) -> Value | None:
    block = _signature_block(doc)
    names = [s for s in block if not is_caps(s.text) and len(s.words) >= 2]
    limit = names[-1].top if names else None
    titles = [s for s in block if is_caps(s.text) and (limit is None or s.top < limit)]
    if not titles:
        return None
    seg = titles[-1]
    return Value(seg.text, seg.words)


LOCATORS: Final[dict[str, Callable[[Doc, FieldSpec], Value | None]]] = {
    "label": by_label,
    "issue_date": _issue_date,
    "place": _place,
    "issuing_body": _issuing_body,
    "parent_body": _parent_body,
    "header_number": _number,
    "urgency": _urgency,
    "doc_type": _doc_type,
    "subject": _subject,
    "recipients": _recipients,
    "signer": _signer,
    "signer_title": _signer_title,
}
