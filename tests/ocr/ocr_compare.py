"""Text comparison for the OCR tests: NFC, whitespace collapsed, CER with jiwer."""

from __future__ import annotations

import unicodedata

import jiwer


def normalise(text: str) -> str:
    """NFC, whitespace collapsed: how OCR text is compared with ground truth."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def cer(truth: str, text: str) -> float:
    return float(jiwer.cer(normalise(truth), normalise(text)))
