"""One page through the stages: clean-up, orientation, OCR, reading order, boxes back to the input.

Orientation costs a Tesseract OSD run, so it is asked only when it can matter: the deskew stage saw
text lines running vertically, or the first OCR pass came back with little confident text (an
upside-down page reads as low-confidence garbage). Word boxes are returned on the input image
turned upright (not rescaled, not deskewed), so they sit on the words of the original image.
`ocr_image` is the one-image entry point other packages call (card crops, form pages): clean-up,
OCR, reading order, in this process.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from extractors.ocr import cleanup as stages
from extractors.ocr.cleanup import IMAGE_CLEANUP, CleanupOptions, PageImage
from extractors.ocr.correct import correct_words, page_text
from extractors.ocr.engine import EngineWord, OcrEngine, TesseractEngine
from extractors.ocr.layout import ordered_words
from extractors.ocr.model import OcrPage, Word
from extractors.ocr.stamps import read_stamps

RETRY_CONFIDENCE = 0.55  # below this mean word confidence, check the orientation and retry
MIN_OSD_CONFIDENCE = 1.5  # Tesseract's orientation_conf below this is a guess


def _mean(words: list[EngineWord]) -> float:
    """Mean word confidence weighted by word length (long garbage words weigh more)."""
    total = sum(len(w.text) for w in words)
    return sum(w.confidence * len(w.text) for w in words) / total if total else 0.0


def _upright(page: PageImage, deskew: bool) -> PageImage:
    """After a quarter turn, deskew again: the first deskew saw the page sideways."""
    if not deskew:
        return page
    height = stages.estimate_text_height(page.image) or stages.TARGET_TEXT_HEIGHT
    angle, _ = stages.estimate_skew(page.image, height)
    return stages.turn(page, angle, "deskew") if abs(angle) >= 0.05 else page


def recognise_page(
    image: np.ndarray[Any, Any],
    *,
    page_number: int = 1,
    dpi: float = 300,
    lang: str = "vie",
    psm: int = 3,
    timeout: float = 0,
    cleanup: CleanupOptions | None = None,
    orientation: bool = True,
    debug_dir: Path | None = None,
    engine: OcrEngine | None = None,
) -> OcrPage:
    """Clean, orient and OCR one page image; see the module docstring."""
    engine = engine or TesseractEngine()
    options = cleanup or CleanupOptions()
    name = f"page-{page_number:04d}"
    page = stages.clean(image, dpi, options, debug_dir=debug_dir, debug_name=name)
    rotation = 0  # degrees clockwise the input was turned to be upright

    def read(p: PageImage) -> list[EngineWord]:
        return engine.recognise(p.image, lang=lang, psm=psm, dpi=round(p.dpi), timeout=timeout)

    def orient(p: PageImage) -> tuple[PageImage, int]:
        degrees, confidence = engine.orientation(p.image, timeout=timeout)
        if degrees == 0 or confidence < MIN_OSD_CONFIDENCE:
            return p, 0
        turned = stages.turn(p, -degrees, "orientation")
        return _upright(turned, options.deskew), degrees

    if orientation and page.sideways:
        page, rotation = orient(page)
    words = read(page)
    if orientation and rotation == 0 and _mean(words) < RETRY_CONFIDENCE:
        turned, degrees = orient(page)
        if degrees:
            second = read(turned)
            if _mean(second) > _mean(words):
                page, words, rotation = turned, second, degrees
    stages.debug_image(debug_dir, name, 9, "ocr-input", page.image)
    stamp_words: list[EngineWord] = []
    if rotation == 0 and "colour-suppressed" in page.stages:
        stamp_words = read_stamps(image, dpi, engine, lang=lang, timeout=timeout)
    return _page(page, words, image.shape, rotation, page_number, dpi, stamp_words)


def _page(
    page: PageImage,
    words: list[EngineWord],
    shape: tuple[int, ...],
    rotation: int,
    number: int,
    dpi: float,
    stamps: Sequence[EngineWord] = (),
) -> OcrPage:
    height, width = shape[:2]
    # source pixels → the upright frame: the input turned by `rotation` clockwise, nothing else
    upright = stages.quarter_matrix(height, width, (-rotation // 90) % 4)
    frame = replace(page, transform=page.transform @ np.linalg.inv(upright))
    ordered, _ = ordered_words(words)
    if rotation in (90, 270):
        width, height = height, width
    mapped: list[Word] = []
    for word in ordered:
        left, top, right, bottom = frame.to_source(word.bbox)
        box = (
            max(0, round(left)),
            max(0, round(top)),
            min(width, round(right)),
            min(height, round(bottom)),
        )
        mapped.append(replace(word, bbox=box))
    # red framed stamps, read apart on the source image: their own blocks after the page's
    block, line = (mapped[-1].block + 1, mapped[-1].line + 1) if mapped else (0, 0)
    for stamp in ordered_words(stamps)[0]:
        mapped.append(replace(stamp, block=block + stamp.block, line=line + stamp.line))
    raw = page_text(mapped)
    mapped = list(correct_words(mapped))
    text = page_text(mapped)
    return OcrPage(
        number=number,
        text=text,
        raw_text=raw if raw != text else None,
        confidence=_mean(words),
        width=int(width),
        height=int(height),
        source="ocr",
        words=tuple(mapped),
        dpi=round(dpi),
        rotation=rotation,
        skew=round(page.skew, 3),
    )


def ocr_image(
    image: np.ndarray[Any, Any],
    *,
    lang: str = "vie",
    psm: int = 3,
    page_number: int = 1,
    dpi: int = 300,
    timeout: float = 0,
    cleanup: CleanupOptions | None = None,
    orientation: bool = True,
    debug_dir: Path | None = None,
) -> OcrPage:
    """OCR one image (grey or BGR array) with one Tesseract thread; words in reading order.

    Word boxes refer to the input image (turned upright when `OcrPage.rotation` is not 0).
    Without `cleanup`, `IMAGE_CLEANUP` applies: the document defaults with a 30 px target text
    height, which the field-extraction tests on ID-card crops were measured with (whole pages,
    through `ocr_document`, read better at 24 px).
    `cleanup=NO_CLEANUP` and `orientation=False` give Tesseract the image as it is.
    """
    return recognise_page(
        image,
        page_number=page_number,
        dpi=dpi,
        lang=lang,
        psm=psm,
        timeout=timeout,
        cleanup=cleanup or IMAGE_CLEANUP,
        orientation=orientation,
        debug_dir=debug_dir,
    )
