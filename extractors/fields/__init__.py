"""Field extraction from citizen-ID cards, application forms and official documents.

`extract_fields(path_or_ocr_result, kind="auto")` reads one document; `extract_from_pages`
works on pages already OCR'd (the flows OCR once). Form kinds are YAML templates in
`templates/`; checks live in `validators`; the card QR in `qr`; the card finder in `card`.
Imports `extractors.ocr`, `motcua.errors` and `motcua.types` only.
"""

from extractors.fields.api import (
    KINDS,
    extract_fields,
    extract_from_image,
    extract_from_pages,
    read_card,
)
from extractors.fields.engine import recognise_kind
from extractors.fields.model import Extraction, Field, QrPayload
from extractors.fields.templates import Template, load_template_file, templates

__all__ = [
    "KINDS",
    "Extraction",
    "Field",
    "QrPayload",
    "Template",
    "extract_fields",
    "extract_from_image",
    "extract_from_pages",
    "load_template_file",
    "read_card",
    "recognise_kind",
    "templates",
]
