"""The dossier register: dossiers, their documents and their status history, in SQL.

The lifecycle (Circular 01/2018/TT-VPCP; Decree 61/2018/NĐ-CP):

    received → processing → (supplement_requested → processing) → result_signed → returned

A dossier taken in with required components missing starts as `supplement_requested` and has no
due date until the supplement arrives. Re-taking in the same files for the same procedure returns
the existing dossier: its idempotency key is a hash of the procedure and the documents' SHA-256.
Until the result is signed, a clerk may correct extracted fields; each field keeps its history.
"""

from __future__ import annotations

import builtins
import datetime as dt
import hashlib
import logging
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event, select
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, selectinload

from dossiers.calendar import Timeliness, WorkingCalendar, timeliness, to_local
from dossiers.codes import allocate_number, check_unit_code, format_code, parse_code
from dossiers.models import Base, DocumentRow, DossierRow, StatusChangeRow
from dossiers.procedures import Procedure, due_date
from motcua.errors import BadArgumentError, CheckFailedError, ServiceUnavailableError
from motcua.types import mask_id, nfc

log = logging.getLogger("dossiers.register")
T = TypeVar("T")


class Status(StrEnum):
    received = "received"
    processing = "processing"
    supplement_requested = "supplement_requested"
    result_signed = "result_signed"
    returned = "returned"

    @property
    def label_vi(self) -> str:
        return _STATUS_VI[self]


_STATUS_VI = {
    Status.received: "Đã tiếp nhận",
    Status.processing: "Đang giải quyết",
    Status.supplement_requested: "Yêu cầu bổ sung hồ sơ",
    Status.result_signed: "Đã có kết quả",
    Status.returned: "Đã trả kết quả",
}

# Which status may follow which. Same-day procedures may sign the result straight from `received`.
TRANSITIONS: Mapping[Status, frozenset[Status]] = {
    Status.received: frozenset(
        {Status.processing, Status.supplement_requested, Status.result_signed}
    ),
    Status.processing: frozenset({Status.supplement_requested, Status.result_signed}),
    Status.supplement_requested: frozenset({Status.processing}),
    Status.result_signed: frozenset({Status.returned}),
    Status.returned: frozenset(),
}
RESOLVED = frozenset({Status.result_signed, Status.returned})

# A corrected value: text, or the items of a list field (recipients of an official letter).
FieldValue = str | Sequence[str]
# Field keys (their last dotted part) that hold a personal ID number: masked in the correction
# history, which is shown to every role that reads the dossier.
ID_FIELD_KEYS = frozenset({"so_dinh_danh", "so_cccd", "so_cmnd", "id_number", "so_giay_to"})
_ID_IN_TEXT = re.compile(r"(?<!\d)(?:\d{12}|\d{9})(?!\d)")


