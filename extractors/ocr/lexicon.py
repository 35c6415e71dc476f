"""Vietnamese syllables from Debian's `hunspell-vi` dictionary (vi_VN.dic, MPL-2.0/LGPL; a
system package installed by scripts/bootstrap, read locally, never downloaded): is a word a
Vietnamese syllable, how Vietnamese is a text. Old and new tone placement are both accepted.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from pathlib import Path
from typing import Final

from motcua.errors import MissingDependencyError

DICTIONARY: Final = Path("/usr/share/hunspell/vi_VN.dic")
_WORD: Final = re.compile(r"[^\W\d_]+")
_VIET_MARKED: Final = frozenset(
    "àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ"
)


def _tone_pairs() -> dict[str, str]:
    pairs: dict[str, str] = {}
    for first, second, marks in (("o", "a", "àáảãạ"), ("o", "e", "èéẻẽẹ"), ("u", "y", "ỳýỷỹỵ")):
        for marked in marks:
            tone = unicodedata.normalize("NFD", marked)[1:]
            moved = unicodedata.normalize("NFC", first + tone)
            for a, b, c in ((first, marked, moved), (first.upper(), marked.upper(), moved.upper())):
                pairs[a + b] = c + (second if a.islower() else second.upper())
            pairs[first.upper() + marked] = moved.upper() + second  # "UỶ" written as "Uỷ"
    return pairs


_OLD_TONES: Final = _tone_pairs()
_OLD_TONE_RE: Final = re.compile(
    "(?<![qQ])(" + "|".join(sorted(_OLD_TONES, key=len, reverse=True)) + r")(?!\w)"
)


def modern_tones(text: str) -> str:
    """Old tone placement to the new (`UỶ` → `ỦY`, `HOÀ` → `HÒA`, `khoẻ` → `khỏe`): the same
    word either way (Decree 30/2020 prints the new); only where the pair ends the syllable."""
    return _OLD_TONE_RE.sub(lambda m: _OLD_TONES[m.group(1)], text)


@cache
def syllables() -> frozenset[str]:
    """Lower-case NFC syllables, in both tone placements."""
    path = DICTIONARY
    try:
        lines = path.read_text(encoding="utf-8").splitlines()[1:]  # the first line is a count
    except OSError:
        raise MissingDependencyError(
            f"Vietnamese word list {path} not found",
            hint="install the Debian package hunspell-vi (scripts/bootstrap does)",
        ) from None
    found: set[str] = set()
    for line in lines:
        word = unicodedata.normalize("NFC", line.split("/", 1)[0].strip()).lower()
        if word and " " not in word:
            found.add(word)
            found.add(modern_tones(word))
    return frozenset(found)


def is_syllable(word: str) -> bool:
    """A Vietnamese syllable, any case, either tone placement."""
    return unicodedata.normalize("NFC", word).lower() in syllables()


def words_of(text: str) -> list[str]:
    """The letter runs of a text (no digits, no punctuation), NFC."""
    return _WORD.findall(unicodedata.normalize("NFC", text))


def syllable_share(text: str) -> tuple[float, int]:
    """(share of words of two or more letters that are Vietnamese syllables, how many words)."""
    words = [w for w in words_of(text) if len(w) >= 2]
    if not words:
        return 1.0, 0
    known = sum(1 for w in words if is_syllable(w))
    return known / len(words), len(words)


def marked_share(text: str) -> float:
    """Share of letters carrying a Vietnamese mark (đ, ă, â, ê, ô, ơ, ư, tones)."""
    letters = [c.lower() for c in unicodedata.normalize("NFC", text) if c.isalpha()]
    return sum(1 for c in letters if c in _VIET_MARKED) / len(letters) if letters else 0.0
