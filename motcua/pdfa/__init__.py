"""PDF/A-2b (ISO 19005-2:2011, conformance level B) for the PDFs motcua issues and archives.

`make`: turn a PDF motcua drew (a form, a result, a searchable scan) into PDF/A-2b in place — an
sRGB OutputIntent (the profile is made by LittleCMS through Pillow, nothing is downloaded), XMP
metadata with `pdfaid:part=2, conformance=B` kept in step with the document information, no
JavaScript or trigger actions, no unused resources. `check`: a validator that tests the clauses
listed in `check.CLAUSES` and names each failure by its clause number.

Imports only `motcua.errors` from the project (like `motcua.pdfium`), so every library that writes
PDFs (`extractors`, `dossiers`, `signing`) may use it.
"""

from __future__ import annotations

from motcua.pdfa.check import (
    CLAUSES,
    RECORD_KEY_PREFIX,
    Failure,
    PdfaReport,
    check_pdfa,
    check_pdfa_bytes,
    record_outcomes,
)
from motcua.pdfa.make import conform, convert_file, save_pdfa, srgb_profile

__all__ = [
    "CLAUSES",
    "RECORD_KEY_PREFIX",
    "Failure",
    "PdfaReport",
    "check_pdfa",
    "check_pdfa_bytes",
    "conform",
    "convert_file",
    "record_outcomes",
    "save_pdfa",
    "srgb_profile",
]