@dataclass(frozen=True)
class DocumentIn:
    """A document handed in: where it is, what kind it is, its content hash, extracted fields."""

    path: str
    kind: str
    sha256: str
    fields: Mapping[str, Any] = field(default_factory=dict)
    page_count: int | None = None

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

    @property
    def timeliness(self) -> Timeliness | None:
        """Early / on time / late once resolved (result signed), else None."""
        if self.resolved_at is None or self.due_date is None:
            return None
        return timeliness(self.resolved_at.date(), self.due_date)

    def is_overdue(self, today: dt.date) -> bool:
        """Unresolved and past its due date on `today`."""
        return self.status not in RESOLVED and self.due_date is not None and today > self.due_date

    def to_json(self) -> dict[str, Any]:
        """Plain JSON values (ISO dates), as the CLI prints them."""
        return {
            "dossier_code": self.code,
            "unit_code": self.unit_code,
            "procedure": self.procedure_key,
            "citizen_name": self.citizen_name,
            "status": self.status.value,
            "received_at": self.received_at.isoformat(),
            "due_date": _iso(self.due_date),
            "resolved_at": _iso(self.resolved_at),
            "returned_at": _iso(self.returned_at),
            "timeliness": self.timeliness.value if self.timeliness else None,
            "new_due_date": _iso(self.new_due_date),
            "apology_issued_at": _iso(self.apology_issued_at),
            "missing_components": list(self.missing_components),
            "documents": [
                {
                    "path": d.path,
                    "kind": d.kind,
                    "sha256": d.sha256,
                    "fields": dict(d.fields),
                    "page_count": d.page_count,
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


def idempotency_key(procedure_key: str, hashes: Iterable[str]) -> str:
    """SHA-256 over the procedure and the sorted content hashes; the order of files is moot."""
    material = "\n".join([procedure_key, *sorted(h.lower() for h in hashes)])
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def create_register_engine(url: str) -> Engine:
    """An engine for the register; on SQLite every transaction takes the write lock up front.

    SQLite's default deferred transactions fail at once (`database is locked`) when two processes
    read and then write; `BEGIN IMMEDIATE` makes the second wait for the first instead.
    """
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 60})

        @event.listens_for(engine, "connect")
        def _no_implicit_begin(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None

        @event.listens_for(engine, "begin")
        def _begin_immediate(connection: Any) -> None:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True)


class DossierRegister:
    """Takes dossiers in, moves them through their lifecycle, and reads them back."""

    def __init__(
        self,
        engine: Engine | str,
        *,
        unit_code: str,
        calendar: WorkingCalendar | None = None,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.engine = create_register_engine(engine) if isinstance(engine, str) else engine
        self.unit_code = check_unit_code(unit_code)
        self.calendar = calendar or WorkingCalendar()
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))

    def create_tables(self) -> None:
        """Create the `dossier_*` tables that do not exist yet."""
        self._run(lambda s: Base.metadata.create_all(s.connection()))

    # --- intake -------------------------------------------------------------------------------

    def intake(
        self,
        procedure: Procedure,
        documents: Sequence[DocumentIn],
        *,
        received_at: dt.datetime | None = None,
        citizen_name: str | None = None,
    ) -> IntakeResult:
        """Register a dossier, or return the one already registered for the same files."""
        if not documents:
            raise BadArgumentError("a dossier needs at least one document")
        at = to_local(received_at or self._clock())
        key = idempotency_key(procedure.key, (d.sha256 for d in documents))
        missing = [c.kind for c in procedure.missing_components(d.kind for d in documents)]
        status = Status.supplement_requested if missing else Status.received

        def create(session: Session) -> tuple[DossierRow, bool]:
            existing = _by_key(session, key)
            if existing is not None:
                return existing, False
            number = allocate_number(session, self.unit_code, at.date())
            row = DossierRow(
                code=format_code(self.unit_code, at.date(), number),
                unit_code=self.unit_code,
                procedure_key=procedure.key,
                idempotency_key=key,
                citizen_name=nfc(citizen_name) if citizen_name else None,
                status=status.value,
                received_at=at,
                due_date=None if missing else due_date(procedure, self.calendar, at),
                missing_components=missing,
            )
            row.documents = [
                DocumentRow(
                    position=i,
                    path=d.path,
                    kind=d.kind,
                    sha256=d.sha256.lower(),
                    fields=_nfc_fields(d.fields),
                    page_count=d.page_count,
                )
                for i, d in enumerate(documents, start=1)
            ]
            row.history = [StatusChangeRow(status=status.value, at=at, note=None)]
            session.add(row)
            session.flush()
            return row, True

        try:
            row_created = self._run(lambda s: _snapshot_with(s, create(s)))
        except IntegrityError:
            # Another process registered the same files between our lookup and our insert.
            existing = self._run(lambda s: _maybe_snapshot(_by_key(s, key)))
            if existing is None:
                raise
            log.info("intake raced with another process; returning %s", existing.code)
            return IntakeResult(existing, created=False)
        dossier, created = row_created
        log.info(
            "dossier %s %s (%s, %d documents)",
            dossier.code,
            "registered" if created else "already registered",
            procedure.key,
            len(documents),
        )
        return IntakeResult(dossier, created)

    # --- lifecycle ----------------------------------------------------------------------------

    def advance(
        self, code: str, status: Status, *, at: dt.datetime | None = None, note: str | None = None
    ) -> Dossier:
        """Move a dossier to `status`; `CheckFailedError` when the lifecycle does not allow it."""
        when = to_local(at or self._clock())
        return self._run(lambda s: _snapshot(_advance(self._row(s, code), status, when, note)))

    def start_processing(self, code: str, *, at: dt.datetime | None = None) -> Dossier:
        return self.advance(code, Status.processing, at=at)

    def request_supplement(
        self, code: str, missing: Sequence[str], *, at: dt.datetime | None = None
    ) -> Dossier:
        """Processing found the dossier incomplete: record what is missing (Mẫu 02)."""
        if not missing:
            raise BadArgumentError(f"a supplement request for {code} names what is missing")
        when = to_local(at or self._clock())

        def request(session: Session) -> Dossier:
            row = _advance(self._row(session, code), Status.supplement_requested, when, None)
            row.history[-1].note = ", ".join(missing)
            row.missing_components = list(missing)
            return _snapshot(row)

        return self._run(request)

    def supplement_received(
        self,
        procedure: Procedure,
        code: str,
        documents: Sequence[DocumentIn],
        *,
        at: dt.datetime | None = None,
    ) -> Dossier:
        """Add the supplied documents; once complete, the time limit counts from `at`.

        (unconfirmed) Decree 61/2018 is read as restarting the time limit when the complete
        dossier arrives; the due date is recomputed accordingly.
        """
        when = to_local(at or self._clock())

        def supply(session: Session) -> Dossier:
            row = self._row(session, code)
            if row.status != Status.supplement_requested.value:
                raise CheckFailedError(
                    f"dossier {code} is {row.status}, not waiting for a supplement",
                    hint="only a dossier in supplement_requested takes a supplement",
                )
            start = len(row.documents)
            for i, d in enumerate(documents, start=start + 1):
                row.documents.append(
                    DocumentRow(
                        position=i,
                        path=d.path,
                        kind=d.kind,
                        sha256=d.sha256.lower(),
                        fields=_nfc_fields(d.fields),
                        page_count=d.page_count,
                    )
                )
            kinds = [d.kind for d in row.documents]
            missing = [c.kind for c in procedure.missing_components(kinds)]
            # What the clerk asked for is taken as supplied; the procedure's list still decides.
            row.missing_components = missing
            if not row.missing_components:
                row.due_date = due_date(procedure, self.calendar, when)
                row.status = Status.processing.value
                row.history.append(
                    StatusChangeRow(status=row.status, at=when, note="supplement received")
                )
            session.flush()
            return _snapshot(row)

        return self._run(supply)

    def mark_result_signed(self, code: str, *, at: dt.datetime | None = None) -> Dossier:
        return self.advance(code, Status.result_signed, at=at)

    def mark_returned(self, code: str, *, at: dt.datetime | None = None) -> Dossier:
        return self.advance(code, Status.returned, at=at)

    def record_apology(
        self, code: str, new_due_date: dt.date, *, at: dt.datetime | None = None
    ) -> Dossier:
        """A late dossier's apology letter (Mẫu 04) was issued with `new_due_date`."""
        when = to_local(at or self._clock())

        def record(session: Session) -> Dossier:
            row = self._row(session, code)
            if row.due_date is not None and new_due_date <= row.due_date:
                raise BadArgumentError(
                    f"the new date {new_due_date.isoformat()} is not after the due date "
                    f"{row.due_date.isoformat()} of {code}"
                )
            row.new_due_date = new_due_date
            row.apology_issued_at = when
            session.flush()
            return _snapshot(row)

        return self._run(record)

    def correct_fields(
        self,
        code: str,
        position: int,
        values: Mapping[str, FieldValue],
        *,
        by: str,
        allowed_new: Collection[str] = (),
        citizen_name: str | None = None,
        at: dt.datetime | None = None,
    ) -> Dossier:
        """A clerk's corrections of one document's extracted fields.

        Each value is stored NFC with its `needs_review` flag cleared, and the field remembers the
        correction (`corrections`: who, when, the old value with ID numbers masked). A value equal
        to the stored one confirms a field that needed review. Keys the document does not have are
        refused unless named in `allowed_new` (the fields of its kind's form template). Refused
        once the result is signed: what was signed is no longer the clerk's to change.
        """
        if not values:
            raise BadArgumentError(f"no field of document {position} of {code} to correct")
        when = to_local(at or self._clock())

        def correct(session: Session) -> Dossier:
            row = self._row(session, code)
            if Status(row.status) in RESOLVED:
                raise CheckFailedError(
                    f"dossier {code} is {row.status}; its fields can no longer be corrected",
                    hint="the result was signed from these values",
                )
            document = next((d for d in row.documents if d.position == position), None)
            if document is None:
                raise BadArgumentError(f"dossier {code} has no document {position}")
            fields = dict(document.fields)
            unknown = sorted(k for k in values if k not in fields and k not in allowed_new)
            if unknown:
                raise BadArgumentError(
                    f"document {position} of {code} ({document.kind}) has no field "
                    + ", ".join(unknown),
                    hint="correct the fields the document has, or those of its form template",
                )
            for key, raw in values.items():
                new = _nfc_value(raw)
                old = fields.get(key)
                current: dict[str, Any] = dict(old) if isinstance(old, Mapping) else {"value": old}
                unchanged = key in fields and current.get("value") == new
                if unchanged and not current.get("needs_review"):
                    continue
                previous = mask_field_value(key, current.get("value"))
                history = [*(current.get("corrections") or []),
                           {"by": by, "at": when.isoformat(), "old": previous}]  # fmt: skip
                current.update(value=new, needs_review=False, source="clerk", corrections=history)
                fields[key] = current
            document.fields = fields  # a new dict: JSON columns do not track changes in place
            if citizen_name is not None and citizen_name.strip():
                row.citizen_name = nfc(citizen_name.strip())
            session.flush()
            return _snapshot(row)

        return self._run(correct)

    # --- reading ------------------------------------------------------------------------------

    def get(self, code: str) -> Dossier:
        parse_code(code)
        return self._run(lambda s: _snapshot(self._row(s, code)))

    def find_by_files(self, procedure_key: str, hashes: Iterable[str]) -> Dossier | None:
        key = idempotency_key(procedure_key, hashes)
        return self._run(lambda s: _maybe_snapshot(_by_key(s, key)))

    def list(
        self,
        *,
        statuses: Iterable[Status] = (),
        procedure_key: str | None = None,
        received_from: dt.date | None = None,
        received_to: dt.date | None = None,
    ) -> list[Dossier]:
        """Dossiers in code order, filtered by status, procedure and receipt day (inclusive)."""
        wanted = [s.value for s in statuses]

        def query(session: Session) -> list[Dossier]:
            stmt = select(DossierRow).options(
                selectinload(DossierRow.documents), selectinload(DossierRow.history)
            )
            if wanted:
                stmt = stmt.where(DossierRow.status.in_(wanted))
            if procedure_key:
                stmt = stmt.where(DossierRow.procedure_key == procedure_key)
            if received_from:
                stmt = stmt.where(DossierRow.received_at >= _day_start_utc(received_from))
            if received_to:
                next_day = received_to + dt.timedelta(days=1)
                stmt = stmt.where(DossierRow.received_at < _day_start_utc(next_day))
            rows = session.execute(stmt.order_by(DossierRow.received_at, DossierRow.id))
            return [_snapshot(r) for r in rows.scalars()]

        return self._run(query)

    def overdue(self, today: dt.date, *, without_apology: bool = False) -> builtins.list[Dossier]:
        """Unresolved dossiers past their due date on `today` (Vietnam day).

        With `without_apology`, only those still owed the apology letter (Mẫu 04): offices are
        judged on late dossiers left without one.
        """
        unresolved = [s for s in Status if s not in RESOLVED]
        return [
            d
            for d in self.list(statuses=unresolved)
            if d.is_overdue(today) and not (without_apology and d.apology_issued_at is not None)
        ]

    # --- plumbing -----------------------------------------------------------------------------

    def _row(self, session: Session, code: str) -> DossierRow:
        row = session.execute(
            select(DossierRow).where(DossierRow.code == code.strip())
        ).scalar_one_or_none()
        if row is None:
            raise BadArgumentError(
                f"no dossier {code} in the register",
                hint="check the code on the receipt (`motcua dossier list` shows them all)",
            )
        return row

    def _run(self, work: Callable[[Session], T]) -> T:
        try:
            with Session(self.engine, expire_on_commit=False) as session, session.begin():
                return work(session)
        except (IntegrityError, BadArgumentError, CheckFailedError):
            raise
        except OperationalError as exc:
            url = self.engine.url.render_as_string(hide_password=True)
            raise ServiceUnavailableError(
                f"dossier register at {url}: {exc.orig}",
                hint="check that the database is reachable and `motcua` created its tables",
            ) from None
        except SQLAlchemyError as exc:
            raise ServiceUnavailableError(
                f"dossier register: {type(exc).__name__}: {getattr(exc, 'orig', None) or exc}",
                hint="create the dossier_* tables (DossierRegister.create_tables) and retry",
            ) from None


