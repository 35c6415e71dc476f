"""Locating values by their labels: the document's segments, sections, and the text read to
the right of a label or on the lines below it. The Decree 30/2020 header, which has no labels,
is located in `header.py`; both share `Doc` and `Value`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from extractors.fields.layout import LabelHit, Segment, build_segments, match_label
from extractors.fields.templates import FieldSpec, Template
from extractors.ocr import OcrPage, Word
from motcua.types import nfc

TRAILING: Final = " ;,.:"


@dataclass
class Value:
    """A located value before normalisation: raw text and the words it came from."""

    text: str
    words: tuple[Word, ...]
    items: tuple[str, ...] = ()  # for lists
    segment: int = -1
    doubts: tuple[str, ...] = ()  # why the locator is unsure (Vietnamese, for the clerk)


@dataclass
class Doc:
    """One document's segments and the geometry the locators share."""

    segments: list[Segment]
    heights: dict[int, int]  # page → height
    template: Template
    label_spans: dict[int, list[tuple[int, int]]] = field(default_factory=dict)
    sections: dict[str, tuple[int, int]] = field(default_factory=dict)
    found: dict[str, Value] = field(default_factory=dict)
    stamps: frozenset[int] | None = None  # segments of stamps (header.py)


def segments_of(pages: Sequence[OcrPage]) -> tuple[list[Segment], dict[int, int]]:
    segments: list[Segment] = []
    for page in pages:
        words = [w for w in page.words if w.text.strip()]
        segments += build_segments(words, page=page.number, width=page.width)
    return segments, {p.number: p.height for p in pages}


def _all_labels(template: Template) -> list[tuple[tuple[str, ...], bool]]:
    labels = [(spec.labels, spec.at_start) for spec in template.fields if spec.labels]
    labels += [(section.start, False) for section in template.sections]
    return labels


def label_spans(doc: Doc, index: int) -> list[tuple[int, int]]:
    """Where any label of the template sits in a segment (cached)."""
    if index not in doc.label_spans:
        spans = []
        for aliases, at_start in _all_labels(doc.template):
            hit = match_label(doc.segments[index], aliases, at_start=at_start)
            if hit:
                spans.append((hit.start, hit.end))
        doc.label_spans[index] = sorted(spans)
    return doc.label_spans[index]


def find_sections(doc: Doc) -> None:
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


def field_range(doc: Doc, spec: FieldSpec) -> tuple[int, int] | None:
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


def below(
    doc: Doc, index: int, anchor_left: int, height: float, *, after_bottom: int, max_gap: float
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
            if any(start >= first for start, _ in label_spans(doc, j)):
                return None  # the next label's line, not a continuation
            return j, list(seg.words[first:])
    return None


def by_label(doc: Doc, spec: FieldSpec) -> Value | None:
    span = field_range(doc, spec)
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
    value = Value("", ())
    for index, hit in hits:
        value = read_from(doc, spec, index, hit)
        if clean(value.text):
            return value
    return value


def read_from(doc: Doc, spec: FieldSpec, index: int, hit: LabelHit) -> Value:
    segment = doc.segments[index]
    start = _value_start(segment, hit)
    stops = [s for s, _ in label_spans(doc, index) if s >= start]
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
        found = below(doc, index, label_left, height, after_bottom=last_bottom, max_gap=2.5)
        if found is None:
            return Value("", ())
        last, words = found
        last_bottom = doc.segments[last].bottom
    lines = 1
    while lines < spec.lines:
        found = below(doc, last, label_left, height, after_bottom=last_bottom, max_gap=1.2)
        if found is None:
            break
        last, more = found
        words += more
        last_bottom = doc.segments[last].bottom
        lines += 1
    return Value(" ".join(w.text for w in words), tuple(words), segment=index)


def pitch(a: Segment, b: Segment) -> float:
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


def is_caps(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 3 and sum(c.isupper() for c in letters) >= 0.9 * len(letters)


_APOSTROPHES: Final = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'"})


def clean(text: str) -> str:
    text = nfc(text).replace("Ð", "Đ").translate(_APOSTROPHES)  # Icelandic eth → Vietnamese Đ
    return " ".join(text.split()).strip(TRAILING + "-").strip()
