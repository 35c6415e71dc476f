"""Tesseract behind one small module: argument building, output parsing, error translation.

`OcrEngine` is the protocol the pipeline talks to (`recognise` words, detect `orientation`);
`TesseractEngine` implements it with pytesseract, one Tesseract thread per process
(`OMP_THREAD_LIMIT=1`: parallelism comes from pages, not threads). A second engine only has to
implement the protocol. This module knows no stage: the pipeline (`pipeline.py`) imports it,
never the other way round.
"""

from __future__ import annotations

import os
import tempfile
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import cv2
import numpy as np
import pytesseract

from extractors.ocr.model import Word
from motcua.errors import InputFileError, MissingDependencyError

LOW_CONFIDENCE = 0.6


class PageTimeoutError(InputFileError):
    """One page took longer than the configured OCR timeout."""


@dataclass(frozen=True)
class EngineWord:
    """A word as the engine found it: text, box on the image it was given, and the engine's
    own (block, paragraph, line) key, which the reading-order step refines."""

    text: str
    bbox: tuple[int, int, int, int]
    confidence: float
    key: tuple[int, int, int]


class OcrEngine(Protocol):
    name: str

    def recognise(
        self, image: np.ndarray[Any, Any], *, lang: str, psm: int, dpi: int, timeout: float
    ) -> list[EngineWord]:
        """Words on a grey image, in the engine's order."""
        ...

    def orientation(self, image: np.ndarray[Any, Any], *, timeout: float) -> tuple[int, float]:
        """(degrees the page must turn clockwise to be upright, confidence)."""
        ...


@contextmanager
def _image_file(image: np.ndarray[Any, Any]) -> Iterator[str]:
    """The image as an uncompressed BMP file: pytesseract's own PNG encoding of a 300 dpi page
    costs a noticeable share of the OCR time."""
    with tempfile.TemporaryDirectory(prefix="motcua-ocr-") as folder:
        path = os.path.join(folder, "page.bmp")
        if not cv2.imwrite(path, image):
            raise OSError(f"cannot write {path}")
        yield path


def _missing() -> MissingDependencyError:
    return MissingDependencyError(
        "tesseract is not installed", hint="run `make setup` (apt-get install tesseract-ocr)"
    )


class TesseractEngine:
    """Tesseract 5 (LSTM) through pytesseract."""

    name = "tesseract"

    def __init__(self) -> None:
        os.environ.setdefault("OMP_THREAD_LIMIT", "1")

    def recognise(
        self, image: np.ndarray[Any, Any], *, lang: str, psm: int, dpi: int, timeout: float
    ) -> list[EngineWord]:
        # No second pass over low-confidence lines as white-on-black text: administrative
        # documents have none, and the pass cost 6-11% CPU per page on the benchmark's scanned
        # and harsh pages with the same CER (bench/ocr.py).
        config = f"--psm {psm} --dpi {int(dpi)} -c tessedit_do_invert=0"
        try:
            with _image_file(image) as path:
                data = pytesseract.image_to_data(
                    path,
                    lang=lang,
                    config=config,
                    output_type=pytesseract.Output.DICT,
                    timeout=timeout,
                )
        except pytesseract.TesseractNotFoundError:
            raise _missing() from None
        except RuntimeError as exc:  # pytesseract's way of saying the timeout killed tesseract
            if "timeout" in str(exc).lower():
                raise PageTimeoutError(
                    "image", f"nhận dạng quá {timeout:g} s (OCR timeout)", hint="tăng --timeout"
                ) from None
            raise
        except pytesseract.TesseractError as exc:
            if "Failed loading language" in str(exc) or "load" in str(exc).lower():
                raise MissingDependencyError(
                    f"Tesseract language data '{lang}' is not installed",
                    hint="apt-get install tesseract-ocr-vie (see scripts/bootstrap)",
                ) from None
            raise
        words: list[EngineWord] = []
        for i, raw in enumerate(data["text"]):
            text = unicodedata.normalize("NFC", raw.strip())
            conf = float(data["conf"][i])
            if not text or conf < 0:
                continue
            left, top = int(data["left"][i]), int(data["top"][i])
            right, bottom = left + int(data["width"][i]), top + int(data["height"][i])
            key = (int(data["block_num"][i]), int(data["par_num"][i]), int(data["line_num"][i]))
            words.append(EngineWord(text, (left, top, right, bottom), conf / 100.0, key))
        return words

    def orientation(self, image: np.ndarray[Any, Any], *, timeout: float) -> tuple[int, float]:
        try:
            with _image_file(image) as path:
                osd = pytesseract.image_to_osd(
                    path, config="--psm 0", output_type=pytesseract.Output.DICT, timeout=timeout
                )
        except pytesseract.TesseractNotFoundError:
            raise _missing() from None
        except pytesseract.TesseractError:
            return 0, 0.0  # too little text to decide: leave the page as it is
        except RuntimeError as exc:
            if "timeout" in str(exc).lower():
                raise PageTimeoutError(
                    "image", f"xác định chiều trang quá {timeout:g} s (OSD timeout)"
                ) from None
            raise
        return int(osd["rotate"]) % 360, float(osd["orientation_conf"])


def engine_version() -> str:
    """Tesseract's version string, e.g. '5.3.0'."""
    try:
        return str(pytesseract.get_tesseract_version())
    except pytesseract.TesseractNotFoundError:
        raise _missing() from None


def to_words(words: list[EngineWord]) -> tuple[Word, ...]:
    """Engine words as model words, in the order given (lines numbered by first appearance)."""
    lines: dict[tuple[int, int, int], int] = {}
    out: list[Word] = []
    for word in words:
        line = lines.setdefault(word.key, len(lines))
        out.append(
            Word(
                text=word.text,
                bbox=word.bbox,
                confidence=word.confidence,
                block=word.key[0],
                line=line,
                low_confidence=word.confidence < LOW_CONFIDENCE,
            )
        )
    return tuple(out)
