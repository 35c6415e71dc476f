"""What extraction returns: one `Field` per key, with its confidence and review flag."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

FieldSource = Literal["qr", "ocr"]
FieldValue = str | tuple[str, ...]


@dataclass(frozen=True)
class Field:
    """One extracted value. `needs_review` is true whenever the value failed a check or came
    from low-confidence words; `reasons` says why (Vietnamese, for the clerk)."""

    value: FieldValue
    confidence: float
    needs_review: bool
    source: FieldSource
    reasons: tuple[str, ...] = ()
    # the located text as OCR read it, where post-OCR correction changed a word of it
    raw_value: str | None = None

    def as_json(self) -> dict[str, Any]:
        value: Any = list(self.value) if isinstance(self.value, tuple) else self.value
        return {
            "value": value,
            "confidence": round(self.confidence, 2),
            "needs_review": self.needs_review,
            "source": self.source,
            **({"raw_value": self.raw_value} if self.raw_value is not None else {}),
        }


@dataclass(frozen=True)
class Extraction:
    """Fields read from one document. `kind` is the template name, or `unknown`."""

    kind: str
    fields: Mapping[str, Field]
    warnings: tuple[str, ...] = ()
    path: str | None = None
    # pages that could not be read ("trang 2: ..."), also in `warnings`: the file failed in part
    page_errors: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "kind": self.kind,
            "fields": {key: f.as_json() for key, f in self.fields.items()},
            "warnings": list(self.warnings),
            "page_errors": list(self.page_errors),
        }


@dataclass(frozen=True)
class QrPayload:
    """The chip citizen-ID QR, parsed. `layout` is 7 (with old CMND field) or 6."""

    so_dinh_danh: str
    so_cmnd: str
    ho_ten: str
    ngay_sinh: str  # ISO
    gioi_tinh: str
    noi_thuong_tru: str
    ngay_cap: str  # ISO
    layout: int
    repaired: bool = field(default=False)  # the text was mis-decoded and had to be repaired
