"""Checks that catch a wrong value before a clerk trusts it.

Each check returns a list of problems (Vietnamese, for the clerk); an empty list means the value
passed. Sources: the personal identification number structure (Circular 07/2016/TT-BCA), card
expiry at ages 25/40/60 with the two-year rule (Law on Citizen Identification 2014 Art. 21, kept
by the Law on Identification 2023 Art. 21), names as printed (capitals or title case).
"""

from __future__ import annotations

import datetime as dt
import re
from functools import cache
from importlib import resources
from typing import Final

import yaml

from extractors.fields.numwords import words_to_date
from motcua.types import nfc

NO_EXPIRY: Final = "Không thời hạn"
EXPIRY_AGES: Final = (25, 40, 60)
EXPIRY_GRACE_YEARS: Final = 2

_DATE_RE: Final = re.compile(r"^\s*(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{4})\s*$")
# Vietnamese letters: Latin plus đ and any combining tone/vowel marks once NFC-composed.
_NAME_WORD_RE: Final = re.compile(r"^[^\W\d_]+$")


@cache
def provinces() -> dict[str, str]:
    """Province code → name (Circular 07/2016/TT-BCA), loaded from the package data."""
    text = resources.files("extractors.fields").joinpath("data/provinces.yaml").read_text("utf-8")
    data = yaml.safe_load(text)
    return {str(code): str(name) for code, name in data.items()}


@cache
def surnames() -> frozenset[str]:
    """Common Vietnamese family names, lower case NFC."""
    text = resources.files("extractors.fields").joinpath("data/surnames.yaml").read_text("utf-8")
    return frozenset(nfc(str(name)).lower() for name in yaml.safe_load(text))


@cache
def name_syllables() -> frozenset[str]:
    """Common syllables of middle and given names, lower case NFC."""
    path = "data/name_syllables.yaml"
    text = resources.files("extractors.fields").joinpath(path).read_text("utf-8")
    return frozenset(nfc(str(word)).lower() for word in yaml.safe_load(text))


