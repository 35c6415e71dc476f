"""The generic engine: OCR'd pages + a template → fields, each checked and flagged.

Labels are found in the word boxes by fuzzy matching; the value is read to their right (up to
the next label) or on the lines below. Fields without a label (the Decree 30/2020 header) name
a locator. Every value is normalised, checked, and marked `needs_review` when a check fails, a
character had to be guessed, or a word was read with low confidence. Cross-field checks (ID
number against birth date and sex, date order, card expiry, date in words) come last.

Stages: `locate.py` (labels), `header.py` (Decree 30 locators), `normalise.py`, `checks.py`
(cross-field checks); this module assembles them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Final

from rapidfuzz import fuzz

from extractors.fields.checks import Draft, cross_checks, merge_qr
from extractors.fields.handwriting import read_slots
from extractors.fields.header import LOCATORS
from extractors.fields.locate import Doc, Value, clean, find_sections, segments_of
from extractors.fields.model import Extraction, Field, QrPayload
from extractors.fields.normalise import field_checks, normalise
from extractors.fields.templates import Template, templates
from extractors.ocr import OcrPage
from motcua.types import fold

UNKNOWN: Final = "unknown"


# --- recognition ----------------------------------------------------------------------------


def recognise_kind(text: str) -> tuple[str, float]:
    """The template whose keywords the text holds best: (kind or `unknown`, share matched)."""
    folded = fold(text)
    best = (UNKNOWN, 0.0)
    for kind, template in templates().items():
        keywords = template.recognise.keywords
        hits = sum(1 for kw in keywords if fuzz.partial_ratio(fold(kw), folded) >= 90)
        share = hits / len(keywords)
        if hits >= template.recognise.min_matches and share > best[1]:
            best = (kind, share)
    return best


def _ocr_fields(doc: Doc) -> dict[str, Draft]:
    drafts: dict[str, Draft] = {}
    for spec in doc.template.fields:
        raw = LOCATORS[spec.locate](doc, spec)
        if raw is None or not clean(raw.text):
            continue
        doc.found[spec.key] = raw
        value, problems = normalise(spec, raw)
        problems += raw.doubts
        if isinstance(value, str):
            problems += field_checks(spec, value)
        confidences = [w.confidence for w in raw.words] or [0.0]
        confidence = min(confidences)
        if confidence < doc.template.review_below:
            problems.append("chữ đọc được với độ tin cậy thấp")
        if problems:
            confidence = min(confidence, 0.5)
        drafts[spec.key] = Draft(
            value, confidence, "ocr", problems, spec.output, raw.text, _ocr_reading(raw)
        )
    return drafts


def _ocr_reading(raw: Value) -> str | None:
    """The located text with the words post-OCR correction changed put back as OCR read
    them; None where nothing was changed."""
    changed = [w for w in raw.words if w.raw_text is not None]
    if not changed:
        return None
    text = raw.text
    for word in changed:
        text = text.replace(word.text, word.raw_text or word.text, 1)
    return text if text != raw.text else None


def extract_with_template(
    pages: Sequence[OcrPage],
    template: Template,
    *,
    qr: QrPayload | None = None,
    warnings: Sequence[str] = (),
    path: str | None = None,
) -> Extraction:
    """Apply one template to OCR'd pages (and a parsed QR for cards)."""
    segments, heights = segments_of(pages)
    doc = Doc(segments, heights, template)
    find_sections(doc)
    notes = list(warnings)
    missing_sections = [s.name for s in template.sections if s.name not in doc.sections]
    if missing_sections:
        notes.append("không tìm thấy phần: " + ", ".join(missing_sections))
    drafts = _ocr_fields(doc)
    read_slots(doc, drafts, pages, path)  # digits written by hand into typed slots
    if qr is not None:
        merge_qr(template, drafts, qr, notes)
    cross_checks(template, drafts, notes)
    fields: dict[str, Field] = {}
    for spec in template.fields:
        draft = drafts.get(spec.key)
        if draft is None:
            if spec.output and not spec.qr:
                notes.append(f"{spec.key}: không tìm thấy trên giấy tờ")
            continue
        if not draft.output:
            continue
        reasons = tuple(dict.fromkeys(draft.reasons))
        fields[spec.key] = Field(
            value=draft.value,
            confidence=round(max(0.0, min(1.0, draft.confidence)), 4),
            needs_review=bool(reasons),
            source="qr" if draft.source == "qr" else "ocr",
            reasons=reasons,
            raw_value=draft.ocr_raw if draft.source != "qr" else None,
        )
    return Extraction(kind=template.kind, fields=fields, warnings=tuple(notes), path=path)


def cross_read(primary: Extraction, second: Extraction) -> Extraction:
    """Merge two OCR reads of the same document (e.g. another language model). An OCR field
    both reads give cleanly but differently goes to review (OCR slips rarely repeat exactly);
    a field the first read could not make valid is taken from the second when it passed
    every check there."""
    fields: dict[str, Field] = {}
    for key, f in primary.fields.items():
        other = second.fields.get(key)
        if f.source == "ocr" and other is not None and other.source == "ocr":
            if f.needs_review and not other.needs_review:
                f = other
            elif not f.needs_review and not other.needs_review and other.value != f.value:
                reason = "hai lần đọc cho kết quả khác nhau, cần đối chiếu"
                f = replace(f, confidence=min(f.confidence, 0.5), needs_review=True)
                f = replace(f, reasons=(*f.reasons, reason))
        fields[key] = f
    for key, other in second.fields.items():
        if key not in fields and not other.needs_review:
            fields[key] = other
    warnings = tuple(w for w in primary.warnings if not _resolved(w, fields))
    page_errors = (
        *primary.page_errors,
        *(e for e in second.page_errors if e not in primary.page_errors),
    )
    return Extraction(primary.kind, fields, warnings, primary.path, page_errors)


def _resolved(warning: str, fields: dict[str, Field]) -> bool:
    """A per-field warning of the first read that the merged field no longer needs."""
    key = warning.split(":", 1)[0]
    return key in fields and not fields[key].needs_review
