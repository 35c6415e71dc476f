"""The OCR result types shared by OCR, field extraction, flows and the CLI's JSON output."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

PageSource = Literal["ocr", "text-layer"]


@dataclass(frozen=True)
class Word:
    """One recognised word; `bbox` is (left, top, right, bottom) in page pixels."""

    text: str
    bbox: tuple[int, int, int, int]
    confidence: float  # 0..1
    block: int = 0
    line: int = 0
    low_confidence: bool = False
    raw_text: str | None = None  # what OCR read, where post-OCR correction changed it


@dataclass(frozen=True)
class OcrPage:
    number: int  # 1-based
    text: str  # NFC, in reading order
    confidence: float  # mean word confidence 0..1 (1.0 for a trusted text layer)
    width: int  # pixels of the image the words refer to
    height: int
    source: PageSource = "ocr"
    words: tuple[Word, ...] = ()
    dpi: int = 300
    rotation: int = 0  # degrees the page was turned to be upright
    skew: float = 0.0  # degrees corrected by deskew
    error: str | None = None  # why this page could not be read (timeout, damaged page)
    raw_text: str | None = None  # the OCR text before post-OCR correction, where it differs

    def as_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "text": self.text,
            "confidence": round(self.confidence, 4),
            "width": self.width,
            "height": self.height,
            "source": self.source,
            **({"error": self.error} if self.error else {}),
            **({"raw_text": self.raw_text} if self.raw_text is not None else {}),
        }


@dataclass(frozen=True)
class OcrResult:
    path: str
    pages: tuple[OcrPage, ...]
    seconds: float
    warnings: tuple[str, ...] = field(default=())

    @property
    def text(self) -> str:
        """All pages, separated by form feeds."""
        return "\f".join(page.text for page in self.pages)

    def as_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "pages": [page.as_json() for page in self.pages],
            "seconds": round(self.seconds, 3),
        }