def _advance(row: DossierRow, status: Status, when: dt.datetime, note: str | None) -> DossierRow:
    current = Status(row.status)
    if status not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "nothing (final)"
        raise CheckFailedError(
            f"dossier {row.code} is {current.value}; it cannot become {status.value}",
            hint=f"from {current.value} it can become: {allowed}",
        )
    if status is Status.processing and row.due_date is None:
        raise CheckFailedError(
            f"dossier {row.code} still misses {', '.join(row.missing_components)}",
            hint="record the supplement (`supplement_received`) first",
        )
    row.status = status.value
    if status is Status.result_signed:
        row.resolved_at = when
    elif status is Status.returned:
        row.returned_at = when
    row.history.append(StatusChangeRow(status=status.value, at=when, note=note))
    return row


def _by_key(session: Session, key: str) -> DossierRow | None:
    return session.execute(
        select(DossierRow).where(DossierRow.idempotency_key == key)
    ).scalar_one_or_none()


def _snapshot_with(session: Session, pair: tuple[DossierRow, bool]) -> tuple[Dossier, bool]:
    return _snapshot(pair[0]), pair[1]


def _maybe_snapshot(row: DossierRow | None) -> Dossier | None:
    return None if row is None else _snapshot(row)


def _snapshot(row: DossierRow) -> Dossier:
    return Dossier(
        code=row.code,
        unit_code=row.unit_code,
        procedure_key=row.procedure_key,
        idempotency_key=row.idempotency_key,
        citizen_name=row.citizen_name,
        status=Status(row.status),
        received_at=to_local(row.received_at),
        due_date=row.due_date,
        resolved_at=_local_or_none(row.resolved_at),
        returned_at=_local_or_none(row.returned_at),
        new_due_date=row.new_due_date,
        apology_issued_at=_local_or_none(row.apology_issued_at),
        missing_components=tuple(row.missing_components or ()),
        documents=tuple(
            DocumentRecord(d.position, d.path, d.kind, d.sha256, dict(d.fields), d.page_count)
            for d in row.documents
        ),
        history=tuple(StatusChange(Status(h.status), to_local(h.at), h.note) for h in row.history),
    )