def _fold(word: str) -> str:
    import unicodedata

    decomposed = unicodedata.normalize("NFD", word.lower().replace("đ", "d"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def repair_surname(name: str) -> str | None:
    """The name with its family name respelled when OCR lost a mark ("NGUYÊN" → "NGUYỄN") and
    exactly one common family name fits; None when there is nothing to repair."""
    words = nfc(name).split()
    if not words or words[0].lower() in surnames():
        return None
    fits = [s for s in surnames() if _fold(s) == _fold(words[0])]
    if len(fits) != 1:
        return None
    fixed = fits[0].upper() if words[0].isupper() else fits[0].capitalize()
    return " ".join([fixed, *words[1:]])


# Words that open a part of an address: before a number ("Tổ 4", "Phường 5") or a name
# ("Xã Quảng Tân", "Thành phố Vinh"). OCR slips on their marks ("Tố 4") are unambiguous.
_UNIT_WORDS: Final = (
    "Tổ",
    "Thôn",
    "Xóm",
    "Ấp",
    "Bản",
    "Số",
    "Phường",
    "Quận",
    "Khu",
    "Ngõ",
    "Ngách",
    "Hẻm",
    "Khóm",
    "Đội",
)
_ADMIN_WORDS: Final = (
    "Xã",
    "Phường",
    "Huyện",
    "Quận",
    "Tỉnh",
    "Thành phố",
    "Thị xã",
    "Thị trấn",
    "đường",
)


def _respell(part: str) -> str:
    words = part.split()
    if len(words) >= 2 and words[1][:1].isdigit():
        fits = [u for u in _UNIT_WORDS if _fold(u) == _fold(words[0])]
        if len(fits) == 1:
            words[0] = fits[0]
        return " ".join(words)
    for admin in _ADMIN_WORDS:
        n = len(admin.split())
        if len(words) > n and _fold(" ".join(words[:n])) == _fold(admin):
            return " ".join([admin, *words[n:]])
    fits = [p for p in provinces().values() if _fold(p) == _fold(part)]
    return fits[0] if len(fits) == 1 else part


def repair_address(address: str) -> str | None:
    """The address with the marks of its unit words and province put right ("Tố 4" → "Tổ 4",
    "Huyên" → "Huyện"); None when nothing changed."""
    parts = [p.strip() for p in nfc(address).split(",")]
    fixed = [_respell(p) for p in parts]
    return ", ".join(fixed) if fixed != parts else None


def check_address(address: str) -> list[str]:
    """The last part of an address names a province (Circular 07/2016 list), spelled right."""
    last = nfc(address).rsplit(",", 1)[-1].strip()
    for prefix in ("Tỉnh ", "tỉnh ", "Thành phố ", "TP. ", "TP "):
        last = last.removeprefix(prefix)
    if last in provinces().values():
        return []
    return ["tên tỉnh/thành phố cuối địa chỉ không có trong danh mục, cần đối chiếu"]


def parse_date(text: str) -> dt.date | None:
    """`15/03/1990` (or with `-` or `.`) → a real date; None when not a real date."""
    match = _DATE_RE.match(text)
    if not match:
        return None
    day, month, year = (int(g) for g in match.groups())
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def parse_iso(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def century_sex_digit(birth_year: int, sex: str) -> int:
    """The 4th digit of the number: 1900s 0/1, 2000s 2/3, 2100s 4/5 … (male/female)."""
    return (birth_year // 100 - 19) * 2 + (0 if sex == "Nam" else 1)


def check_cccd(
    number: str,
    *,
    birth: dt.date | None = None,
    birth_year: int | None = None,
    sex: str | None = None,
) -> list[str]:
    """Structure of a 12-digit personal identification number and its consistency."""
    if not re.fullmatch(r"\d{12}", number):
        return ["số định danh phải gồm đúng 12 chữ số"]
    problems: list[str] = []
    if number[:3] not in provinces():
        problems.append(f"mã tỉnh {number[:3]} không có trong danh mục (Thông tư 07/2016/TT-BCA)")
    year = birth.year if birth else birth_year
    digit = int(number[3])
    if digit > 9 or (year is None and digit > 5):
        problems.append("chữ số thế kỷ/giới tính không hợp lệ")
    if year is not None:
        if number[4:6] != f"{year % 100:02d}":
            problems.append("hai chữ số năm sinh trong số định danh không khớp ngày sinh")
        expected = century_sex_digit(year, sex) if sex in {"Nam", "Nữ"} else None
        if expected is not None and digit != expected:
            problems.append("chữ số thế kỷ/giới tính không khớp năm sinh và giới tính")
        elif expected is None and digit // 2 != year // 100 - 19:
            problems.append("chữ số thế kỷ không khớp năm sinh")
    elif sex in {"Nam", "Nữ"} and digit % 2 != (0 if sex == "Nam" else 1):
        problems.append("chữ số giới tính không khớp giới tính")
    return problems


def birthday_at(birth: dt.date, age: int) -> dt.date:
    try:
        return birth.replace(year=birth.year + age)
    except ValueError:  # born 29 February
        return dt.date(birth.year + age, 3, 1)


def expected_expiry(birth: dt.date, issued: dt.date) -> dt.date | None:
    """Expiry printed on a card issued on `issued`; None means `Không thời hạn`.

    The card expires on the holder's birthday at 25, 40 or 60; a card issued within two years
    before one of these birthdays stays valid to the next one; from 58 on it has no expiry.
    """
    for age in EXPIRY_AGES:
        milestone = birthday_at(birth, age)
        if issued < birthday_at(birth, age - EXPIRY_GRACE_YEARS):
            return milestone
    return None


def check_dates_order(
    birth: dt.date | None, issued: dt.date | None, expiry: dt.date | None
) -> list[str]:
    """Date of birth before issue date before expiry."""
    problems: list[str] = []
    if birth and issued and not birth < issued:
        problems.append("ngày sinh phải trước ngày cấp")
    if issued and expiry and not issued < expiry:
        problems.append("ngày cấp phải trước ngày hết hạn")
    if birth and expiry and not birth < expiry:
        problems.append("ngày sinh phải trước ngày hết hạn")
    return problems


def check_expiry(expiry_text: str, *, birth: dt.date, issued: dt.date | None) -> list[str]:
    """The printed expiry against the 25/40/60 rule."""
    if issued is None:
        # Without the issue date only the set of possible values can be checked.
        allowed = {birthday_at(birth, age).isoformat() for age in EXPIRY_AGES} | {NO_EXPIRY}
        if expiry_text not in allowed:
            return ["ngày hết hạn không rơi vào sinh nhật tuổi 25, 40 hoặc 60"]
        return []
    expected = expected_expiry(birth, issued)
    expected_text = expected.isoformat() if expected else NO_EXPIRY
    if expiry_text != expected_text:
        return [f"theo tuổi khi cấp thẻ, thẻ phải có giá trị đến {expected_text}"]
    return []


def check_name(name: str) -> list[str]:
    """A Vietnamese name as printed: ≥ 2 words of letters, ALL CAPS or Title Case words."""
    words = nfc(name).split()
    if len(words) < 2:
        return ["họ tên phải có ít nhất hai chữ"]
    if not all(_NAME_WORD_RE.match(word) for word in words):
        return ["họ tên chứa ký tự không phải chữ cái"]
    caps = all(word.isupper() for word in words)
    title = all(word[0].isupper() and (len(word) == 1 or word[1:].islower()) for word in words)
    if not caps and not title:
        return ["họ tên viết hoa không đúng quy cách (viết hoa toàn bộ hoặc chữ đầu mỗi tiếng)"]
    problems = []
    if words[0].lower() not in surnames():
        problems.append(f"họ '{words[0]}' ít gặp hoặc đọc sai dấu, cần đối chiếu")
    known = name_syllables()
    folded = {_fold(k) for k in known}
    for word in words[1:]:
        if word.lower() not in known and _fold(word) in folded:
            problems.append(f"tên đệm/tên '{word}' có thể đọc sai dấu, cần đối chiếu")
    return problems


def check_date_words(words: str, digits_iso: str) -> list[str]:
    """The date written in words says the same day as the digits."""
    in_words = words_to_date(words)
    if in_words is None:
        return ["không đọc được ngày tháng năm ghi bằng chữ"]
    if in_words.isoformat() != digits_iso:
        return [f"ngày ghi bằng chữ ({in_words.isoformat()}) khác ngày ghi bằng số"]
    return []
