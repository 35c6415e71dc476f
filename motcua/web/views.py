"""What the web shows of a dossier: its summary and detail (ID numbers masked but for the roles
that act on it), and each document's fields as the review page lists and the correction form
edits them. Read-only: no route, no write.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from dossiers.calendar import VN_TZ
from dossiers.dossier import file_name
from dossiers.dossier import id_numbers as ids_in
from dossiers.register import Dossier, Status
from motcua.errors import MotcuaError
from motcua.settings import Settings
from motcua.types import mask_id
from motcua.web.services import Services

_ID_IN_TEXT = re.compile(r"(?<!\d)(?:\d{12}|\d{9})(?!\d)")


# --- the view of a dossier ------------------------------------------------------------------


class DossierSummary(BaseModel):
    code: str
    procedure: str
    procedure_name: str
    citizen_name: str | None
    id_numbers: list[str] = Field(description="masked: 001******345")
    status: Status
    status_label: str
    received_at: dt.datetime
    due_date: dt.date | None
    timeliness: str | None = Field(description="early / on_time / late once the result is signed")
    overdue: bool
    assignee: str | None = Field(
        default=None, description="login of the officer (chuyên viên xử lý) it is assigned to"
    )


class DocumentOut(BaseModel):
    position: int
    file_name: str
    kind: str
    kind_label: str
    component: str | None = Field(description="the procedure component it is; null: other")
    component_confirmed: bool
    sha256: str
    page_count: int | None
    fields: dict[str, Any]
    field_labels: dict[str, str] = Field(description="Vietnamese label of each field key")


class StatusChangeOut(BaseModel):
    status: Status
    status_label: str
    at: dt.datetime
    note: str | None


class DossierDetail(DossierSummary):
    resolved_at: dt.datetime | None
    returned_at: dt.datetime | None
    new_due_date: dt.date | None
    apology_issued_at: dt.datetime | None
    missing_components: list[str]
    result_number: str | None
    components: list[dict[str, Any]] = Field(
        description="each component: key, label, required, files, positions, confirmed"
    )
    documents: list[DocumentOut]
    history: list[StatusChangeOut]


def _same(text: str) -> str:
    return text


def _mask_text(text: str) -> str:
    return _ID_IN_TEXT.sub(lambda m: mask_id(m.group(0)), text)


def masked_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Extracted fields with ID numbers masked, wherever they sit (plain or {"value": ...})."""

    def walk(value: Any) -> Any:
        if isinstance(value, str):
            return _mask_text(value)
        if isinstance(value, Mapping):
            return {str(k): walk(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [walk(v) for v in value]
        return value

    return {str(k): walk(v) for k, v in fields.items()}


def id_numbers(dossier: Dossier) -> list[str]:
    """The ID numbers in the dossier's extracted fields, in document order, without repeats."""
    return ids_in([d.fields for d in dossier.documents])


def _today() -> dt.date:
    return dt.datetime.now(VN_TZ).date()


def summary(services: Services, d: Dossier) -> DossierSummary:
    return DossierSummary(
        code=d.code,
        procedure=d.procedure_key,
        procedure_name=services.procedure_name(d.procedure_key),
        citizen_name=d.citizen_name,
        id_numbers=[mask_id(n) for n in id_numbers(d)],
        status=d.status,
        status_label=d.status.label_vi,
        received_at=d.received_at,
        due_date=d.due_date,
        timeliness=d.timeliness.value if d.timeliness else None,
        overdue=d.is_overdue(_today()),
        assignee=d.assignee,
    )


def detail(services: Services, d: Dossier, *, reveal: bool) -> DossierDetail:
    try:
        procedure = services.catalogue.get(d.procedure_key)
        label_of: Callable[[str], str] = procedure.label_of
        components = [c.to_json() for c in d.components(procedure)]
    except MotcuaError:
        label_of, components = _same, []
    base = summary(services, d).model_dump()
    if reveal:
        base["id_numbers"] = id_numbers(d)
    return DossierDetail(
        **base,
        resolved_at=d.resolved_at,
        returned_at=d.returned_at,
        new_due_date=d.new_due_date,
        apology_issued_at=d.apology_issued_at,
        missing_components=list(d.missing_components),
        result_number=d.result_number,
        components=components,
        documents=[
            DocumentOut(
                position=doc.position,
                file_name=file_name(doc.path),
                component=doc.component,
                component_confirmed=doc.confirmed,
                kind=doc.kind,
                kind_label=label_of(doc.kind),
                sha256=doc.sha256,
                page_count=doc.page_count,
                fields=dict(doc.fields) if reveal else masked_fields(doc.fields),
                field_labels={k: services.field_label(doc.kind, k) for k in doc.fields},
            )
            for doc in d.documents
        ],
        history=[
            StatusChangeOut(status=h.status, status_label=h.status.label_vi, at=h.at, note=h.note)
            for h in d.history
        ],
    )


# --- reviewing a document: its pages beside its fields ---------------------------------------

MAX_PAGES_SHOWN = 20  # a long PDF's first pages; the rest open one by one


@dataclass(frozen=True)
class Correction:
    by: str  # the audit log's actor, `user:<name>`
    at: dt.datetime
    old: str  # ID numbers masked; equal to the value when the clerk confirmed it


@dataclass(frozen=True)
class FieldRow:
    """One extracted field as the dossier page shows it and the correction form edits it."""

    key: str
    label: str
    value: str  # a list field's items one per line
    is_list: bool
    needs_review: bool
    present: bool  # False: a field of the form template that was not read
    corrections: tuple[Correction, ...]


def template_fields(kind: str) -> dict[str, bool]:
    """The output fields of a document kind's form template (key → is a list); {} without one."""
    try:
        from extractors.fields.templates import templates

        template = templates().get(kind)
    except MotcuaError:  # a broken template file: no extra fields, the page still works
        return {}
    if template is None:
        return {}
    return {spec.key: spec.normalise == "list" for spec in template.fields if spec.output}


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return "\n".join(str(v) for v in value)
    return str(value)


def shown_value(kind: str, key: str, value: Any) -> str:
    """A stored field value as a clerk reads and types it (dates as dd/mm/yyyy)."""
    text = _as_text(value)
    if not isinstance(value, str) or not text:
        return text
    try:
        from extractors.fields.typed import shown

        return shown(kind, key, text)
    except MotcuaError:  # a broken template file: the stored value, the page still works
        return text


def _corrections(
    kind: str, key: str, field: Mapping[str, Any], names: Mapping[str, str]
) -> tuple[Correction, ...]:
    found = []
    for entry in field.get("corrections") or ():
        try:
            at = dt.datetime.fromisoformat(str(entry["at"]))
        except (KeyError, TypeError, ValueError):
            continue
        old = shown_value(kind, key, entry.get("old"))
        by = str(entry.get("by", ""))
        found.append(Correction(names.get(by, by), at, old))
    return tuple(found)


def account_names(services: Services) -> dict[str, str]:
    """Audit actor (`user:<login>`) → the account's full name, or its login without one."""
    return {f"user:{u.username}": u.display_name for u in services.accounts.users()}


def field_rows(services: Services, doc: DocumentOut, names: Mapping[str, str]) -> list[FieldRow]:
    """The document's fields in their order, then the template's fields that were not read.

    Corrections name who made them through `names` (see `account_names`)."""
    rows = []
    for key, raw in doc.fields.items():
        field = raw if isinstance(raw, Mapping) else {"value": raw}
        value = field.get("value")
        rows.append(
            FieldRow(key=key, label=doc.field_labels.get(key, key),
                     value=shown_value(doc.kind, key, value),
                     is_list=isinstance(value, list | tuple),
                     needs_review=bool(field.get("needs_review")), present=True,
                     corrections=_corrections(doc.kind, key, field, names))
        )  # fmt: skip
    for key, is_list in template_fields(doc.kind).items():
        if key not in doc.fields:
            rows.append(FieldRow(key, services.field_label(doc.kind, key), "", is_list,
                                 needs_review=False, present=False, corrections=()))  # fmt: skip
    return rows


def original_path(settings: Settings, code: str, position: int, path: str) -> Path | None:
    """A document's original file: where the register says it is, else the copy the intake flow
    staged for the archive in the dossier's folder (`<home>/dossiers/<code>/payload/NN-name`)."""
    staged = settings.home / "dossiers" / code / "payload" / f"{position:02d}-{Path(path).name}"
    return next((p for p in (Path(path), staged) if p.is_file()), None)


# The list API's paging headers (`GET /api/v1/dossiers`), as documented in the OpenAPI spec.
PAGING_HEADERS = {
    "X-Total-Count": {"description": "dossiers matching the filters, over all pages",
                      "schema": {"type": "integer"}},
    "X-Next-Cursor": {"description": "`cursor` of the next page; absent on the last page",
                      "schema": {"type": "string"}},
    "Link": {"description": 'the next page\'s URL, `<...>; rel="next"` (RFC 8288)',
             "schema": {"type": "string"}},
}  # fmt: skip


def as_instant(moment: dt.datetime | None) -> dt.datetime | None:
    """An instant: a time given without an offset is Vietnam time; far-off years are clamped."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=VN_TZ)
    try:
        return moment.astimezone(dt.UTC)
    except OverflowError:
        return (
            dt.datetime.min.replace(tzinfo=dt.UTC)
            if moment.year < 2
            else dt.datetime.max.replace(tzinfo=dt.UTC)
        )