def _local_or_none(moment: dt.datetime | None) -> dt.datetime | None:
    return None if moment is None else to_local(moment)


def _day_start_utc(day: dt.date) -> dt.datetime:
    return to_local(dt.datetime.combine(day, dt.time())).astimezone(dt.UTC)


def _nfc_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    def norm(value: Any) -> Any:
        if isinstance(value, str):
            return nfc(value)
        if isinstance(value, Mapping):
            return {str(k): norm(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [norm(v) for v in value]
        return value

    return {str(k): norm(v) for k, v in fields.items()}


def _nfc_value(value: FieldValue) -> str | list[str]:
    if isinstance(value, str):
        return nfc(value.strip())
    return [nfc(item.strip()) for item in value if item.strip()]


def mask_field_value(key: str, value: Any) -> Any:
    """`value` with ID numbers masked: all of it for an ID field, ID-shaped digits elsewhere."""
    if isinstance(value, str):
        if key.rsplit(".", 1)[-1] in ID_FIELD_KEYS and value.strip():
            return mask_id(value)
        return _ID_IN_TEXT.sub(lambda m: mask_id(m.group(0)), value)
    if isinstance(value, list | tuple):
        return [mask_field_value(key, item) for item in value]
    return value


def _iso(value: dt.date | dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()
