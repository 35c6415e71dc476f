"""Tesseract behind one small module: argument building, output parsing, error translation."""

from __future__ import annotations

import os
import unicodedata
from typing import Any

import numpy as np
import pytesseract

from extractors.ocr.model import OcrPage, Word
from motcua.errors import MissingDependencyError

LOW_CONFIDENCE = 0.6


def ocr_image(
    image: np.ndarray[Any, Any],
    *,
    lang: str = "vie",
    psm: int = 3,
    page_number: int = 1,
    dpi: int = 300,
    timeout: float = 0,
) -> OcrPage:
    """OCR one image (grey or BGR array) with one Tesseract thread; words in reading order."""
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    config = f"--psm {psm} --dpi {dpi}"
    try:
        data = pytesseract.image_to_data(
            image, lang=lang, config=config, output_type=pytesseract.Output.DICT, timeout=timeout
        )
    except pytesseract.TesseractNotFoundError:
        raise MissingDependencyError(
            "tesseract is not installed", hint="run `make setup` (apt-get install tesseract-ocr)"
        ) from None
    words: list[Word] = []
    lines: dict[tuple[int, int, int], list[str]] = {}
    for i, raw in enumerate(data["text"]):
        text = unicodedata.normalize("NFC", raw.strip())
        conf = float(data["conf"][i])
        if not text or conf < 0:
            continue
        left, top = int(data["left"][i]), int(data["top"][i])
        right, bottom = left + int(data["width"][i]), top + int(data["height"][i])
        key = (int(data["block_num"][i]), int(data["par_num"][i]), int(data["line_num"][i]))
        confidence = conf / 100.0
        words.append(
            Word(
                text=text,
                bbox=(left, top, right, bottom),
                confidence=confidence,
                block=key[0],
                line=len(lines) if key not in lines else list(lines).index(key),
                low_confidence=confidence < LOW_CONFIDENCE,
            )
        )
        lines.setdefault(key, []).append(text)
    text = "\n".join(" ".join(parts) for parts in lines.values())
    mean = sum(w.confidence for w in words) / len(words) if words else 0.0
    height, width = image.shape[:2]
    return OcrPage(
        number=page_number,
        text=text,
        confidence=mean,
        width=int(width),
        height=int(height),
        source="ocr",
        words=tuple(words),
        dpi=dpi,
    )
