"""Entry points: a file, an image, or already-OCR'd pages → `Extraction`.

Photos of cards go card-first: find and straighten the card, read its QR, OCR the flat card.
Pages go through `extractors.ocr.ocr_document` (clean-up, deskew, reading order). Bad inputs —
no card in the photo, an unreadable QR, an unknown form — come back as `warnings`, never as
exceptions; only a file that cannot be read at all raises `InputFileError`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, Final

import cv2
import numpy as np

from extractors.fields.card import CARD_ASPECT, WARP_WIDTH, CardCrop, find_card, turn_half
from extractors.fields.engine import UNKNOWN, cross_read, extract_with_template, recognise_kind
from extractors.fields.model import Extraction, QrPayload
from extractors.fields.qr import QrError, decode_qr, parse_cccd_qr
from extractors.fields.templates import templates
from extractors.ocr import OcrOptions, OcrPage, OcrResult, PageRef, ocr_document, ocr_image
from extractors.ocr.sources import load_page, page_refs
from motcua.errors import BadArgumentError

KINDS: Final = ("auto", "cccd", "to-khai-khai-sinh", "to-khai-xac-nhan-hon-nhan", "van-ban")
Array = np.ndarray[Any, Any]

NO_CARD: Final = "không tìm thấy thẻ trong ảnh (no card found in the photo)"
NO_QR: Final = "không đọc được mã QR trên thẻ (QR code unreadable); các trường lấy từ chữ in"
UNKNOWN_KIND: Final = "không nhận ra loại giấy tờ (unknown document kind); hãy chọn --kind"


def _check_kind(kind: str) -> None:
    if kind not in KINDS and kind not in templates():
        raise BadArgumentError(f"unknown kind {kind!r}", hint=f"use one of: {', '.join(KINDS)}")


def _prepare_card(image: Array) -> Array:
    """Grey, with the light flattened: divide by the blurred background."""
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    background = cv2.morphologyEx(
        grey, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (41, 41))
    )
    flat = cv2.divide(grey, background, scale=255)
    return flat


def _whole_image_card(image: Array) -> CardCrop | None:
    """A scan of just the card fills the frame: no edges to find, but the shape is right."""
    height, width = image.shape[:2]
    if height > width:
        image = cv2.rotate(image, cv2.ROTATE_90_CLOCKWISE)
        height, width = width, height
    if abs(width / height - CARD_ASPECT) > 0.12:
        return None
    out = cv2.resize(
        image, (WARP_WIDTH, round(WARP_WIDTH / CARD_ASPECT)), interpolation=cv2.INTER_CUBIC
    )
    corners = ((0.0, 0.0), (float(width), 0.0), (float(width), float(height)), (0.0, float(height)))
    return CardCrop(image=out, quad=corners, score=0.0)


def read_card(image: Array) -> tuple[CardCrop | None, QrPayload | None, list[str]]:
    """Find the card, turn it upright by its QR, parse the QR. Warnings for what failed."""
    warnings: list[str] = []
    crop = find_card(image) or _whole_image_card(image)
    decoded = []
    if crop is not None:
        decoded = decode_qr(crop.image)
        # The QR sits at the top right of the card's front; anywhere left means upside down.
        if decoded and decoded[0].center[0] < crop.image.shape[1] / 2:
            crop = turn_half(crop)
    else:
        warnings.append(NO_CARD)
    if not decoded:
        decoded = decode_qr(image)
    payload = None
    errors = []
    for qr in decoded:
        try:
            payload = parse_cccd_qr(qr.text)
            break
        except QrError as exc:
            errors.append(str(exc))
    if payload is None:
        warnings.extend(errors or [NO_QR])
    return crop, payload, warnings


def extract_from_pages(
    pages: OcrResult | Sequence[OcrPage],
    kind: str = "auto",
    *,
    qr: QrPayload | None = None,
    warnings: Sequence[str] = (),
    path: str | None = None,
) -> Extraction:
    """Fields from pages already OCR'd (the flows OCR once). `qr` adds a card's QR values."""
    _check_kind(kind)
    page_errors: tuple[str, ...] = ()
    if isinstance(pages, OcrResult):
        path = path or pages.path
        warnings = [*warnings, *pages.warnings]
        page_errors = tuple(f"trang {p.number}: {p.error}" for p in pages.pages if p.error)
        pages = pages.pages
    text = "\n".join(page.text for page in pages)
    if kind == "auto":
        kind = recognise_kind(text)[0]
        if kind == UNKNOWN and qr is not None:
            kind = "cccd"
    if kind == UNKNOWN:
        return Extraction(
            kind=UNKNOWN,
            fields={},
            warnings=(*warnings, UNKNOWN_KIND),
            path=path,
            page_errors=page_errors,
        )
    found = extract_with_template(pages, templates()[kind], qr=qr, warnings=warnings, path=path)
    return replace(found, page_errors=page_errors) if page_errors else found


def _ocr_card(crop: CardCrop) -> OcrPage:
    return ocr_image(_prepare_card(crop.image), psm=3, dpi=508)


def _card_extraction(
    crop: CardCrop, page: OcrPage, payload: QrPayload | None, notes: list[str], path: str | None
) -> Extraction:
    """Read the card twice — Vietnamese, then Vietnamese+English, whose model reads the date
    slashes the Vietnamese one turns into `1` or `!` — and merge (`cross_read`). The QR
    fields do not depend on OCR."""
    first = extract_from_pages([page], "cccd", qr=payload, warnings=notes, path=path)
    again = ocr_image(_prepare_card(crop.image), lang="vie+eng", psm=3, dpi=508)
    second = extract_from_pages([again], "cccd", qr=payload, path=path)
    return cross_read(first, second)


def extract_from_image(image: Array, kind: str = "auto", *, path: str | None = None) -> Extraction:
    """Fields from one image in memory (a card photo or a page)."""
    _check_kind(kind)
    if kind in ("auto", "cccd"):
        crop, payload, notes = read_card(image)
        if crop is not None:
            page = _ocr_card(crop)
            if kind == "cccd" or payload is not None or recognise_kind(page.text)[0] == "cccd":
                return _card_extraction(crop, page, payload, notes, path)
        elif kind == "cccd":
            return extract_from_pages([], "cccd", qr=payload, warnings=notes, path=path)
    page = ocr_image(image)
    return extract_from_pages([page], kind, path=path)


def _load_image(refs: Sequence[PageRef]) -> Array | None:
    """A one-frame image file, decoded through the input gate's checks (BGR)."""
    if len(refs) != 1 or refs[0].kind != "image":
        return None
    image = load_page(refs[0]).image
    return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR) if image.ndim == 2 else image


