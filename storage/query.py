"""What a search query says, and how a hit shows it: terms, phrases and highlighted snippets.

A query is a list of terms that must all match (AND): a bare word, or a phrase in double quotes
whose words must stand side by side in that order (`"Ngô Văn Huy"`). Words are cut as the
full-text indexes cut them (letters and digits; `H40.29.10-260105-0001` is the phrase `h40 29 10
260105 0001`), each in two spellings: exact (NFC, case-folded) and folded (no diacritics, `đ` →
`d`). The catalogue (`storage.catalogue`) turns the terms into SQLite FTS5 or PostgreSQL queries;
the snippet functions here mark the words of a hit in the record's own spelling. Imports only
`motcua.types`.
"""

from __future__ import annotations

import bisect
import html
import re
from dataclasses import dataclass
from functools import lru_cache

from motcua.types import fold, nfc

_TOKEN_RE = re.compile(r"[^\W_]+")  # letters and digits, as FTS5 `unicode61` cuts words
_QUOTED_RE = re.compile(r'"([^"]*)"?')


@dataclass(frozen=True)
class Term:
    """One thing that must match: a word, or the words of a quoted phrase, side by side."""

    exact: tuple[str, ...]  # the words, NFC, case-folded
    folded: tuple[str, ...]
    exact_text: str  # the term as typed, NFC, case-folded (PostgreSQL parses it itself)
    folded_text: str
    quoted: bool = False

    def words(self, folded: bool) -> tuple[str, ...]:
        return self.folded if folded else self.exact

    def text(self, folded: bool) -> str:
        return self.folded_text if folded else self.exact_text


@dataclass(frozen=True)
class ParsedQuery:
    terms: tuple[Term, ...]

    def __bool__(self) -> bool:
        return bool(self.terms)

    @property
    def word_count(self) -> int:
        return sum(len(t.exact) for t in self.terms)

    def as_one_phrase(self) -> Term:
        """Every word in the order typed, as one phrase (ranks a name typed whole first)."""
        return Term(
            exact=tuple(w for t in self.terms for w in t.exact),
            folded=tuple(w for t in self.terms for w in t.folded),
            exact_text=" ".join(t.exact_text for t in self.terms),
            folded_text=" ".join(t.folded_text for t in self.terms),
            quoted=True,
        )


def _term(chunk: str, quoted: bool) -> Term | None:
    exact_text = " ".join(nfc(chunk).casefold().split())
    tokens = _TOKEN_RE.findall(exact_text)
    if not tokens:
        return None
    return Term(
        exact=tuple(tokens),
        folded=tuple(fold(t) for t in tokens),
        exact_text=exact_text,
        folded_text=fold(exact_text),
        quoted=quoted and len(tokens) > 1,
    )


def parse_query(text: str) -> ParsedQuery:
    """The terms of `text`: quoted phrases (an unclosed quote runs to the end) and bare words.

    >>> [t.folded for t in parse_query('"Ngô Văn" Huy').terms]
    [('ngo', 'van'), ('huy',)]
    """
    terms: list[Term] = []
    position = 0
    for match in _QUOTED_RE.finditer(text):
        terms.extend(_bare_terms(text[position : match.start()]))
        term = _term(match.group(1), quoted=True)
        if term is not None:
            terms.append(term)
        position = match.end()
    terms.extend(_bare_terms(text[position:]))
    unique = list(dict.fromkeys(terms))  # `huy huy` needs `huy` once
    return ParsedQuery(tuple(unique))


def _bare_terms(chunk: str) -> list[Term]:
    return [t for t in (_term(word, quoted=False) for word in chunk.split()) if t is not None]


def fts5_expression(terms: tuple[Term, ...], column: str, folded: bool) -> str:
    """An FTS5 MATCH expression: every term (a phrase) in `column`, AND-ed."""
    phrases = " ".join('"' + " ".join(t.words(folded)) + '"' for t in terms)
    return f"{{{column}}} : ({phrases})"


# -- snippets ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Snippet:
    text: str  # matched words in [brackets]
    html: str  # HTML-escaped, matched words in <mark>…</mark>


# Folding character by character keeps every offset (NFC Vietnamese letters are one code point
# each), so the terms are found in the folded text by regular expressions and marked at the
# same places in the record's own text.
_FOLD_TABLE = str.maketrans(
    {
        chr(code): fold(chr(code))
        for code in [*range(0xC0, 0x250), *range(0x1E00, 0x1F00)]
        if len(fold(chr(code))) == 1
    }
)

_Span = tuple[int, int, int]  # first token, last token, term index


@lru_cache(maxsize=1024)
def _term_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(r"(?<![^\W_])" + r"[\W_]+".join(map(re.escape, words)) + r"(?![^\W_])")


def _spans(text: str, terms: tuple[Term, ...]) -> tuple[list[re.Match[str]], list[_Span]]:
    """The text's tokens, and where each term occurs among them."""
    tokens = list(_TOKEN_RE.finditer(text))
    folded = text.lower().translate(_FOLD_TABLE)
    starts = [t.start() for t in tokens]
    spans = []
    if len(folded) == len(text):  # else a letter whose lower case is longer (`İ`): no marks
        for index, term in enumerate(terms):
            for match in _term_pattern(term.folded).finditer(folded):
                first = bisect.bisect_left(starts, match.start())
                last = bisect.bisect_right(starts, match.end() - 1) - 1
                spans.append((first, last, index))
    spans.sort()
    return tokens, spans


def make_snippet(text: str, terms: tuple[Term, ...], width: int = 16) -> Snippet:
    """A window of `width` words of the record's own text showing as many of the terms as it
    can, each occurrence marked (in the record's spelling, matched without diacritics)."""
    tokens, spans = _spans(text, terms)
    if not tokens:
        return Snippet("", "")
    start = 0
    if spans:
        best = -1
        for first, _, _ in spans:
            begin = max(0, first - width // 4)
            covered = {term for f, last, term in spans if f >= begin and last < begin + width}
            if len(covered) > best:
                best, start = len(covered), begin
    end = min(len(tokens), start + width)  # token index past the window
    chars_from = tokens[start].start()
    chars_to = tokens[end - 1].end()
    trail = re.match(r"[^\w\s]*", text[chars_to:])  # the punctuation closing the last word
    chars_to += len(trail.group()) if trail else 0
    marks = [
        (tokens[f].start(), tokens[last].end()) for f, last, _ in spans if f >= start and last < end
    ]
    plain: list[str] = []
    marked: list[str] = []
    cursor = chars_from
    for mark_from, mark_to in _merged(marks):
        between = _squeeze(text[cursor:mark_from])
        word = _squeeze(text[mark_from:mark_to])
        plain += [between, f"[{word}]"]
        marked += [html.escape(between), f"<mark>{html.escape(word)}</mark>"]
        cursor = mark_to
    rest = _squeeze(text[cursor:chars_to])
    plain.append(rest)
    marked.append(html.escape(rest))
    lead = "… " if start else ""
    tail = " …" if end < len(tokens) else ""
    return Snippet(lead + "".join(plain) + tail, lead + "".join(marked) + tail)


def _merged(marks: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for begin, end in sorted(marks):
        if out and begin <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((begin, end))
    return out


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", " ", text)
