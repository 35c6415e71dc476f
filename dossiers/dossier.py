"""What a dossier is, as the register hands it out: its status, documents, components, history.

Frozen snapshots; `dossiers.register` reads and writes them. Times are Vietnam time (+07:00).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from dossiers.calendar import Timeliness, timeliness
from dossiers.contact import Contact
from dossiers.procedures import OTHER_DOCUMENT_KIND, OTHER_DOCUMENT_LABEL, Procedure
from motcua.errors import BadArgumentError
from motcua.types import mask_id, nfc


class Status(StrEnum):
    received = "received"
    processing = "processing"
    supplement_requested = "supplement_requested"
    result_signed = "result_signed"
    returned = "returned"
    refused = "refused"
    withdrawn = "withdrawn"

    @property
    def label_vi(self) -> str:
        return _STATUS_VI[self]


_STATUS_VI = {
    Status.received: "Đã tiếp nhận",
    Status.processing: "Đang giải quyết",
    Status.supplement_requested: "Yêu cầu bổ sung hồ sơ",
    Status.result_signed: "Đã có kết quả",
    Status.returned: "Đã trả kết quả",
    Status.refused: "Từ chối giải quyết",
    Status.withdrawn: "Đã rút hồ sơ",
}

# Which status may follow which. Same-day procedures may sign the result straight from `received`.
_ENDED = {Status.refused, Status.withdrawn}
TRANSITIONS: Mapping[Status, frozenset[Status]] = {
    Status.received: frozenset(
        {Status.processing, Status.supplement_requested, Status.result_signed, *_ENDED}
    ),
    Status.processing: frozenset({Status.supplement_requested, Status.result_signed, *_ENDED}),
    Status.supplement_requested: frozenset({Status.processing, *_ENDED}),
    Status.result_signed: frozenset({Status.returned}),
    Status.returned: frozenset(),
    Status.refused: frozenset(),
    Status.withdrawn: frozenset(),
}
RESOLVED = frozenset({Status.result_signed, Status.returned})
# Closed without a result: counted apart in the statistics, never pending nor late.
CLOSED = frozenset(_ENDED)
# Before acceptance: the procedure may still be changed, the components re-assigned.
BEFORE_ACCEPTANCE = frozenset({Status.received, Status.supplement_requested})

# How a dossier reached the office (Decision 766/QĐ-TTg counts online submissions apart).
CHANNELS = ("online", "desk", "post")
CHANNEL_VI = {"online": "trực tuyến", "desk": "trực tiếp", "post": "qua bưu chính"}

# A corrected value: text, or the items of a list field (recipients of an official letter).
FieldValue = str | Sequence[str]
# Field keys (their last dotted part) that hold a personal ID number: masked in the correction
# history, which is shown to every role that reads the dossier.
ID_FIELD_KEYS = frozenset({"so_dinh_danh", "so_cccd", "so_cmnd", "id_number", "so_giay_to"})
# The fields that name the citizen who hands the dossier in, by document kind, best first.
CITIZEN_FIELDS = (
    ("to-khai-khai-sinh", "nguoi_yeu_cau.ho_ten"),
    ("to-khai-xac-nhan-hon-nhan", "nguoi_yeu_cau.ho_ten"),
    ("cccd", "ho_ten"),
)
# The component key of a document that is none of the procedure's components ("Giấy tờ khác").
OTHER_COMPONENT = OTHER_DOCUMENT_KIND
_ID_IN_TEXT = re.compile(r"(?<!\d)(?:\d{12}|\d{9})(?!\d)")


@dataclass(frozen=True)
class DocumentIn:
    """A document handed in: where it is, what kind it is, its content hash, extracted fields."""

    path: str
    kind: str
    sha256: str
    fields: Mapping[str, Any] = field(default_factory=dict)
    page_count: int | None = None
    component: str | None = None  # the procedure component this file is (None: other paper)
    confirmed: bool = False  # the clerk said so (False: suggested from `kind`)

    def __post_init__(self) -> None:
        digest = self.sha256.lower()
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise BadArgumentError(f"{self.path}: {self.sha256!r} is not a SHA-256 hex digest")


@dataclass(frozen=True)
class DocumentRecord:
    position: int
    path: str
    kind: str
    sha256: str
    fields: Mapping[str, Any]
    page_count: int | None
    component: str | None = None
    confirmed: bool = False


@dataclass(frozen=True)
class ComponentState:
    """One component of the procedure and the files that make it up in a dossier."""

    key: str
    label: str
    required: bool
    positions: tuple[int, ...]
    files: tuple[str, ...]
    confirmed: bool  # every file assigned to it was confirmed by a clerk

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "required": self.required,
            "files": list(self.files),
            "positions": list(self.positions),
            "confirmed": self.confirmed,
        }


@dataclass(frozen=True)
class StatusChange:
    status: Status
    at: dt.datetime  # Vietnam time
    note: str | None


@dataclass(frozen=True)
class Dossier:
    """One dossier as read from the register; times are Vietnam time (+07:00)."""

    code: str
    unit_code: str
    procedure_key: str
    idempotency_key: str
    citizen_name: str | None
    status: Status
    received_at: dt.datetime
    due_date: dt.date | None
    resolved_at: dt.datetime | None
    returned_at: dt.datetime | None
    new_due_date: dt.date | None
    apology_issued_at: dt.datetime | None
    missing_components: tuple[str, ...]
    documents: tuple[DocumentRecord, ...]
    history: tuple[StatusChange, ...]
    result_number: str | None = None
    # None once archived; else why the last archive attempt failed ("" while it runs)
    archive_pending: str | None = None
    channel: str | None = None  # online, desk or post (CHANNELS); None: not recorded
    contact: Contact = field(default_factory=Contact)  # phone/e-mail, consent to notices
    updated_at: dt.datetime | None = None  # last change of any kind (Vietnam time)
    assignee: str | None = None  # the login of the officer it is assigned to

    @property
    def archived(self) -> bool:
        """False while the papers are "chưa lưu trữ" (the archive step has not succeeded yet)."""
        return self.archive_pending is None

    @property
    def supplement_rounds(self) -> int:
        """How many times a supplement was asked for (at intake included)."""
        return sum(1 for h in self.history if h.status is Status.supplement_requested)

    def components(self, procedure: Procedure) -> list[ComponentState]:
        """The procedure's components with the files assigned to each, then "Giấy tờ khác"."""
        out = []
        for c in procedure.components:
            docs = [d for d in self.documents if d.component == c.kind]
            out.append(
                ComponentState(
                    key=c.kind,
                    label=c.label,
                    required=c.required,
                    positions=tuple(d.position for d in docs),
                    files=tuple(file_name(d.path) for d in docs),
                    confirmed=bool(docs) and all(d.confirmed for d in docs),
                )
            )
        known = {c.kind for c in procedure.components}
        others = [d for d in self.documents if d.component not in known]
        if others:
            out.append(
                ComponentState(
                    key=OTHER_COMPONENT,
                    label=OTHER_DOCUMENT_LABEL,
                    required=False,
                    positions=tuple(d.position for d in others),
                    files=tuple(file_name(d.path) for d in others),
                    confirmed=all(d.confirmed for d in others),
                )
            )
        return out

    @property
    def timeliness(self) -> Timeliness | None:
        """Early / on time / late once resolved (result signed), else None."""
        if self.resolved_at is None or self.due_date is None:
            return None
        return timeliness(self.resolved_at.date(), self.due_date)

    def is_overdue(self, today: dt.date) -> bool:
        """Unresolved and past its due date on `today`."""
        return (
            self.status not in RESOLVED | CLOSED
            and self.due_date is not None
            and today > self.due_date
        )

    def to_json(self) -> dict[str, Any]:
        """Plain JSON values (ISO dates), as the CLI prints them."""
        return {
            "dossier_code": self.code,
            "unit_code": self.unit_code,
            "procedure": self.procedure_key,
            "citizen_name": self.citizen_name,
            "status": self.status.value,
            "received_at": self.received_at.isoformat(),
            "due_date": iso(self.due_date),
            "resolved_at": iso(self.resolved_at),
            "returned_at": iso(self.returned_at),
            "timeliness": self.timeliness.value if self.timeliness else None,
            "new_due_date": iso(self.new_due_date),
            "apology_issued_at": iso(self.apology_issued_at),
            "missing_components": list(self.missing_components),
            "result_number": self.result_number,
            "archived": self.archived,
            "archive_error": self.archive_pending or None,
            "channel": self.channel,
            "contact": self.contact.to_json(),
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
            "assignee": self.assignee,
            "supplement_rounds": self.supplement_rounds,
            "documents": [
                {
                    "path": d.path,
                    "kind": d.kind,
                    "sha256": d.sha256,
                    "fields": dict(d.fields),
                    "page_count": d.page_count,
                    "component": d.component,
                    "component_confirmed": d.confirmed,
                }
                for d in self.documents
            ],
            "history": [
                {"status": h.status.value, "at": h.at.isoformat(), "note": h.note}
                for h in self.history
            ],
        }


