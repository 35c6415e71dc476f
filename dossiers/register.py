"""The dossier register: dossiers, their documents and their status history, in SQL.

The lifecycle (Circular 01/2018/TT-VPCP; Decree 61/2018/NĐ-CP):

    received → processing → (supplement_requested → processing) → result_signed → returned
    (received | supplement_requested | processing) → refused (Mẫu 03) | withdrawn (rút hồ sơ)

A dossier taken in with required components missing starts as `supplement_requested` and has no
due date until the supplement arrives; the supplement joins the same dossier (same code) and the
time limit counts from its receipt. Each document is assigned to a component of the procedure
(suggested from its recognised kind, confirmed or changed by the clerk); completeness is computed
from that assignment, never from the kind alone. Re-taking in the same files for the same
procedure returns the existing dossier: its idempotency key hashes the procedure and the
documents' SHA-256.
Until the result is signed, a clerk may correct extracted fields; each field keeps its history.
"""

from __future__ import annotations

import builtins
import datetime as dt
import hashlib
import logging
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event, inspect, select
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, selectinload, sessionmaker

from dossiers.calendar import WorkingCalendar, to_local
from dossiers.codes import allocate_number, check_unit_code, format_code, parse_code
from dossiers.contact import Contact
from dossiers.dossier import (
    BEFORE_ACCEPTANCE,
    CHANNELS,
    CLOSED,
    ID_FIELD_KEYS,
    RESOLVED,
    TRANSITIONS,
    ComponentState,
    DocumentIn,
    DocumentRecord,
    Dossier,
    FieldValue,
    IntakeResult,
    Status,
    StatusChange,
    file_name,
    mask_field_value,
    missing_components,
    suggested,
)
from dossiers.listing import ListQuery, Page, backfill, conditions, trigram_indexes
from dossiers.listing import page as list_page
from dossiers.models import (
    ADDED_COLUMNS,
    LIST_INDEXES,
    Base,
    DocumentRow,
    DossierRow,
    StatusChangeRow,
)
from dossiers.procedures import Procedure, due_date
from dossiers.snapshots import (
    document_row,
    maybe_snapshot,
    nfc_value,
    snapshot,
)
from motcua.errors import BadArgumentError, CheckFailedError, ServiceUnavailableError
from motcua.types import fold, nfc

__all__ = [
    "BEFORE_ACCEPTANCE",
    "CLOSED",
    "ID_FIELD_KEYS",
    "RESOLVED",
    "TRANSITIONS",
    "ComponentState",
    "DocumentIn",
    "DocumentRecord",
    "Dossier",
    "DossierRegister",
    "IntakeResult",
    "ListQuery",
    "Page",
    "Status",
    "StatusChange",
    "create_register_engine",
    "idempotency_key",
    "mask_field_value",
]

