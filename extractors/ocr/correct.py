"""Vietnamese post-OCR correction over diacritic variants, and glued words split.

Tesseract's Vietnamese model often gets a syllable's letters right and its marks wrong (`bô sung`
for `bổ sung`, `câp` for `cấp`, `quyêt` for `quyết`, `địp` for `dịp`) or runs two syllables
together (`Vềviệc`). For each word read with low confidence, the spellings that differ only in
vowel marks (a/ă/â, e/ê, o/ô/ơ, u/ư), tone and d/đ are looked up in the syllable list
(`lexicon`, hunspell-vi); a variant is taken only when it makes a known word:
- with a neighbour, a multi-syllable word of `data/vi_words.txt` the read spelling does not make;
- alone, when the read spelling is no syllable at all and exactly one variant with the fewest
  changed marks is.
A confident word is never changed; a word of letters that are no syllable is split where both
halves are syllables and carry Vietnamese marks. The word keeps what OCR read in `Word.raw_text`.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import replace
from functools import cache
from importlib import resources
from typing import Final

from extractors.ocr.lexicon import is_syllable, marked_share, modern_tones, syllables
from extractors.ocr.model import Word

# Below this word confidence a syllable's marks may be respelled. Tesseract gives the mark
# slips of the issue 0.80-0.93 on the real letters (bench/letters.py); clean words read 0.95+.
CORRECT_BELOW: Final = 0.93
_SHAPES: Final = {"a": "aăâ", "e": "eê", "o": "oôơ", "u": "uư", "i": "i", "y": "y"}
_TONES: Final = ("\u0300", "\u0301", "\u0309", "\u0303", "\u0323")
_SHAPE_MARKS: Final = frozenset("\u0306\u0302\u031b")
_TOKEN: Final = re.compile(r"^(\W*)([^\W\d_]+)(\W*)$")


@cache
def compounds() -> frozenset[tuple[str, str]]:
    """Adjacent syllable pairs of the multi-syllable words (lower case, new tone placement)."""
    text = resources.files("extractors.ocr").joinpath("data/vi_words.txt").read_text("utf-8")
    pairs: set[tuple[str, str]] = set()
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = _key(line).replace(",", " ").split()
        pairs.update(itertools.pairwise(parts))
    return frozenset(pairs)


def _key(text: str) -> str:
    return modern_tones(unicodedata.normalize("NFC", text).lower())


def _letters(syllable: str) -> list[tuple[str, str, str]]:
    """(base letter, vowel-shape mark, tone mark) per letter of a lower-case syllable."""
    out = []
    for char in syllable:
        decomposed = unicodedata.normalize("NFD", char)
        base, marks = decomposed[0], decomposed[1:]
        shape = "".join(m for m in marks if m in _SHAPE_MARKS)
        tone = "".join(m for m in marks if m not in _SHAPE_MARKS)
        out.append((base, shape, tone))
    return out


@cache
def variants(syllable: str) -> tuple[str, ...]:
    """Known syllables spelled like `syllable` (lower case) but for marks and d/đ."""
    letters = _letters(syllable)
    vowels = [i for i, (base, _, _) in enumerate(letters) if base in _SHAPES]
    if not vowels or len(vowels) > 3:
        return ()
    choices: list[list[str]] = []
    for base, _, _ in letters:
        if base in _SHAPES:
            choices.append([unicodedata.normalize("NFD", c) for c in _SHAPES[base]])
        elif base in "dđ":
            choices.append(["d", "đ"])
        else:
            choices.append([base])
    known = syllables()
    found: set[str] = set()
    for shaped in itertools.product(*choices):
        for position, tone in [(None, ""), *itertools.product(vowels, _TONES)]:
            spelled = "".join(s + tone if i == position else s for i, s in enumerate(shaped))
            word = unicodedata.normalize("NFC", spelled)
            if word in known:
                found.add(word)
    found.discard(syllable)
    return tuple(sorted(found))


def _changes(a: str, b: str) -> int:
    """Marks (vowel shape, tone, the bar of đ) that differ between two spellings of the same
    letters."""
    return sum(
        (x[0] != y[0]) + (x[1] != y[1]) + (x[2] != y[2])
        for x, y in zip(_letters(a), _letters(b), strict=True)
    )


def _cased(model: str, word: str) -> str:
    if model.isupper() and len(model) > 1:
        return word.upper()
    if model[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


def _in_word(left: str | None, right: str | None) -> bool:
    return left is not None and right is not None and (_key(left), _key(right)) in compounds()


def choose(word: str, before: str | None = None, after: str | None = None) -> str | None:
    """The spelling to put in place of `word` (letters only) read between `before` and
    `after`, or None to keep it."""
    lower = unicodedata.normalize("NFC", word).lower()
    options = variants(lower)
    if not options:
        return None

    def joins(candidate: str) -> int:
        return int(_in_word(before, candidate)) + int(_in_word(candidate, after))

    known = is_syllable(lower)
    own = joins(lower)
    scored = [(joins(o), o) for o in options]
    best = max(score for score, _ in scored)
    if best > own:
        top = [o for score, o in scored if score == best]
        if len(top) == 1:
            return _cased(word, top[0])
        return None
    if known or own:
        return None
    nearest = min(_changes(lower, o) for o in options)
    closest = [o for o in options if _changes(lower, o) == nearest]
    return _cased(word, closest[0]) if len(closest) == 1 else None


def split_glued(word: str) -> tuple[str, str] | None:
    """Two syllables run together (`Vềviệc` → `Về`, `việc`), when the split is unique or makes
    a known word; None for a syllable, a name, an abbreviation, a foreign word."""
    if len(word) < 4 or is_syllable(word) or marked_share(word) == 0:
        return None
    if variants(unicodedata.normalize("NFC", word).lower()):
        return None  # one syllable with a mark slip ("QUYÉT"), not two
    if not (word.islower() or word.isupper() or (word[0].isupper() and word[1:].islower())):
        return None
    splits = [
        (word[:k], word[k:])
        for k in range(2, len(word) - 1)
        if is_syllable(word[:k]) and is_syllable(word[k:])
    ]
    if len(splits) > 1:
        splits = [s for s in splits if _in_word(*s)]
    return splits[0] if len(splits) == 1 else None


def _core(text: str) -> tuple[str, str, str] | None:
    found = _TOKEN.match(text)
    return (found.group(1), found.group(2), found.group(3)) if found else None


def correct_words(words: Sequence[Word]) -> tuple[Word, ...]:
    """The words with low-confidence mark slips respelled and glued syllables split, line by
    line (`Word.line`); a changed word keeps the OCR reading in `raw_text`."""
    out = list(words)
    cores = [_core(w.text) for w in words]
    for i, word in enumerate(words):
        core = cores[i]
        if core is None:
            continue
        lead, letters, trail = core
        if word.confidence < CORRECT_BELOW:
            before = _neighbour(words, cores, i, -1)
            after = _neighbour(words, cores, i, 1)
            chosen = choose(letters, before, after)
            if chosen is not None:
                out[i] = replace(word, text=f"{lead}{chosen}{trail}", raw_text=word.text)
                continue
        glued = split_glued(letters)
        if glued is not None:
            out[i] = replace(word, text=f"{lead}{glued[0]} {glued[1]}{trail}", raw_text=word.text)
    return tuple(out)


def _neighbour(
    words: Sequence[Word], cores: Sequence[tuple[str, str, str] | None], i: int, step: int
) -> str | None:
    """The letters of the next word on the same line, unless punctuation stands between."""
    j = i + step
    if not 0 <= j < len(words) or words[j].line != words[i].line:
        return None
    here, there = cores[i], cores[j]
    if here is None or there is None:
        return None
    between = here[2] if step > 0 else here[0]
    beyond = there[0] if step > 0 else there[2]
    return None if (between or beyond) else there[1]


def page_text(words: Sequence[Word]) -> str:
    """Page text from words in reading order: one line per `Word.line`."""
    lines: dict[int, list[str]] = {}
    for word in words:
        lines.setdefault(word.line, []).append(word.text)
    return "\n".join(" ".join(parts) for _, parts in sorted(lines.items()))


def correct_text(text: str, confidence: float = 0.0) -> str:
    """A string corrected as if every word had been read with `confidence` (field values
    typed elsewhere, tests)."""
    lines = []
    for number, line in enumerate(text.splitlines()):
        words = [Word(t, (0, 0, 0, 0), confidence, line=number) for t in line.split()]
        lines.append(" ".join(w.text for w in correct_words(words)))
    return "\n".join(lines)
