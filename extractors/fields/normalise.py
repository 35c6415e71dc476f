"""Normalisers and per-field checks: a located raw value → its stored form and the problems
that send it to review.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

from rapidfuzz import fuzz, process

from extractors.fields import validators as v
from extractors.fields.layout import token
from extractors.fields.locate import TRAILING, Value, clean, is_caps
from extractors.fields.templates import FieldSpec
from extractors.ocr.lexicon import modern_tones
from motcua.types import fold

# OCR look-alikes inside a run of digits; using one marks the value for review.
DIGIT_FIXES: Final = str.maketrans(
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


Normalise = Callable[[FieldSpec, str, Value, list[str]], tuple[str | tuple[str, ...], list[str]]]


def normalise(spec: FieldSpec, raw: Value) -> tuple[str | tuple[str, ...], list[str]]:
    """(value, problems) for a located raw value, by the template's `normalise` name."""
    text = clean(raw.text)
    problems: list[str] = []
    if spec.normalise == "caps":
        text = modern_tones(text)
    if text and not (text[0].isalnum() or text[0] == "("):
        problems.append("giá trị bắt đầu bằng ký tự lạ, cần đối chiếu")
    return NORMALISERS[spec.normalise](spec, text, raw, problems)


def _list(
    spec: FieldSpec, text: str, raw: Value, problems: list[str]
) -> tuple[tuple[str, ...], list[str]]:
    items = []
    for item in (clean(i) for i in raw.items):
        # "Lưu: VT, <unit>" is a fixed phrase (Decree 30/2020): VT is the clerical office.
        fixed = re.sub(r"^Lưu\s*:?\s*V[^,\s]{0,2}\s*[,;.]*\s+", "Lưu: VT, ", item)
        if fixed != item and not item.startswith("Lưu: VT, "):
            problems.append("đã sửa dòng 'Lưu: VT, ...', cần đối chiếu")
        if fixed:
            items.append(fixed)
    return tuple(items), problems


def _digits(spec: FieldSpec, text: str, raw: Value, problems: list[str]) -> tuple[str, list[str]]:
    compact = re.sub(r"[\s.\-]", "", text)
    fixed = compact.translate(DIGIT_FIXES)
    if fixed != compact:
        problems.append("có ký tự đọc nhầm thành chữ số, cần đối chiếu")
    if spec.normalise == "year" and not re.fullmatch(r"\d{4}", fixed):
        problems.append("năm sinh phải gồm 4 chữ số")
    return fixed, problems


def _id_paper(spec: FieldSpec, text: str, raw: Value, problems: list[str]) -> tuple[str, list[str]]:
    if re.search(r"[^\W\d_]{2}", text):
        return _number_in_sentence(text, problems)
    return _digits(spec, text, raw, problems)


def _date(spec: FieldSpec, text: str, raw: Value, problems: list[str]) -> tuple[str, list[str]]:
    if spec.normalise == "expiry" and fold(text).startswith(("khong thoi", "khong th0i")):
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


def _sex(spec: FieldSpec, text: str, raw: Value, problems: list[str]) -> tuple[str, list[str]]:
    folded = token(text)
    if folded in {"nam", "nu"}:
        return ("Nam" if folded == "nam" else "Nữ"), problems
    return text, ["giới tính phải là Nam hoặc Nữ"]


def _choice(spec: FieldSpec, text: str, raw: Value, problems: list[str]) -> tuple[str, list[str]]:
    choices = {fold(c): c for c in spec.choices}
    if fold(text) in choices:
        return choices[fold(text)], problems
    nearest = process.extractOne(fold(text), list(choices), scorer=fuzz.ratio, score_cutoff=75)
    if nearest:
        return choices[nearest[0]], ["giá trị đọc không rõ, đã chọn giá trị gần nhất"]
    return text, ["giá trị không có trong danh mục"]


def _symbol(spec: FieldSpec, text: str, raw: Value, problems: list[str]) -> tuple[str, list[str]]:
    compact = text.replace(" ", "")
    if "/" in compact:
        head, tail = compact.split("/", 1)
        fixed = head.translate(DIGIT_FIXES)
        if fixed != head:
            problems.append("có ký tự đọc nhầm thành chữ số, cần đối chiếu")
        compact = f"{fixed}/{tail}"
    return compact, problems


def _text(spec: FieldSpec, text: str, raw: Value, problems: list[str]) -> tuple[str, list[str]]:
    if "address" in spec.checks:
        repaired = v.repair_address(text)
        if repaired is not None:
            problems.append("đã sửa dấu của tên đơn vị hành chính, cần đối chiếu")
            text = repaired
    return text, problems


def _name(spec: FieldSpec, text: str, raw: Value, problems: list[str]) -> tuple[str, list[str]]:
    text, problems = _text(spec, text, raw, problems)
    name = " ".join(w.strip(TRAILING) for w in text.split())
    repaired = v.repair_surname(name)
    if repaired is not None:
        problems.append(f"họ đọc được '{name.split()[0]}', đã sửa theo danh mục họ")
        name = repaired
    return name, problems


# The template's `normalise` names (templates.Normaliser) → how the value is put in stored form.
NORMALISERS: Final[dict[str, Normalise]] = {
    "text": _text,
    "caps": _text,
    "name": _name,
    "digits": _digits,
    "year": _digits,
    "id_paper": _id_paper,
    "date": _date,
    "expiry": _date,
    "sex": _sex,
    "choice": _choice,
    "symbol": _symbol,
    "list": _list,
}


# "Căn cước công dân số 0011 9001 2345, cấp ngày 01/02/2021": the run of digits after the paper's
# name, its groups joined; a date's digits are never part of it (they are split by / or -).
_PAPER_NUMBER_RE: Final = re.compile(r"(?<![\d/.\-])(\d[\d ]{7,14}\d)(?![\d/\-])")


def _number_in_sentence(text: str, problems: list[str]) -> tuple[str, list[str]]:
    runs = [re.sub(r"\s", "", m) for m in _PAPER_NUMBER_RE.findall(text)]
    numbers = [r for r in runs if len(r) in (9, 12)]
    if len(numbers) == 1:
        return numbers[0], problems
    if not numbers:
        return text, [*problems, "không tìm thấy số giấy tờ (9 hoặc 12 chữ số) trong dòng"]
    return numbers[0], [*problems, "dòng có nhiều số giấy tờ, đã lấy số đầu tiên, cần đối chiếu"]


def _caps(value: str) -> list[str]:
    return [] if is_caps(value) else ["phải viết hoa toàn bộ"]


# The template's `checks` names (templates.FieldCheck) → the problems one value has.
FIELD_CHECKS: Final[dict[str, Callable[[str], list[str]]]] = {
    "cccd": lambda value: v.check_cccd(value),
    "name": v.check_name,
    "address": v.check_address,
    "caps": _caps,
}


def field_checks(spec: FieldSpec, value: str) -> list[str]:
    problems: list[str] = []
    if spec.pattern and not re.fullmatch(spec.pattern, value):
        problems.append("không đúng định dạng")
    for check in spec.checks:
        problems += FIELD_CHECKS[check](value)
    return problems