log = logging.getLogger("dossiers.register")
T = TypeVar("T")


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
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        event.listen(self._sessions, "before_flush", self._touch)

    def _touch(self, session: Session, _context: Any, _instances: Any) -> None:
        """Stamp `updated_at` on every dossier whose row, documents or history changed, and
        keep its folded name in step (the list's `updated_since` and `q`, in SQL)."""
        now = self._clock()
        for obj in (*session.new, *session.dirty):
            row = obj if isinstance(obj, DossierRow) else None
            if isinstance(obj, DocumentRow | StatusChangeRow):
                row = obj.dossier
            if row is None:
                continue
            row.updated_at = now
            row.citizen_name_folded = fold(row.citizen_name)[:200] if row.citizen_name else None

    def create_tables(self) -> None:
        """Create the `dossier_*` tables that do not exist yet, and add columns added since."""

        def create(session: Session) -> None:
            connection = session.connection()
            Base.metadata.create_all(connection)
            inspector = inspect(connection)
            for table, columns in ADDED_COLUMNS.items():
                present = {c["name"] for c in inspector.get_columns(table)}
                for name, ddl in columns.items():
                    if name not in present:
                        connection.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN {name} {ddl}")
            for index, on in LIST_INDEXES.items():
                connection.exec_driver_sql(f"CREATE INDEX IF NOT EXISTS {index} ON {on}")
            trigram_indexes(connection)
            backfill(session)

        self._run(create)

    # --- intake -------------------------------------------------------------------------------

    def intake(
        self,
        procedure: Procedure,
        documents: Sequence[DocumentIn],
        *,
        received_at: dt.datetime | None = None,
        citizen_name: str | None = None,
        channel: str | None = None,
        contact: Contact | None = None,
    ) -> IntakeResult:
        """Register a dossier, or return the one already registered for the same files;
        `channel` is how it came (online, desk, post); `contact` the citizen's phone/e-mail
        and consent to notices (kept as first given when the same files come again)."""
        if not documents:
            raise BadArgumentError("a dossier needs at least one document")
        if channel is not None and channel not in CHANNELS:
            raise BadArgumentError(
                f"channel {channel!r} is not one of {', '.join(CHANNELS)}",
                hint="online, desk or post",
            )
        at = to_local(received_at or self._clock())
        key = idempotency_key(procedure.key, (d.sha256 for d in documents))
        documents = suggested(procedure, documents)
        missing = missing_components(procedure, (d.component for d in documents))
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
                channel=channel,
                citizen_phone=contact.phone if contact else None,
                citizen_email=contact.email if contact else None,
                notice_consent=bool(contact and contact.consent),
            )
            row.documents = [document_row(i, d) for i, d in enumerate(documents, start=1)]
            row.history = [StatusChangeRow(status=status.value, at=at, note=None)]
            session.add(row)
            session.flush()
            return row, True

        try:
            row_created = self._run(lambda s: _snapshot_with(s, create(s)))
        except IntegrityError:
            # Another process registered the same files between our lookup and our insert.
            existing = self._run(lambda s: maybe_snapshot(_by_key(s, key)))
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
        return self._run(lambda s: snapshot(_advance(self._row(s, code), status, when, note)))

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
            return snapshot(row)

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
            _check_supplement(row, [(d.path, d.sha256) for d in documents])
            documents_in = suggested(procedure, documents)
            start = max((d.position for d in row.documents), default=0)
            for i, d in enumerate(documents_in, start=start + 1):
                row.documents.append(document_row(i, d))
            asked = list(row.missing_components or ())
            row.missing_components = missing_components(
                procedure, (d.component for d in row.documents)
            )
            if not row.missing_components:
                # The time limit counts from the receipt of the complete dossier.
                row.due_date = due_date(procedure, self.calendar, when)
                accepted = any(h.status == Status.processing.value for h in row.history)
                row.status = (Status.processing if accepted else Status.received).value
                note = "bổ sung đủ: " + ", ".join(asked) if asked else "bổ sung đủ"
                row.history.append(StatusChangeRow(status=row.status, at=when, note=note))
            session.flush()
            return snapshot(row)

        return self._run(supply)

    def check_supplement(self, code: str, files: Sequence[tuple[str, str]]) -> None:
        """`supplement_received` would take these (path, SHA-256) files; else its error."""
        self._run(lambda s: _check_supplement(self._row(s, code), files))

    def mark_result_signed(self, code: str, *, at: dt.datetime | None = None) -> Dossier:
        return self.advance(code, Status.result_signed, at=at)

    def mark_returned(
        self, code: str, *, at: dt.datetime | None = None, note: str | None = None
    ) -> Dossier:
        """The result was handed over; `note` says to whom and how (in person, by post)."""
        return self.advance(code, Status.returned, at=at, note=note)

    def refuse(
        self, code: str, reasons: Sequence[str], *, at: dt.datetime | None = None
    ) -> Dossier:
        """The dossier is refused (Mẫu 03) for the stated reasons; it is kept, not deleted."""
        clean = [nfc(r.strip()) for r in reasons if r and r.strip()]
        if not clean:
            raise BadArgumentError(
                f"từ chối hồ sơ {code} phải nêu rõ lý do", hint='--reason "..." (có thể lặp lại)'
            )
        return self.advance(code, Status.refused, at=at, note="; ".join(clean))

    def withdraw(self, code: str, requested_by: str, *, at: dt.datetime | None = None) -> Dossier:
        """The citizen withdrew the dossier (rút hồ sơ): recorded with who asked."""
        who = nfc(requested_by.strip()) if requested_by else ""
        if not who:
            raise BadArgumentError(
                f"rút hồ sơ {code} phải ghi người đề nghị rút", hint='--requested-by "Họ tên"'
            )
        return self.advance(code, Status.withdrawn, at=at, note=f"người đề nghị rút: {who}")

    def change_procedure(
        self, code: str, procedure: Procedure, *, at: dt.datetime | None = None
    ) -> Dossier:
        """Before acceptance, the dossier belongs to another procedure: its components are
        re-suggested from the documents' kinds, completeness and the due date recomputed."""
        when = to_local(at or self._clock())

        def change(session: Session) -> Dossier:
            row = self._row(session, code)
            if Status(row.status) not in BEFORE_ACCEPTANCE:
                raise CheckFailedError(
                    f"hồ sơ {code} đã được chuyển giải quyết; không đổi được thủ tục",
                    hint="chỉ đổi thủ tục trước khi tiếp nhận chuyển giải quyết",
                )
            if row.procedure_key == procedure.key:
                raise BadArgumentError(f"hồ sơ {code} đã thuộc thủ tục {procedure.key}")
            old = row.procedure_key
            known = {c.kind for c in procedure.components}
            for d in row.documents:
                keep = d.component_confirmed and d.component in known
                d.component = d.component if keep else (d.kind if d.kind in known else None)
                d.component_confirmed = keep
            row.procedure_key = procedure.key
            self._recompute(row, procedure, when, note=f"đổi thủ tục từ {old}")
            session.flush()
            return snapshot(row)

        return self._run(change)

    def assign_components(
        self,
        code: str,
        procedure: Procedure,
        assignment: Mapping[int, str | None],
        *,
        at: dt.datetime | None = None,
    ) -> Dossier:
        """The clerk confirms or changes which component each document is (position → key, None
        for other paper); positions not named keep their assignment and are confirmed too."""
        when = to_local(at or self._clock())

        def assign(session: Session) -> Dossier:
            row = self._row(session, code)
            if Status(row.status) not in BEFORE_ACCEPTANCE:
                raise CheckFailedError(
                    f"hồ sơ {code} đã được chuyển giải quyết; thành phần hồ sơ đã chốt",
                    hint="chỉ xác nhận thành phần trước khi tiếp nhận chuyển giải quyết",
                )
            positions = {d.position: d for d in row.documents}
            unknown = sorted(p for p in assignment if p not in positions)
            if unknown:
                raise BadArgumentError(f"hồ sơ {code} không có tài liệu số {unknown[0]}")
            known = {c.kind for c in procedure.components}
            bad = sorted({k for k in assignment.values() if k is not None and k not in known})
            if bad:
                raise BadArgumentError(
                    f"“{bad[0]}” không phải thành phần của thủ tục {procedure.key}",
                    hint="dùng một trong: " + ", ".join(sorted(known)),
                )
            for position, d in positions.items():
                if position in assignment:
                    d.component = assignment[position]
                d.component_confirmed = True
            if Status(row.status) is Status.received or row.due_date is None:
                self._recompute(row, procedure, when, note="xác nhận thành phần hồ sơ")
            session.flush()
            return snapshot(row)

        return self._run(assign)

    def set_archive_pending(self, code: str, reason: str | None) -> Dossier:
        """Mark the dossier "chưa lưu trữ" (`reason`: why the last attempt failed, "" while one
        runs), or archived (`None`)."""

        def store(session: Session) -> Dossier:
            row = self._row(session, code)
            row.archive_pending = None if reason is None else reason[:500]
            session.flush()
            return snapshot(row)

        return self._run(store)

    def unarchived(self) -> list[Dossier]:
        """Dossiers taken in whose papers are not archived yet, oldest first."""

        def read(session: Session) -> list[Dossier]:
            rows = session.scalars(
                select(DossierRow)
                .where(DossierRow.archive_pending.is_not(None))
                .order_by(DossierRow.received_at)
            )
            return [snapshot(row) for row in rows]

        return self._run(read)

    def assign(self, code: str, assignee: str | None) -> Dossier:
        """Assign the dossier to the officer with login `assignee` (None: nobody)."""

        def store(session: Session) -> Dossier:
            row = self._row(session, code)
            row.assignee = assignee
            session.flush()
            return snapshot(row)

        return self._run(store)

    def set_result_number(self, code: str, number: str) -> Dossier:
        """Keep the number the result is issued under (allocated once, never reused)."""

        def store(session: Session) -> Dossier:
            row = self._row(session, code)
            if row.result_number and row.result_number != number:
                raise CheckFailedError(
                    f"kết quả của hồ sơ {code} đã mang số {row.result_number}",
                    hint="số kết quả cấp một lần, không cấp lại",
                )
            row.result_number = number
            session.flush()
            return snapshot(row)

        return self._run(store)

    def _recompute(
        self, row: DossierRow, procedure: Procedure, when: dt.datetime, *, note: str
    ) -> None:
        """Completeness from the assignment; a dossier that became complete or incomplete before
        acceptance changes status, and its time limit counts from `when`."""
        missing = missing_components(procedure, (d.component for d in row.documents))
        row.missing_components = missing
        if missing and row.status != Status.supplement_requested.value:
            row.status = Status.supplement_requested.value
            row.due_date = None
            row.history.append(StatusChangeRow(status=row.status, at=when, note=note))
        elif not missing and row.status == Status.supplement_requested.value:
            row.status = Status.received.value
            row.due_date = due_date(procedure, self.calendar, when)
            row.history.append(StatusChangeRow(status=row.status, at=when, note=note))
        elif not missing and row.due_date is None:
            row.due_date = due_date(procedure, self.calendar, when)

    def record_apology(
        self, code: str, new_due_date: dt.date, *, at: dt.datetime | None = None
    ) -> Dossier:
        """A late dossier's apology letter (Mẫu 04) was issued with `new_due_date`."""
        when = to_local(at or self._clock())

        def record(session: Session) -> Dossier:
            row = self._row(session, code)
            if row.due_date is not None and new_due_date <= row.due_date:
                raise BadArgumentError(
                    f"ngày hẹn mới {new_due_date:%d/%m/%Y} phải sau ngày hẹn trả "
                    f"{row.due_date:%d/%m/%Y} của hồ sơ {code}",
                    hint="chọn một ngày sau ngày hẹn trả",
                )
            row.new_due_date = new_due_date
            row.apology_issued_at = when
            session.flush()
            return snapshot(row)

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
                new = nfc_value(raw)
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
            return snapshot(row)

        return self._run(correct)

    # --- reading ------------------------------------------------------------------------------

    def get(self, code: str) -> Dossier:
        parse_code(code)
        return self._run(lambda s: snapshot(self._row(s, code)))

    def find_by_files(self, procedure_key: str, hashes: Iterable[str]) -> Dossier | None:
        key = idempotency_key(procedure_key, hashes)
        return self._run(lambda s: maybe_snapshot(_by_key(s, key)))

    def list(
        self,
        *,
        statuses: Iterable[Status] = (),
        procedure_key: str | None = None,
        received_from: dt.date | None = None,
        received_to: dt.date | None = None,
    ) -> list[Dossier]:
        """Dossiers in code order, filtered by status, procedure and receipt day (inclusive)."""
        where = conditions(ListQuery(tuple(statuses), procedure_key, received_from, received_to))

        def query(session: Session) -> list[Dossier]:
            stmt = select(DossierRow).options(
                selectinload(DossierRow.documents), selectinload(DossierRow.history)
            )
            stmt = stmt.where(*where).order_by(DossierRow.received_at, DossierRow.id)
            rows = session.execute(stmt)
            return [snapshot(r) for r in rows.scalars()]

        return self._run(query)

    def page(
        self,
        query: ListQuery,
        *,
        limit: int = 50,
        cursor: str | None = None,
        offset: int = 0,
    ) -> Page:
        """One page of the list, filtered and sorted in SQL, with the total (`dossiers.listing`)."""
        return self._run(lambda s: list_page(s, query, limit=limit, cursor=cursor, offset=offset))

    def overdue(self, today: dt.date, *, without_apology: bool = False) -> builtins.list[Dossier]:
        """Unresolved dossiers past their due date on `today` (Vietnam day).

        With `without_apology`, only those still owed the apology letter (Mẫu 04): offices are
        judged on late dossiers left without one.
        """
        unresolved = [s for s in Status if s not in RESOLVED | CLOSED]
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
            with self._sessions() as session, session.begin():
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


def _check_supplement(row: DossierRow, files: Sequence[tuple[str, str]]) -> None:
    if row.status != Status.supplement_requested.value:
        raise BadArgumentError(
            f"hồ sơ {row.code} ({Status(row.status).label_vi}) không chờ bổ sung",
            hint="chỉ hồ sơ đang chờ bổ sung mới nhận giấy tờ bổ sung",
        )
    known = {d.sha256 for d in row.documents}
    again = [path for path, digest in files if digest.lower() in known]
    if again:
        raise BadArgumentError(
            f"tệp {file_name(again[0])} đã có trong hồ sơ {row.code}",
            hint="chỉ nộp các giấy tờ bổ sung mới",
        )


def _by_key(session: Session, key: str) -> DossierRow | None:
    return session.execute(
        select(DossierRow).where(DossierRow.idempotency_key == key)
    ).scalar_one_or_none()


def _snapshot_with(session: Session, pair: tuple[DossierRow, bool]) -> tuple[Dossier, bool]:
    return snapshot(pair[0]), pair[1]
