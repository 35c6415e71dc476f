"""Dates in Vietnamese words, as civil-status documents write them.

`15/3/2026` → `Ngày mười lăm, tháng ba, năm hai nghìn không trăm hai mươi sáu`. Written here
because num2words' Vietnamese reads 2026 as "hai nghìn lẻ hai mươi sáu", which is not the form
used on birth certificates ("không trăm" keeps the hundreds place).
"""

from __future__ import annotations

import datetime as dt

_DIGITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
_MONTHS = (
    "một", "hai", "ba", "tư", "năm", "sáu", "bảy", "tám", "chín", "mười", "mười một", "mười hai"
)  # fmt: skip


def _tens(n: int) -> str:
    """0 < n < 100."""
    tens, units = divmod(n, 10)
    if tens == 0:
        return _DIGITS[units]
    head = "mười" if tens == 1 else f"{_DIGITS[tens]} mươi"
    if units == 0:
        return head
    if units == 5:
        return f"{head} lăm"
    if units == 1 and tens > 1:
        return f"{head} mốt"
    return f"{head} {_DIGITS[units]}"


def _hundreds(n: int, *, full: bool) -> str:
    """0 <= n < 1000; `full` spells a zero hundreds place ("không trăm") after thousands."""
    hundreds, rest = divmod(n, 100)
    if hundreds == 0 and not full:
        return _tens(rest) if rest else ""
    head = f"{_DIGITS[hundreds]} trăm"
    if rest == 0:
        return head
    if rest < 10:
        return f"{head} lẻ {_DIGITS[rest]}"
    return f"{head} {_tens(rest)}"


def number_words(n: int) -> str:
    """0..9999 in words: 2026 → `hai nghìn không trăm hai mươi sáu`."""
    if not 0 <= n <= 9999:
        raise ValueError(f"number_words handles 0..9999, got {n}")
    if n == 0:
        return _DIGITS[0]
    thousands, rest = divmod(n, 1000)
    if thousands == 0:
        return _hundreds(rest, full=False)
    head = f"{_DIGITS[thousands]} nghìn"
    return head if rest == 0 else f"{head} {_hundreds(rest, full=True)}"


def date_words(day: dt.date) -> str:
    """`Ngày mười lăm, tháng ba, năm hai nghìn không trăm hai mươi sáu`."""
    return (
        f"Ngày {number_words(day.day)}, tháng {_MONTHS[day.month - 1]}, "
        f"năm {number_words(day.year)}"
    )
