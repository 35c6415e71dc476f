"""Decree 30/2020/NĐ-CP header shapes, from `data/decree30.yaml`: which lines above `Số:` are
the parent body and which the issuer, and which lines are stamps (received, urgency) that are
never the document's own number or date. Plain functions over segments; no OCR here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml
from pydantic import BaseModel, ConfigDict, Field

from extractors.fields.layout import Segment, token


class HeaderRules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    standalone_heads: tuple[str, ...]
    place_words: tuple[str, ...]
    parent_heads: tuple[str, ...]
    received_stamp: tuple[str, ...]
    stamp_lines: int = Field(default=4, ge=1, le=10)
    urgency: tuple[str, ...]


@cache
def header_rules() -> HeaderRules:
    text = resources.files("extractors.fields").joinpath("data/decree30.yaml").read_text("utf-8")
    return HeaderRules.model_validate(yaml.safe_load(text))


def _tokens(text: str) -> list[str]:
    return [t for t in (token(w) for w in text.split()) if t]


def _starts(tokens: Sequence[str], phrases: Sequence[str]) -> int:
    """The length of the longest phrase the tokens start with (0: none)."""
    best = 0
    for phrase in phrases:
        head = _tokens(phrase)
        if head and list(tokens[: len(head)]) == head:
            best = max(best, len(head))
    return best


def seg_tokens(seg: Segment) -> list[str]:
    return [t for _, t in seg.tokens()]


def is_standalone_head(seg: Segment) -> bool:
    """`ỦY BAN NHÂN DÂN` alone on its line: the first half of a body with no parent."""
    tokens = seg_tokens(seg)
    return bool(tokens) and _starts(tokens, header_rules().standalone_heads) == len(tokens)


def is_place_line(seg: Segment) -> bool:
    return _starts(seg_tokens(seg), header_rules().place_words) > 0


def is_parent_line(seg: Segment) -> bool:
    return _starts(seg_tokens(seg), header_rules().parent_heads) > 0


def urgency_of(seg: Segment) -> str | None:
    """`HỎA TỐC` / `THƯỢNG KHẨN` / `KHẨN` alone on its line (a stamp) → the stored value."""
    tokens = seg_tokens(seg)
    for value in header_rules().urgency:
        size = _starts(tokens, (value,))
        if size and len(tokens) <= size + 1:
            return value
    return None


def stamp_segments(segments: Sequence[Segment]) -> set[int]:
    """Indices of a received stamp's lines (`CV ĐẾN`, then its own `Số` and `Ngày`)."""
    rules = header_rules()
    found: set[int] = set()
    for i, seg in enumerate(segments):
        tokens = seg_tokens(seg)
        size = _starts(tokens, rules.received_stamp)
        # `ĐẾN` alone or followed by the stamp's own slots; not a sentence starting with it.
        if not size or (len(tokens) > size + 3 and tokens[size] not in {"so", "ngay"}):
            continue
        found.add(i)
        for j in range(i + 1, min(i + 1 + 2 * rules.stamp_lines, len(segments))):
            other = segments[j]
            if other.page != seg.page or other.top - seg.bottom > rules.stamp_lines * seg.height:
                break
            if abs(other.left - seg.left) < 4 * seg.height and _starts(
                seg_tokens(other), ("Số", "Ngày", "Chuyển", "Lưu hồ sơ số")
            ):
                found.add(j)
    return found


def _phrase_at(tokens: Sequence[str], at: int, phrases: Sequence[str]) -> list[str]:
    """The longest phrase (printed words) whose tokens start at `at`, or []."""
    best: list[str] = []
    for phrase in phrases:
        head = _tokens(phrase)
        if len(head) > len(best) and list(tokens[at : at + len(head)]) == head:
            best = phrase.split()
    return best if len(best) == len(_tokens(" ".join(best))) else []


def respelled(seg: Segment) -> str:
    """The line with its leading closed-set words (a head, then a place word) in their printed
    spelling: OCR's `TĨNH` or `HUYÊN` before a place name can only be `TỈNH`, `HUYỆN`."""
    rules = header_rules()
    words = [w.text for w in seg.words]
    tokens = [token(w) for w in words]
    out = list(words)
    at = 0
    for phrases in ((*rules.standalone_heads, *rules.parent_heads), rules.place_words):
        phrase = _phrase_at(tokens, at, phrases)
        for k, printed in enumerate(phrase):
            original = words[at + k]
            tail = original[len(original.rstrip(",.;:")) :]  # keep "TỈNH," glued
            out[at + k] = printed + tail
        at += len(phrase)
    return " ".join(out)


@dataclass(frozen=True)
class HeaderShape:
    """The left header lines split into the parent body and the issuer, with any doubt."""

    parent: tuple[Segment, ...]
    issuer: tuple[Segment, ...]
    doubts: tuple[str, ...] = ()


def header_shape(rows: Sequence[Segment]) -> HeaderShape:
    """Group the left header lines into bodies: a standalone head with its place line is one
    body; a line starting with `VÀ` continues the one above. One body is the issuer; with two,
    the first is the parent; a shape the rules do not explain is kept but doubted."""
    units: list[list[Segment]] = []
    i = 0
    while i < len(rows):
        seg = rows[i]
        if is_standalone_head(seg) and i + 1 < len(rows) and is_place_line(rows[i + 1]):
            units.append([seg, rows[i + 1]])
            i += 2
            continue
        if units and seg_tokens(seg)[:1] == ["va"]:
            units[-1].append(seg)
        else:
            units.append([seg])
        i += 1
    doubts: list[str] = []
    if not units:
        return HeaderShape((), (), ("không tìm thấy tên cơ quan ban hành",))
    if any(len(u) == 1 and is_standalone_head(u[0]) for u in units):
        doubts.append("tên cơ quan thiếu dòng địa danh, cần đối chiếu")
    if len(units) == 1:
        return HeaderShape((), tuple(units[0]), tuple(doubts))
    if not is_parent_line(units[0][0]):
        doubts.append("không chắc dòng đầu là cơ quan chủ quản, cần đối chiếu")
    if len(units) > 2:
        doubts.append("tiêu đề có nhiều hơn hai cấp cơ quan, cần đối chiếu")
    issuer = tuple(s for u in units[1:] for s in u)
    return HeaderShape(tuple(units[0]), issuer, tuple(doubts))
