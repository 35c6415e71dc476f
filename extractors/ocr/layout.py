"""Reading order: column by column, and the two-column header of official documents block by block.

Tesseract's lines are first cut where a line has a gap wider than a couple of character heights
(a header line that Tesseract ran across both columns: `UBND TỈNH …   CỘNG HÒA …`). The pieces
are then ordered by a recursive XY-cut that prefers columns: a region is split at a vertical band of
white that crosses all of it when the pieces on either side run alongside each other (left before
right), otherwise at its widest horizontal gap (top before bottom); a region that cannot be cut
keeps Tesseract's order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from statistics import median

from extractors.ocr.engine import LOW_CONFIDENCE, EngineWord
from extractors.ocr.model import Word

NOISE_GAP = 0.8  # × word height: a punctuation-only "word" this far from both neighbours is dirt
DIRT_CONFIDENCE = 0.7  # an unsure punctuation-only word with white on one side is dirt too
SPLIT_GAP = 1.8  # × word height: a wider gap inside a line separates two columns
SIDE_BY_SIDE = 0.4  # share of the tallest column's height that the others must run alongside
COLUMN_GAP = 1.0  # × median line height: a white band this wide separates columns


@dataclass(frozen=True)
class Segment:
    """A run of words on one line, with no wide gap inside."""

    words: tuple[EngineWord, ...]
    order: int  # position in the engine's order

    @property
    def box(self) -> tuple[int, int, int, int]:
        return (
            min(w.bbox[0] for w in self.words),
            min(w.bbox[1] for w in self.words),
            max(w.bbox[2] for w in self.words),
            max(w.bbox[3] for w in self.words),
        )

    @property
    def height(self) -> int:
        return int(median(w.bbox[3] - w.bbox[1] for w in self.words))


def segments(words: Sequence[EngineWord]) -> list[Segment]:
    """Engine lines, cut at wide gaps, in the engine's order."""
    lines: dict[tuple[int, int, int], list[EngineWord]] = {}
    for word in words:
        lines.setdefault(word.key, []).append(word)
    out: list[Segment] = []
    for found in lines.values():
        found.sort(key=lambda w: w.bbox[0])
        height = median(w.bbox[3] - w.bbox[1] for w in found)
        line = _without_dirt(found, height)
        if not line:
            continue
        run = [line[0]]
        for word in line[1:]:
            if word.bbox[0] - run[-1].bbox[2] > SPLIT_GAP * height:
                out.append(Segment(tuple(run), len(out)))
                run = []
            run.append(word)
        out.append(Segment(tuple(run), len(out)))
    return out


def _without_dirt(line: list[EngineWord], height: float) -> list[EngineWord]:
    """Drop punctuation-only words standing alone, or unsure and apart from a neighbour: specks
    and scanner dirt read as `_`, `.`, `'` (a dash between words is read with confidence)."""
    kept: list[EngineWord] = []
    for i, word in enumerate(line):
        if not any(c.isalnum() for c in word.text):
            before = word.bbox[0] - line[i - 1].bbox[2] if i else float("inf")
            after = line[i + 1].bbox[0] - word.bbox[2] if i + 1 < len(line) else float("inf")
            alone = min(before, after) > NOISE_GAP * height
            unsure = word.confidence < DIRT_CONFIDENCE and max(before, after) > NOISE_GAP * height
            if alone or unsure:
                continue
        kept.append(word)
    return kept


def _gaps(intervals: list[tuple[int, int]], minimum: float) -> list[tuple[float, float]]:
    """White gaps (start, end) at least `minimum` wide between merged intervals."""
    intervals = sorted(intervals)
    gaps: list[tuple[float, float]] = []
    end = intervals[0][1]
    for start, stop in intervals[1:]:
        if start - end >= minimum and start > end:
            gaps.append((end, start))
        end = max(end, stop)
    return gaps


def _side_by_side(groups: list[list[Segment]]) -> bool:
    """Columns run alongside each other: each one's height overlaps the tallest's by
    `SIDE_BY_SIDE` or more. (A header's right block over a page whose body happens to be short
    leaves a white band too, but the body must then be read after the whole header.)"""
    extents = [(min(s.box[1] for s in g), max(s.box[3] for s in g)) for g in groups if g]
    tallest = max(b - a for a, b in extents)
    for top, bottom in extents:
        for other_top, other_bottom in extents:
            overlap = min(bottom, other_bottom) - max(top, other_top)
            if overlap < SIDE_BY_SIDE * tallest:
                return False
    return True


def _order(
    region: list[Segment], line_height: float, out: list[tuple[int, list[Segment]]], block: int
) -> None:
    """Append (block id, segments) leaves in reading order; each column gets a new block id."""
    if len(region) <= 1:
        out.append((block, region))
        return
    columns = _gaps([(s.box[0], s.box[2]) for s in region], COLUMN_GAP * line_height)
    if columns:
        cuts = [(a + b) / 2 for a, b in columns]
        groups: list[list[Segment]] = [[] for _ in range(len(cuts) + 1)]
        for seg in region:
            centre = (seg.box[0] + seg.box[2]) / 2
            groups[sum(centre > c for c in cuts)].append(seg)
        if _side_by_side(groups):
            for group in groups:
                _order(group, line_height, out, block=max(b for b, _ in out or [(block, [])]) + 1)
            return
    rows = _gaps([(s.box[1], s.box[3]) for s in region], 1)
    if rows:
        start, end = max(rows, key=lambda g: g[1] - g[0])
        cut = (start + end) / 2
        top = [s for s in region if (s.box[1] + s.box[3]) / 2 < cut]
        bottom = [s for s in region if (s.box[1] + s.box[3]) / 2 >= cut]
        if top and bottom:
            _order(top, line_height, out, block)
            _order(bottom, line_height, out, block)
            return
    out.append((block, sorted(region, key=lambda s: s.order)))


def reading_order(words: Sequence[EngineWord]) -> list[list[Segment]]:
    """Blocks (columns, header blocks) of segments, in reading order."""
    if not words:
        return []
    pieces = segments(words)
    if not pieces:
        return []
    line_height = float(median(s.height for s in pieces))
    leaves: list[tuple[int, list[Segment]]] = []
    _order(pieces, max(line_height, 1.0), leaves, 0)
    blocks: list[list[Segment]] = []
    index: dict[int, int] = {}
    last = None
    for block, leaf in leaves:
        if block != last or block not in index:
            index[block] = len(blocks)
            blocks.append([])
        blocks[index[block]].extend(leaf)
        last = block
    return blocks


def ordered_words(words: Sequence[EngineWord]) -> tuple[tuple[Word, ...], str]:
    """(words in reading order with block = reading block and line = reading line, page text)."""
    out: list[Word] = []
    lines: list[str] = []
    for block_index, block in enumerate(reading_order(words)):
        for seg in block:
            for word in seg.words:
                out.append(
                    Word(
                        text=word.text,
                        bbox=word.bbox,
                        confidence=word.confidence,
                        block=block_index,
                        line=len(lines),
                        low_confidence=word.confidence < LOW_CONFIDENCE,
                    )
                )
            lines.append(" ".join(w.text for w in seg.words))
    return tuple(out), "\n".join(lines)
