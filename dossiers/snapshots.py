"""Rows to snapshots and back: what the register stores and the frozen `Dossier` it hands out.

Kept apart from the register's queries so the mapping (NFC on the way in, local time on the way
out) is written once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from dossiers.calendar import to_local
from dossiers.contact import Contact
from dossiers.dossier import DocumentIn, DocumentRecord, Dossier, FieldValue, Status, StatusChange
from dossiers.models import DocumentRow, DossierRow
from motcua.types import nfc

__all__ = ["document_row", "local_or_none", "maybe_snapshot", "nfc_fields", "nfc_value", "snapshot"]


def document_row(position: int, d: DocumentIn) -> DocumentRow:
    return DocumentRow(
        position=position,
        path=d.path,
        kind=d.kind,
        sha256=d.sha256.lower(),
        fields=nfc_fields(d.fields),
        page_count=d.page_count,
        component=d.component,
        component_confirmed=d.confirmed,
    )


def maybe_snapshot(row: DossierRow | None) -> Dossier | None:
    return None if row is None else snapshot(row)


def snapshot(row: DossierRow) -> Dossier:
    return Dossier(
        code=row.code,
        unit_code=row.unit_code,
        procedure_key=row.procedure_key,
        idempotency_key=row.idempotency_key,
        citizen_name=row.citizen_name,
        status=Status(row.status),
        received_at=to_local(row.received_at),
        due_date=row.due_date,
        resolved_at=local_or_none(row.resolved_at),
        returned_at=local_or_none(row.returned_at),
        new_due_date=row.new_due_date,
        apology_issued_at=local_or_none(row.apology_issued_at),
        missing_components=tuple(row.missing_components or ()),
        documents=tuple(
            DocumentRecord(
                d.position,
                d.path,
                d.kind,
                d.sha256,
                dict(d.fields),
                d.page_count,
                d.component,
                bool(d.component_confirmed),
            )
            for d in row.documents
        ),
        history=tuple(StatusChange(Status(h.status), to_local(h.at), h.note) for h in row.history),
        result_number=row.result_number,
        archive_pending=row.archive_pending,
        channel=row.channel,
        contact=Contact(row.citizen_phone, row.citizen_email, bool(row.notice_consent)),
        updated_at=local_or_none(row.updated_at),
        assignee=row.assignee,
    )


def local_or_none(moment: dt.datetime | None) -> dt.datetime | None:
    return None if moment is None else to_local(moment)


def nfc_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    def norm(value: Any) -> Any:
        if isinstance(value, str):
            return nfc(value)
        if isinstance(value, Mapping):
            return {str(k): norm(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [norm(v) for v in value]
        return value

    return {str(k): norm(v) for k, v in fields.items()}


def nfc_value(value: FieldValue) -> str | list[str]:
    if isinstance(value, str):
        return nfc(value.strip())
    return [nfc(item.strip()) for item in value if item.strip()]