@dataclass(frozen=True)
class IntakeResult:
    dossier: Dossier
    created: bool  # False: the same files were already taken in; this is the existing dossier


def file_name(path: str) -> str:
    return path.replace("\\", "/").rsplit("/", 1)[-1]


def mask_field_value(key: str, value: Any) -> Any:
    """`value` with ID numbers masked: all of it for an ID field, ID-shaped digits elsewhere."""
    if isinstance(value, str):
        if key.rsplit(".", 1)[-1] in ID_FIELD_KEYS and value.strip():
            return mask_id(value)
        return _ID_IN_TEXT.sub(lambda m: mask_id(m.group(0)), value)
    if isinstance(value, list | tuple):
        return [mask_field_value(key, item) for item in value]
    return value


def iso(value: dt.date | dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def field_value(raw: Any) -> Any:
    """A field's value, whether kept plain, stored as {"value": ...} or just extracted (an
    object with `.value`, as `extractors.fields.Field`)."""
    if isinstance(raw, Mapping):
        return raw.get("value")
    return getattr(raw, "value", raw)


def citizen_name(documents: Sequence[tuple[str, Mapping[str, Any]]]) -> str | None:
    """The citizen's name from the documents' (kind, fields): the declaration's requester, else
    the ID card's holder."""
    for kind, key in CITIZEN_FIELDS:
        for doc_kind, fields in documents:
            name = field_value(fields.get(key)) if doc_kind == kind else None
            if isinstance(name, str) and name.strip():
                return nfc(name.strip())
    return None


def citizen_name_after(dossier: Dossier, position: int, values: Mapping[str, Any]) -> str | None:
    """The citizen's name once document `position` takes `values`, if that changes it."""
    if not any(key in values for _, key in CITIZEN_FIELDS):
        return None
    documents = [
        (d.kind, {**d.fields, **values} if d.position == position else d.fields)
        for d in dossier.documents
    ]
    name = citizen_name(documents)
    return name if name != dossier.citizen_name else None


def id_numbers(documents: Sequence[Mapping[str, Any]]) -> list[str]:
    """The ID numbers in the documents' extracted fields, in order, without repeats."""
    found: list[str] = []
    for fields in documents:
        for key, raw in fields.items():
            value = field_value(raw)
            is_id = key.rsplit(".", 1)[-1] in ID_FIELD_KEYS and isinstance(value, str)
            if is_id and value.strip() and value.strip() not in found:
                found.append(value.strip())
    return found


def check_assignment(procedure: Procedure, documents: Sequence[DocumentIn]) -> None:
    """Every named component is one of the procedure's; `BadArgumentError` names the first not."""
    known = {c.kind for c in procedure.components}
    for d in documents:
        if d.component is not None and d.component not in known:
            raise BadArgumentError(
                f"{file_name(d.path)}: “{d.component}” không phải thành phần của thủ tục "
                f"{procedure.key}",
                hint="dùng một trong: " + ", ".join(sorted(known)),
            )


def suggest_component(procedure: Procedure, kind: str) -> str | None:
    """The component a document of recognised `kind` most likely is, None for other paper."""
    return kind if any(c.kind == kind for c in procedure.components) else None


def suggested(procedure: Procedure, documents: Sequence[DocumentIn]) -> list[DocumentIn]:
    """The documents with a component suggested from their kind where the clerk named none;
    `BadArgumentError` for a named component the procedure does not have."""
    check_assignment(procedure, documents)
    return [
        d
        if d.component is not None or d.confirmed
        else dataclasses.replace(d, component=suggest_component(procedure, d.kind))
        for d in documents
    ]


def missing_components(procedure: Procedure, components: Iterable[str | None]) -> list[str]:
    present = [c for c in components if c is not None]
    return [c.kind for c in procedure.missing_components(present)]
