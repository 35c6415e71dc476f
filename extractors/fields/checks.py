"""Cross-field checks and the QR merge over the drafts of one document: ID number against
birth date and sex, date order, card expiry, date in words, drafting unit.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from extractors.fields import validators as v
from extractors.fields.layout import token
from extractors.fields.model import QrPayload
from extractors.fields.templates import CrossCheck, Template


@dataclass
class Draft:
    value: str | tuple[str, ...]
    confidence: float
    source: str
    reasons: list[str]
    output: bool
    raw: str = ""
    ocr_raw: str | None = None  # `raw` as OCR read it, before post-OCR correction


def same_text(a: str, b: str) -> bool:
    return token(a.replace(" ", "")) == token(b.replace(" ", ""))


def merge_qr(
    template: Template, drafts: dict[str, Draft], qr: QrPayload, warnings: list[str]
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
            and not same_text(printed.value, value)
        ):
            reasons.append("giá trị in trên thẻ khác giá trị trong mã QR")
            warnings.append(f"{spec.key}: giá trị in trên thẻ khác mã QR, cần kiểm tra")
        confidence = 0.99 if not reasons else 0.5
        drafts[spec.key] = Draft(value, confidence, "qr", reasons, spec.output)


def _date_of(drafts: dict[str, Draft], key: str | None) -> dt.date | None:
    draft = drafts.get(key) if key else None
    if draft is None or not isinstance(draft.value, str):
        return None
    return v.parse_iso(draft.value)


def _flag(
    drafts: dict[str, Draft],
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


def cross_checks(template: Template, drafts: dict[str, Draft], warnings: list[str]) -> None:
    """Run the template's cross-field checks, in order, over the drafts (flagging in place)."""
    for check in template.checks:
        CROSS_CHECKS[check.check](check, drafts, warnings)


def _check_date_order(check: CrossCheck, drafts: dict[str, Draft], warnings: list[str]) -> None:
    dates = [(key, _date_of(drafts, key)) for key in check.fields]
    present = [(k, d) for k, d in dates if d is not None]
    for (ka, a), (kb, b) in itertools.pairwise(present):
        if not a < b:
            _flag(drafts, [ka, kb], [f"{ka} phải trước {kb}"], warnings, "ngày tháng")


def _check_card_expiry(check: CrossCheck, drafts: dict[str, Draft], warnings: list[str]) -> None:
    birth = _date_of(drafts, check.birth)
    expiry = drafts.get(check.expiry or "")
    issued = _date_of(drafts, check.issued)
    if birth and expiry and isinstance(expiry.value, str):
        _read_expiry_digits(expiry, birth, issued)
    if birth and expiry and isinstance(expiry.value, str):
        problems = v.check_expiry(expiry.value, birth=birth, issued=issued)
        _flag(drafts, [check.expiry], problems, warnings, check.expiry or "")


def _check_date_words(check: CrossCheck, drafts: dict[str, Draft], warnings: list[str]) -> None:
    words = drafts.get(check.words or "")
    digits = drafts.get(check.digits or "")
    if words and digits and isinstance(words.value, str) and isinstance(digits.value, str):
        problems = v.check_date_words(words.value, digits.value)
        _flag(drafts, [check.digits], problems, warnings, check.digits or "")


def _check_drafting_unit(check: CrossCheck, drafts: dict[str, Draft], warnings: list[str]) -> None:
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


def _read_expiry_digits(expiry: Draft, birth: dt.date, issued: dt.date | None) -> None:
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


def _check_cccd(check: CrossCheck, drafts: dict[str, Draft], warnings: list[str]) -> None:
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


CrossCheckFn = Callable[[CrossCheck, dict[str, Draft], list[str]], None]
# The template's cross-check names (templates.CrossCheck.check) → the check over the drafts.
CROSS_CHECKS: Final[dict[str, CrossCheckFn]] = {
    "cccd_consistent": _check_cccd,
    "date_order": _check_date_order,
    "card_expiry": _check_card_expiry,
    "date_words": _check_date_words,
    "drafting_unit": _check_drafting_unit,
}
