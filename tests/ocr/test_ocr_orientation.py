"""Pages turned by 90/180/270° come back upright; word boxes sit on the words of the input."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from ocr_compare import cer

from extractors.ocr import NO_CLEANUP, ocr_image
from samples.pages import Page, rotate


@pytest.fixture(scope="module")
def upright(header_page: Page):  # type: ignore[no-untyped-def]
    return ocr_image(header_page.image)


def test_an_upright_page_is_read_as_it_is(header_page: Page, upright) -> None:  # type: ignore[no-untyped-def]
    assert upright.rotation == 0
    assert cer(header_page.text, upright.text) <= 0.01
    assert upright.confidence > 0.85
    assert (upright.width, upright.height) == (
        header_page.image.shape[1],
        header_page.image.shape[0],
    )


@pytest.mark.parametrize("turned", [90, 180, 270])
def test_a_turned_page_comes_back_upright(header_page: Page, upright, turned: int) -> None:  # type: ignore[no-untyped-def]
    image = rotate(header_page.image, turned)  # counter-clockwise
    page = ocr_image(image)
    assert page.rotation == turned  # degrees turned clockwise to be upright
    assert cer(header_page.text, page.text) <= 0.01
    # the words are given on the upright page: the same boxes as on the page never turned
    assert (page.width, page.height) == (upright.width, upright.height)
    for word, reference in zip(page.words[:8], upright.words[:8], strict=True):
        assert word.text == reference.text
        assert np.allclose(word.bbox, reference.bbox, atol=4), (word, reference)


def test_word_boxes_sit_on_ink_of_the_input_image(header_page: Page) -> None:
    # a 1.7° skew and 150 dpi: the page is rescaled and deskewed before OCR, boxes come back
    small = cv2.resize(header_page.image, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    skewed = rotate(small, 1.7)
    page = ocr_image(skewed, dpi=150)
    assert "UBND" in page.text
    grey = cv2.cvtColor(skewed, cv2.COLOR_BGR2GRAY)
    for word in page.words:
        left, top, right, bottom = word.bbox
        assert 0 <= left < right <= page.width and 0 <= top < bottom <= page.height
        assert (grey[top:bottom, left:right] < 128).mean() > 0.05, word


def test_no_cleanup_gives_tesseract_the_image_as_it_is(header_page: Page) -> None:
    page = ocr_image(header_page.image, cleanup=NO_CLEANUP, orientation=False, psm=6)
    assert page.rotation == 0 and page.skew == 0
    assert "CỘNG HÒA" in page.text
    assert all(0 <= w.confidence <= 1 for w in page.words)
    assert any(w.low_confidence == (w.confidence < 0.6) for w in page.words)
