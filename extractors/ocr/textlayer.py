"""Existing PDF text layers: keep a good one, detect a bad one.

Born-digital PDFs need no OCR. Old scanner software, though, left text layers that lost the
Vietnamese diacritics (WinAnsi: "CONG HOA XA HOI"), that hold legacy VNI/TCVN3 bytes read as
Latin-1 ("Coäng hoøa", "Céng hßa"), or that are just bad OCR ("CONG Hcok xA HQI"). `judge` says
which, from the text alone; such pages are OCR'd again.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from extractors.ocr.lexicon import marked_share, syllable_share
from extractors.ocr.model import OcrPage, Word
from motcua.pdfium import open_pdf

Verdict = Literal["good", "bad", "none"]
MIN_LETTERS = 20

# Letters of the Vietnamese alphabet with their tone marks, plus the plain Latin ones (for
# loan words, abbreviations, English).
_VIET_EXTRA = set(
    "àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ"
    "ÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬÈÉẺẼẸÊỀẾỂỄỆÌÍỈĨỊÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢÙÚỦŨỤƯỪỨỬỮỰỲÝỶỸỴĐ"
)
# Frequent Vietnamese syllables as they look with every mark stripped: text made mostly of these
# and carrying no marks at all has lost its diacritics.
_BARE_TEXT = """
    cong hoa xa hoi chu nghia viet nam doc lap tu do hanh phuc so ngay thang ve viec cua va
    cac co quan to chuc nguoi dan uy ban nhan tinh thanh pho huyen quyet dinh thong bao ke
    hoach giam truong phong theo quy tai ho thu tuc chinh trong duoc khong cho voi nhung mot
    la de tren den phap giao duc dao tao noi vu ubnd can cu luat nghi thi thuc hien trach
    nhiem ket qua tiep tra"""
_BARE_SYLLABLES = frozenset(_BARE_TEXT.split())
_WORD = re.compile(r"[^\W\d_]+")


@dataclass(frozen=True)
class Judgement:
    verdict: Verdict
    reason: str


def judge(text: str) -> Judgement:
    """Is this text layer usable as it is? ('good' | 'bad' | 'none', and why)."""
    text = unicodedata.normalize("NFC", text)
    letters = [c for c in text if c.isalpha()]
    if len(letters) < MIN_LETTERS:
        return Judgement("none", "no text layer")
    if (
        "\ufffd" in text
        or sum(1 for c in text if unicodedata.category(c) in ("Co", "Cc") and c not in "\n\r\t\f")
        > 2
    ):
        return Judgement("bad", "unmapped or private-use characters")
    foreign = sum(1 for c in letters if not (c.isascii() or c in _VIET_EXTRA))
    if foreign > max(2, 0.02 * len(letters)):
        return Judgement(
            "bad", "letters outside the Vietnamese alphabet (legacy VNI/TCVN3 encoding)"
        )
    odd_symbols = sum(1 for c in text if "\u00a1" <= c <= "\u00bf" and c not in "«»°±·")
    if odd_symbols > max(2, 0.02 * len(letters)):
        return Judgement("bad", "Latin-1 symbols inside words (legacy TCVN3 encoding)")
    marked = sum(1 for c in letters if c in _VIET_EXTRA)
    words = [w.casefold() for w in _WORD.findall(text)]
    bare = sum(1 for w in words if w in _BARE_SYLLABLES)
    if words and bare / len(words) > 0.25 and marked / len(letters) < 0.02:
        return Judgement("bad", "Vietnamese text without diacritics (WinAnsi text layer)")
    if _odd_case_words(text) > 0.15:
        return Judgement("bad", "garbled words (a poor earlier OCR)")
    if _not_vietnamese(text):
        return Judgement("bad", "words mostly not Vietnamese syllables (a poor earlier OCR)")
    return Judgement("good", "text layer with Vietnamese letters")


# A page meant to be Vietnamese (marks, or many syllables) whose words are not syllables; a
# line of four or more words counts as garbled below 0.7. Clean letters measure 0.92-0.98.
MIN_SYLLABLE_SHARE = 0.8
MAX_GARBLED_LINES = 0.2


def _not_vietnamese(text: str) -> bool:
    share, count = syllable_share(text)
    if count < 4 or (marked_share(text) < 0.03 and share < 0.4):
        return False  # too little text, or another language (an English annex)
    if share < MIN_SYLLABLE_SHARE:
        return True
    lines = [syllable_share(line) for line in text.splitlines()]
    measured = [s for s, n in lines if n >= 4]
    garbled = sum(1 for s in measured if s < 0.7)
    return bool(measured) and garbled / len(measured) > MAX_GARBLED_LINES


def _odd_case_words(text: str) -> float:
    """Share of words with a capital after a small letter ("Hcok", "xA"; "HQI" is fine)."""
    words = _WORD.findall(text)
    if not words:
        return 0.0
    odd = sum(
        1 for w in words if any(a.islower() and b.isupper() for a, b in itertools.pairwise(w))
    )
    odd += sum(1 for w in words if len(w) >= 2 and w[0].islower() and w[1:].isupper())
    return odd / len(words)


def read_text_layer(
    path: Path, index: int, dpi: float = 300.0
) -> tuple[str, tuple[Word, ...], int, int]:
    """(text, words with boxes in pixels at `dpi`, width px, height px) of one PDF page's layer."""
    with open_pdf(path) as document:
        page = document[index]
        width_pt, height_pt = page.get_size()
        textpage = page.get_textpage()
        count = textpage.count_chars()
        text = textpage.get_text_range(0, count) if count else ""
        scale = dpi / 72.0
        words: list[Word] = []
        if count and len(text) == count:
            start: int | None = None
            for i, ch in enumerate([*text, " "]):
                if not ch.isspace() and start is None:
                    start = i
                elif ch.isspace() and start is not None:
                    boxes = [textpage.get_charbox(j) for j in range(start, i)]
                    left = min(b[0] for b in boxes) * scale
                    right = max(b[2] for b in boxes) * scale
                    top = (height_pt - max(b[3] for b in boxes)) * scale
                    bottom = (height_pt - min(b[1] for b in boxes)) * scale
                    words.append(
                        Word(
                            text=unicodedata.normalize("NFC", text[start:i]),
                            bbox=(round(left), round(top), round(right), round(bottom)),
                            confidence=1.0,
                        )
                    )
                    start = None
        textpage.close()
        return (
            unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n")),
            tuple(words),
            round(width_pt * scale),
            round(height_pt * scale),
        )


def text_layer_page(path: Path, index: int) -> tuple[OcrPage | None, Judgement]:
    """The page from its own text layer when that layer is good, else (None, why not)."""
    text, words, width, height = read_text_layer(path, index)
    verdict = judge(text)
    if verdict.verdict != "good":
        return None, verdict
    lines = [" ".join(line.split()) for line in text.splitlines()]
    page = OcrPage(
        number=index + 1,
        text="\n".join(line for line in lines if line),
        confidence=1.0,
        width=width,
        height=height,
        source="text-layer",
        words=words,
        dpi=300,
    )
    return page, verdict
