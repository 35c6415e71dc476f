"""Vietnamese number words, both ways: `2024` ↔ `hai nghìn không trăm hai mươi tư`.

Forms write the date of birth in digits and in words; the two must agree. Reading accepts the
regional variants (nghìn/ngàn, linh/lẻ, tư/bốn, lăm/năm, mốt/một) and tolerates no other words.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

from motcua.types import fold

_DIGITS: Final = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
# Folded word → digit value; "tư", "lăm", "mốt" appear only after a tens word.
_DIGIT_VALUE: Final = {fold(word): value for value, word in enumerate(_DIGITS)} | {
    "tu": 4,
    "lam": 5,
    "mot": 1,
    "bon": 4,
}
_FILLERS: Final = {"linh", "le"}


def number_to_words(number: int) -> str:
    """Spell 0 ≤ number ≤ 9999 the way forms write it (`2005` → `hai nghìn không trăm linh năm`)."""
    if not 0 <= number <= 9999:
        raise ValueError(f"number out of range: {number}")
    if number == 0:
        return "không"
    thousands, rest = divmod(number, 1000)
    hundreds, below = divmod(rest, 100)
    parts: list[str] = []
    if thousands:
        parts += [_DIGITS[thousands], "nghìn"]
    if hundreds or (thousands and below):
        parts += [_DIGITS[hundreds], "trăm"]
    tens, ones = divmod(below, 10)
    if tens == 0:
        if ones:
            if parts:
                parts.append("linh")
            parts.append(_DIGITS[ones])
    elif tens == 1:
        parts.append("mười")
        if ones:
            parts.append("lăm" if ones == 5 else _DIGITS[ones])
    else:
        parts += [_DIGITS[tens], "mươi"]
        if ones:
            parts.append({1: "mốt", 4: "tư", 5: "lăm"}.get(ones, _DIGITS[ones]))
    return " ".join(parts)


def words_to_number(text: str) -> int | None:
    """Read Vietnamese number words; None when a word is not a number word."""
    tokens = fold(text).replace(",", " ").split()
    if not tokens:
        return None
    total = current = 0
    pending: int | None = None
    for token in tokens:
        if token in _DIGIT_VALUE:
            if pending is not None:
                return None  # two digits in a row: not a number
            pending = _DIGIT_VALUE[token]
        elif token == "muoi":
            # "mười" and "mươi" fold alike: "mươi" follows a digit, "mười" stands alone.
            current += (pending if pending is not None else 1) * 10
            pending = None
        elif token == "tram":
            current += (pending or 0) * 100
            pending = None
        elif token in {"nghin", "ngan"}:
            total += (current + (pending or 0)) * 1000
            current, pending = 0, None
        elif token in _FILLERS:
            continue
        else:
            return None
    return total + current + (pending or 0)


def date_to_words(day: dt.date) -> str:
    """`2024-03-15` → `ngày mười lăm tháng ba năm hai nghìn không trăm hai mươi tư`."""
    return (
        f"ngày {number_to_words(day.day)} tháng {number_to_words(day.month)} "
        f"năm {number_to_words(day.year)}"
    )


def words_to_date(text: str) -> dt.date | None:
    """Read a date written in words; None when it is not one."""
    tokens = fold(text).replace(",", " ").split()
    if tokens and tokens[0] in {"ngay", "mung", "mong"}:
        tokens = tokens[1:]
    if tokens and tokens[0] in {"mung", "mong"}:
        tokens = tokens[1:]
    if "thang" not in tokens:
        return None
    cut = tokens.index("thang")
    day = words_to_number(" ".join(tokens[:cut]))
    rest = tokens[cut + 1 :]
    # "năm" is both "five" and "year": try each place it could separate month from year.
    for i, token in enumerate(rest):
        if token != "nam" or i == 0:
            continue
        month = words_to_number(" ".join(rest[:i]))
        year = words_to_number(" ".join(rest[i + 1 :]))
        if day is None or month is None or year is None:
            continue
        try:
            return dt.date(year, month, day)
        except ValueError:
            continue
    return None
