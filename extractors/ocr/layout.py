"""Reading order: column by column, and the two-column header of official documents block by block.

Tesseract's lines are first cut where a line has a gap wider than a couple of character heights
(a header line that Tesseract ran across both columns: `UBND TỈNH …   CỘNG HÒA …`). The pieces
are then ordered by a recursive XY-cut that prefers columns: a region is split at a vertical band of
white that crosses all of it (left before right), otherwise at its widest horizontal gap (top
before bottom); a region that cannot be cut keeps Tesseract's order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from statistics import median

from extractors.ocr.engine import LOW_CONFIDENCE, EngineWord
from extractors.ocr.model import Word

SPLIT_GAP = 1.8  # × word height: a wider gap inside a line separates two columns
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
    for line in lines.values():
        line.sort(key=lambda w: w.bbox[0])
        height = median(w.bbox[3] - w.bbox[1] for w in line)
        run = [line[0]]
        for word in line[1:]:
            if word.bbox[0] - run[-1].bbox[2] > SPLIT_GAP * height:
                out.append(Segment(tuple(run), len(out)))
                run = []
            run.append(word)
        out.append(Segment(tuple(run), len(out)))
    return out


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


def _order(region: list[Segment], line_height: float, out: list[list[Segment]]) -> None:
    if len(region) <= 1:
        out.append(region)
        return
    columns = _gaps([(s.box[0], s.box[2]) for s in region], COLUMN_GAP * line_height)
    if columns:
        cuts = [(a + b) / 2 for a, b in columns]
        groups: list[list[Segment]] = [[] for _ in range(len(cuts) + 1)]
        for seg in region:
            centre = (seg.box[0] + seg.box[2]) / 2
            groups[sum(centre > c for c in cuts)].append(seg)
        for group in groups:
            _order(group, line_height, out)
        return
    rows = _gaps([(s.box[1], s.box[3]) for s in region], 1)
    if rows:
        start, end = max(rows, key=lambda g: g[1] - g[0])
        cut = (start + end) / 2
        top = [s for s in region if (s.box[1] + s.box[3]) / 2 < cut]
        bottom = [s for s in region if (s.box[1] + s.box[3]) / 2 >= cut]
        if top and bottom:
            _order(top, line_height, out)
            _order(bottom, line_height, out)
            return
    out.append(sorted(region, key=lambda s: s.order))


def reading_order(words: Sequence[EngineWord]) -> list[list[Segment]]:
    """Blocks of segments in reading order."""
    if not words:
        return []
    pieces = segments(words)
    line_height = float(median(s.height for s in pieces))
    blocks: list[list[Segment]] = []
    _order(pieces, max(line_height, 1.0), blocks)
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
