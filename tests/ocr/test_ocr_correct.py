"""Vietnamese post-OCR correction: mark slips respelled only into known words, glued syllables
split, confident words untouched, the OCR reading kept beside the correction."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from extractors.ocr import Word, ocr_image
from extractors.ocr.correct import (
    CORRECT_BELOW,
    choose,
    correct_text,
    correct_words,
    split_glued,
    variants,
)

LOW = CORRECT_BELOW - 0.1


@pytest.mark.parametrize(
    ("read", "meant"),
    [
        ("bô sung", "bổ sung"),
        ("cung câp", "cung cấp"),
        ("giải quyêt", "giải quyết"),
        ("GIẢI QUYÊT", "GIẢI QUYẾT"),
        ("Bô sung", "Bổ sung"),
        ("nhân đân", "nhân dân"),
    ],
)
def test_a_low_confidence_mark_slip_becomes_the_multi_syllable_word(read: str, meant: str) -> None:
    assert correct_text(read, LOW) == meant


def test_a_confident_word_is_never_changed() -> None:
    assert correct_text("bô sung cung câp", CORRECT_BELOW + 0.02) == "bô sung cung câp"


def test_a_known_syllable_that_makes_no_known_word_is_kept() -> None:
    # "cập" and "cấp" are both syllables; without a neighbour to decide, nothing is guessed.
    assert correct_text("câp", LOW) == "câp"
    assert correct_text("bộ", LOW) == "bộ"  # a syllable already, no neighbour
    assert correct_text("bộ sung", LOW) == "bổ sung"  # but the word "bổ sung" decides


def test_a_non_syllable_with_one_nearest_known_variant_is_respelled() -> None:
    # "địp" is no syllable; "dịp" is the only one a single mark away.
    assert choose("địp") == "dịp"
    assert correct_text("nhân địp", LOW) == "nhân dịp"


def test_words_across_punctuation_do_not_vote() -> None:
    # "bô," ends a clause: "sung" after the comma does not make "bổ sung".
    assert correct_text("bô, sung", LOW) == "bô, sung"


def test_names_abbreviations_and_foreign_words_are_left_alone() -> None:
    for text in ("UBND", "KTTH", "Ioffice", "email", "P.KTTHTien31", "575/UBND-KTTH"):
        assert correct_text(text, LOW) == text


def test_glued_syllables_are_split() -> None:
    assert split_glued("Vềviệc") == ("Về", "việc")
    assert split_glued("việc") is None
    assert split_glued("Ioffice") is None  # no Vietnamese mark: a foreign word, not split
    # one syllable with a slip (Latin É for Ế) is respelled, not cut into "QUY ÉT"
    assert split_glued("QUYÉT") is None
    assert correct_text("QUYÉT ĐỊNH", LOW) == "QUYẾT ĐỊNH"
    assert correct_text("Vềviệc tăng cường", 0.99) == "Về việc tăng cường"


def test_variants_are_known_syllables_differing_only_in_marks() -> None:
    from extractors.ocr.lexicon import is_syllable

    found = variants("quyêt")
    assert "quyết" in found and "quyêt" not in found
    assert all(is_syllable(v) and v.startswith("quy") and v.endswith("t") for v in found)
    assert "dịp" in variants("dip") and "dip" not in variants("dip")


def test_corrected_words_keep_the_ocr_reading() -> None:
    words = [
        Word("bô", (0, 0, 10, 10), LOW, line=0),
        Word("sung", (12, 0, 30, 10), 0.97, line=0),
        Word("câp", (0, 20, 10, 30), LOW, line=1),
    ]
    out = correct_words(words)
    assert [w.text for w in out] == ["bổ", "sung", "câp"]
    assert out[0].raw_text == "bô" and out[1].raw_text is None and out[2].raw_text is None
    assert out[0].bbox == words[0].bbox and out[0].confidence == LOW


def _line_image(text: str) -> np.ndarray:
    font = ImageFont.truetype(
        "/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf", 44
    )
    image = Image.new("L", (1400, 140), 255)
    ImageDraw.Draw(image).text((40, 40), text, font=font, fill=0)
    return np.array(image)


def test_a_glued_word_on_a_page_is_split_and_the_raw_text_kept() -> None:
    page = ocr_image(_line_image("Vềviệc tăng cường công tác thi hành án"), psm=6)
    assert "Về việc tăng cường" in page.text
    assert page.raw_text is not None and "Vềviệc" in page.raw_text
    changed = [w for w in page.words if w.raw_text is not None]
    assert [w.raw_text for w in changed] == ["Vềviệc"]
