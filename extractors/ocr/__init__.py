"""OCR of images and documents into `OcrResult`s (see `extractors.ocr.model`)."""

from extractors.ocr.engine import ocr_image
from extractors.ocr.model import OcrPage, OcrResult, Word

__all__ = ["OcrPage", "OcrResult", "Word", "ocr_image"]
