"""OCR of images and documents into `OcrResult`s (see `extractors.ocr.model`).

Owns input decoding (`sources`), OpenCV clean-up (`cleanup`), Tesseract behind an engine protocol
(`engine`), reading order (`layout`), existing text-layer judgement (`textlayer`), whole documents
in a process pool (`document`) and searchable PDFs (`searchable`). Per-page use from a Prefect
task: `page_refs(path)` then `process_page(ref, options)`, or `iter_pages(path)` and
`ocr_page(image, number, options)`. Imports only `motcua.errors` from the project.
"""

from extractors.ocr.cleanup import IMAGE_CLEANUP, NO_CLEANUP, CleanupOptions
from extractors.ocr.document import (
    OcrOptions,
    iter_pages,
    ocr_document,
    ocr_page,
    process_page,
    read_page,
)
from extractors.ocr.engine import OcrEngine, PageTimeoutError, TesseractEngine
from extractors.ocr.model import OcrPage, OcrResult, Word
from extractors.ocr.pipeline import ocr_image
from extractors.ocr.searchable import write_searchable_pdf
from extractors.ocr.sources import PageRef, page_refs

__all__ = [
    "IMAGE_CLEANUP",
    "NO_CLEANUP",
    "CleanupOptions",
    "OcrEngine",
    "OcrOptions",
    "OcrPage",
    "OcrResult",
    "PageRef",
    "PageTimeoutError",
    "TesseractEngine",
    "Word",
    "iter_pages",
    "ocr_document",
    "ocr_image",
    "ocr_page",
    "page_refs",
    "process_page",
    "read_page",
    "write_searchable_pdf",
]
