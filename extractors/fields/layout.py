"""OCR words → rows and segments, and fuzzy label finding in them.

Rows are chained word by word (each word joins the row whose last word sits level with it),
so a slightly skewed page still gives whole rows. A row splits into segments at wide gaps: the
two columns of a header, or `Label: value` pairs spaced across a form line.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from rapidfuzz import fuzz

from extractors.ocr import Word
from motcua.types import fold

_NON_WORD: Final = re.compile(r"[^0-9a-z]+")


def token(text: str) -> str:
    """A word folded for matching: no diacritics, lower case, letters and digits only."""
    return _NON_WORD.sub("", fold(text))


@dataclass(frozen=True)
class Segment:
    """Words in reading order on one visual line, between wide gaps."""

    words: tuple[Word, ...]
    page: int
    width: int  # of the page, for column tests

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)

    @property
    def left(self) -> int:
        return min(w.bbox[0] for w in self.words)

    @property
    def right(self) -> int:
        return max(w.bbox[2] for w in self.words)

    @property
    def top(self) -> int:
        return min(w.bbox[1] for w in self.words)

    @property
    def bottom(self) -> int:
        return max(w.bbox[3] for w in self.words)

    @property
    def height(self) -> float:
        return statistics.median(w.bbox[3] - w.bbox[1] for w in self.words)

    @property
    def centre_x(self) -> float:
        return (self.left + self.right) / 2

    def tokens(self) -> list[tuple[int, str]]:
        """(word index, folded token) for the words that have letters or digits."""
        return [(i, t) for i, w in enumerate(self.words) if (t := token(w.text))]


def _centre_y(word: Word) -> float:
    return (word.bbox[1] + word.bbox[3]) / 2


def _height(word: Word) -> int:
    return max(1, word.bbox[3] - word.bbox[1])


def build_segments(
    words: Sequence[Word], *, page: int = 1, width: int = 0, gap_factor: float = 2.2
) -> list[Segment]:
    """Group words into rows (chaining left to right), split rows at wide gaps, top to bottom."""
    rows: list[list[Word]] = []
    for word in sorted(words, key=lambda w: w.bbox[0]):
        h = _height(word)
        best: tuple[float, list[Word]] | None = None
        for row in rows:
            last = row[-1]
            if last.bbox[2] > word.bbox[0] + 0.6 * h:
                continue
            dy = abs(_centre_y(last) - _centre_y(word))
            if dy > 0.5 * max(h, _height(last)):
                continue
            cost = dy + 0.05 * (word.bbox[0] - last.bbox[2])
            if best is None or cost < best[0]:
                best = (cost, row)
        if best is None:
            rows.append([word])
        else:
            best[1].append(word)
    segments: list[Segment] = []
    for row in rows:
        typical = statistics.median(_height(w) for w in row)
        current = [row[0]]
        for word in row[1:]:
            if word.bbox[0] - current[-1].bbox[2] > gap_factor * typical:
                segments.append(Segment(tuple(current), page, width))
                current = []
            current.append(word)
        segments.append(Segment(tuple(current), page, width))
    segments.sort(key=lambda s: (s.page, _centre_y(s.words[0]), s.left))
    return segments


def _colon_after(segment: Segment, end: int, look: int = 1) -> bool:
    """A colon ends the label's last word or opens one of the next `look` words."""
    words = segment.words
    if words[end - 1].text.endswith(":"):
        return True
    if look > 1:
        return any(":" in w.text for w in words[end : end + look])
    return end < len(words) and words[end].text.startswith(":")


@dataclass(frozen=True)
class LabelHit:
    segment: int  # index into the segment list
    start: int  # first word of the label
    end: int  # one past the last word of the label
    score: float


def match_label(
    segment: Segment, aliases: Sequence[str], *, at_start: bool = False, threshold: float = 82.0
) -> LabelHit | None:
    """The best fuzzy occurrence of any alias in the segment (segment index left at -1)."""
    tokens = segment.tokens()
    best: LabelHit | None = None
    for alias in aliases:
        wanted = [t for t in (token(p) for p in alias.split()) if t]
        target = " ".join(wanted)
        exact_only = len(target) <= 4
        # Short labels hide easily in values ("Hòa Tiến" ~ "Họ và tên"): ask more of them.
        needed = max(threshold, 90.0) if len(target) <= 10 else threshold
        for i in range(len(tokens)):
            if at_start and i > 0:
                break
            for n in {max(1, len(wanted) - 1), len(wanted), len(wanted) + 1}:
                if i + n > len(tokens):
                    continue
                window = " ".join(t for _, t in tokens[i : i + n])
                score = (
                    100.0
                    if window == target
                    else (0.0 if exact_only else fuzz.ratio(window, target))
                )
                end = tokens[i + n - 1][0] + 1
                # A short label ("Số") is a label only with its colon: "SỞ TƯ PHÁP" is not.
                if exact_only and score and not _colon_after(segment, end):
                    continue
                if i > 0 and score < 100 and not _colon_after(segment, end, look=3):
                    continue  # inside a line, only a label with its colon counts
                if score >= needed and (best is None or score > best.score):
                    best = LabelHit(-1, tokens[i][0], end, score)
    return best