def extract_fields(
    source: str | Path | OcrResult, kind: str = "auto", *, second_read: bool = True
) -> Extraction:
    """Extract the fields of one document: a file path (image or PDF) or an `OcrResult`.

    Files are read twice (two OCR passes that err differently) unless `second_read` is off;
    an `OcrResult` is used as it is."""
    _check_kind(kind)
    if isinstance(source, OcrResult):
        return extract_from_pages(source, kind)
    path = Path(source)
    refs = page_refs(path)  # the input gate: a file beyond its limits is refused undecoded
    image = _load_image(refs)
    if image is not None and kind in ("auto", "cccd"):
        crop, payload, notes = read_card(image)
        if crop is not None:
            page = _ocr_card(crop)
            if kind == "cccd" or payload is not None or recognise_kind(page.text)[0] == "cccd":
                return _card_extraction(crop, page, payload, notes, str(path))
        elif kind == "cccd":
            return extract_from_pages([], "cccd", qr=payload, warnings=notes, path=str(path))
    first = extract_from_pages(ocr_document(path), kind, path=str(path))
    if first.kind == UNKNOWN or not second_read:
        return first
    # A second read with another page-segmentation mode: clean reads that disagree go to
    # review, and a field the first read could not make valid may come out valid here.
    again = ocr_document(path, OcrOptions(psm=6))
    return cross_read(first, extract_from_pages(again, first.kind, path=str(path)))
