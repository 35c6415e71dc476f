"""Shared domain types and text rules used across the packages.

Vietnamese text is NFC everywhere; `đ/Đ` do not decompose under Unicode normalisation, so
diacritic-insensitive matching folds them explicitly. This module imports nothing from the
project, so the libraries may use it.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Final

_SPACE_RE: Final = re.compile(r"\s+")


def nfc(text: str) -> str:
    """Return `text` in Unicode NFC, the form motcua stores and compares."""
    return unicodedata.normalize("NFC", text)


def fold(text: str) -> str:
    """Fold Vietnamese text for diacritic- and case-insensitive matching.

    `Nguyễn Thị Hằng` → `nguyen thi hang`; `Đà Nẵng` → `da nang`; whitespace collapsed.
    """
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACE_RE.sub(" ", stripped).strip().casefold()


def mask_id(number: str) -> str:
    """Mask a personal identification number for display and logs: `001******345`."""
    digits = number.strip()
    if len(digits) <= 6:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 6) + digits[-3:]


def vn_date(value: dt.date | str | None) -> str:
    """A date as Vietnamese readers write it, dd/mm/yyyy; ISO strings too (the first 10
    characters), and text that is not a date as it is."""
    if isinstance(value, str):
        try:
            day = dt.date.fromisoformat(value[:10])
        except ValueError:
            return value
        return f"{day:%d/%m/%Y}"
    return "" if value is None else f"{value:%d/%m/%Y}"
