"""Values people type for a field (a clerk's correction), checked against the field's template.

Extraction repairs what OCR misreads; a person's value is taken as typed, in the form extraction
stores it (dates as ISO `yyyy-mm-dd`, IDs as bare digits), or refused with the reason in
Vietnamese. `shown(kind, key, value)` is the other way round: a stored value as a person reads it
(`04/05/2026`).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from extractors.fields import validators as v
from extractors.fields.templates import FieldSpec, templates
from motcua.types import fold, nfc, vn_date

_SEPARATORS = re.compile(r"[\s.\-]")


@dataclass(frozen=True, slots=True)
class Typed:
    """A typed value in stored form; `problem` (Vietnamese) says why it was refused."""

    value: str
    problem: str | None = None


def _spec(kind: str, key: str) -> FieldSpec | None:
    template = templates().get(kind)
    if template is None:
        return None
    return next((spec for spec in template.fields if spec.key == key), None)


def _date(text: str) -> dt.date | None:
    return v.parse_date(text) or v.parse_iso(text)


def _typed(spec: FieldSpec, text: str) -> Typed:
    kind = spec.normalise
    if kind in {"digits", "year"}:
        compact = _SEPARATORS.sub("", text)
        if not compact.isdigit():
            return Typed(text, "chỉ được gồm chữ số")
        if kind == "year" and len(compact) != 4:
            return Typed(text, "năm phải gồm 4 chữ số")
        return Typed(compact)
    if kind in {"date", "expiry"}:
        if kind == "expiry" and fold(text) == fold(v.NO_EXPIRY):
            return Typed(v.NO_EXPIRY)
        date = _date(text)
        if date is None:
            return Typed(text, "phải là ngày có thật, dạng dd/mm/yyyy")
        return Typed(date.isoformat())
    if kind == "sex":
        folded = fold(text)
        if folded not in {"nam", "nu"}:
            return Typed(text, "giới tính phải là Nam hoặc Nữ")
        return Typed("Nam" if folded == "nam" else "Nữ")
    if kind == "choice":
        choices = {fold(c): c for c in spec.choices}
        nearest = process.extractOne(fold(text), list(choices), scorer=fuzz.ratio)
        if nearest is not None and nearest[1] >= 90:
            return Typed(choices[nearest[0]])
        if len(spec.choices) <= 8:
            return Typed(text, "phải là một trong: " + ", ".join(spec.choices))
        hint = f"; có phải “{choices[nearest[0]]}”?" if nearest and nearest[1] >= 60 else ""
        return Typed(text, "không có trong danh mục" + hint)
    if kind == "symbol":
        return Typed(text.replace(" ", ""))
    return Typed(text)


def _checked(spec: FieldSpec, typed: Typed) -> Typed:
    if typed.problem is not None:
        return typed
    if spec.pattern and not re.fullmatch(spec.pattern, typed.value):
        return Typed(typed.value, "không đúng định dạng")
    if "cccd" in spec.checks:
        problems = v.check_cccd(typed.value)
        if problems:
            return Typed(typed.value, "; ".join(problems))
    return typed


def typed_value(kind: str, key: str, text: str) -> Typed:
    """`text` typed for field `key` of a `kind` document, in stored form, or refused.

    Empty text clears a field and is always taken; fields without a template pass as typed.
    """
    spec = _spec(kind, key)
    if spec is not None and spec.normalise == "list":
        return Typed(nfc(text))  # one item a line: the caller splits
    text = " ".join(nfc(text).split())
    if not text or spec is None:
        return Typed(text)
    return _checked(spec, _typed(spec, text))


def shown(kind: str, key: str, value: str) -> str:
    """A stored value as people read it: ISO dates of date fields as `dd/mm/yyyy`."""
    spec = _spec(kind, key)
    if spec is None or spec.normalise not in {"date", "expiry"}:
        return value
    date = v.parse_iso(value)
    return vn_date(date) if date else value
