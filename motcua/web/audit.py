"""An append-only audit log of who did what to which dossier or record, hash-chained.

Each entry stores the previous entry's hash and its own: SHA-256 over a canonical JSON of its
number, time, actor, action, target and details plus the previous hash. `verify_chain()` walks
the log and reports an edited entry (its hash no longer matches), a deleted one (a gap in the
numbers or a broken link) and entries cut from the end (the head row disagrees). Triggers refuse
UPDATE and DELETE on `web_audit` on SQLite and PostgreSQL, so tampering needs someone who can
drop them; anchoring `head()` outside the database (the WORM archive) is what catches a rewrite
of the whole chain by such a person.

Usable from any layer that has a database URL or engine: `AuditLog(url).append(...)`. Details
must not carry personal data (ID numbers, citizens' names): use codes and counts.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_random

from motcua.errors import BadArgumentError
from motcua.web.db import open_engine, run
from motcua.web.models import AuditHeadRow, AuditRow, WebBase, tables_named

GENESIS = "0" * 64
_HEAD_ID = 1

_SQLITE_TRIGGERS = [
    "CREATE TRIGGER IF NOT EXISTS web_audit_no_update BEFORE UPDATE ON web_audit "
    "BEGIN SELECT RAISE(ABORT, 'web_audit is append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS web_audit_no_delete BEFORE DELETE ON web_audit "
    "BEGIN SELECT RAISE(ABORT, 'web_audit is append-only'); END",
]
_POSTGRES_TRIGGERS = [
    "CREATE OR REPLACE FUNCTION web_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'web_audit is append-only'; END $$",
    "CREATE OR REPLACE TRIGGER web_audit_no_change BEFORE UPDATE OR DELETE ON web_audit "
    "FOR EACH ROW EXECUTE FUNCTION web_audit_append_only()",
]

_PROBLEM_VI = {
    "edited": "Bản ghi đã bị sửa",
    "missing": "Thiếu bản ghi (đã bị xóa)",
    "broken_link": "Chuỗi liên kết bị đứt",
    "truncated": "Các bản ghi cuối đã bị xóa",
}


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: dt.datetime  # UTC
    actor: str  # "user:lan", "token:ioffice", "system:flows"
    action: str  # "dossier.returned", "auth.login" ...
    target_kind: str  # "dossier", "record", "user", "token", "session"
    target_id: str
    details: Mapping[str, Any]
    prev_hash: str
    hash: str

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at.isoformat(),
            "actor": self.actor,
            "action": self.action,
            "target_kind": self.target_kind,
            "target_id": self.target_id,
            "details": dict(self.details),
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    kind: str  # edited | missing | broken_link | truncated
    message: str

    @property
    def label_vi(self) -> str:
        return _PROBLEM_VI[self.kind]


@dataclass(frozen=True)
class ChainReport:
    entries: int
    head_seq: int
    head_hash: str
    problems: tuple[ChainProblem, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "head_seq": self.head_seq,
            "head_hash": self.head_hash,
            "problems": [
                {"seq": p.seq, "kind": p.kind, "message": p.message} for p in self.problems
            ],
        }


def entry_hash(
    *,
    seq: int,
    at: dt.datetime,
    actor: str,
    action: str,
    target_kind: str,
    target_id: str,
    details: Mapping[str, Any],
    prev_hash: str,
) -> str:
    """SHA-256 (hex) of the entry's canonical JSON; `at` in UTC to the microsecond."""
    moment = at.astimezone(dt.UTC).isoformat(timespec="microseconds")
    material = [seq, moment, actor, action, target_kind, target_id, details, prev_hash]
    canonical = json.dumps(material, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class AuditLog:
    """Appends to and reads the audit log in the database at `engine` (an Engine or a URL)."""

    def __init__(
        self, engine: Engine | str, *, clock: Callable[[], dt.datetime] | None = None
    ) -> None:
        self.engine = open_engine(engine) if isinstance(engine, str) else engine
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))

    def create_tables(self) -> None:
        """Create the `web_audit*` tables, the append-only triggers and the head row."""

        def create(session: Session) -> None:
            connection = session.connection()
            WebBase.metadata.create_all(
                connection, tables=tables_named("web_audit", "web_audit_head")
            )
            dialect = connection.dialect.name
            statements = {"sqlite": _SQLITE_TRIGGERS, "postgresql": _POSTGRES_TRIGGERS}
            for statement in statements.get(dialect, []):
                connection.execute(text(statement))
            if session.get(AuditHeadRow, _HEAD_ID) is None:
                session.add(AuditHeadRow(id=_HEAD_ID, seq=0, hash=GENESIS))

        with contextlib.suppress(IntegrityError):  # another process created the head row first
            run(self.engine, create, what="audit log")

    @retry(
        retry=retry_if_exception_type(IntegrityError),
        stop=stop_after_attempt(5),
        wait=wait_random(0.01, 0.1),
        reraise=True,
    )
    def append(
        self,
        *,
        actor: str,
        action: str,
        target_kind: str,
        target_id: str,
        details: Mapping[str, Any] | None = None,
    ) -> AuditEntry:
        """Add one entry at the end of the chain and return it."""
        if not actor or not action or not target_kind:
            raise BadArgumentError("an audit entry names its actor, action and target kind")
        clean = _plain(dict(details or {}))
        at = self._clock().astimezone(dt.UTC)

        def add(session: Session) -> AuditEntry:
            head = session.execute(
                select(AuditHeadRow).where(AuditHeadRow.id == _HEAD_ID).with_for_update()
            ).scalar_one_or_none()
            if head is None:
                raise BadArgumentError(
                    "the audit log has no head row", hint="call AuditLog.create_tables() first"
                )
            seq = head.seq + 1
            digest = entry_hash(
                seq=seq,
                at=at,
                actor=actor,
                action=action,
                target_kind=target_kind,
                target_id=target_id,
                details=clean,
                prev_hash=head.hash,
            )
            row = AuditRow(
                seq=seq,
                at=at,
                actor=actor,
                action=action,
                target_kind=target_kind,
                target_id=target_id,
                details=clean,
                prev_hash=head.hash,
                hash=digest,
            )
            session.add(row)
            head.seq, head.hash = seq, digest
            session.flush()
            return _entry(row)

        return run(self.engine, add, what="audit log")

    def entries(
        self,
        *,
        target_kind: str | None = None,
        target_id: str | None = None,
        actor: str | None = None,
        before_seq: int | None = None,
        limit: int = 100,
    ) -> list[AuditEntry]:
        """Entries newest first, filtered; `before_seq` pages back through the log."""

        def query(session: Session) -> list[AuditEntry]:
            stmt = select(AuditRow)
            if target_kind:
                stmt = stmt.where(AuditRow.target_kind == target_kind)
            if target_id:
                stmt = stmt.where(AuditRow.target_id == target_id)
            if actor:
                stmt = stmt.where(AuditRow.actor == actor)
            if before_seq is not None:
                stmt = stmt.where(AuditRow.seq < before_seq)
            stmt = stmt.order_by(AuditRow.seq.desc()).limit(max(1, min(limit, 1000)))
            return [_entry(r) for r in session.execute(stmt).scalars()]

        return run(self.engine, query, what="audit log")

    def head(self) -> tuple[int, str]:
        """The last entry's number and hash, to anchor outside the database."""

        def read(session: Session) -> tuple[int, str]:
            head = session.get(AuditHeadRow, _HEAD_ID)
            return (0, GENESIS) if head is None else (head.seq, head.hash)

        return run(self.engine, read, what="audit log")

    def verify_chain(self) -> ChainReport:
        """Recompute every hash and link; report what was edited, deleted or cut off."""

        def verify(session: Session) -> ChainReport:
            problems: list[ChainProblem] = []
            expected_seq, expected_prev, count = 1, GENESIS, 0
            for row in _stream(session):
                count += 1
                if row.seq != expected_seq:
                    problems.append(
                        ChainProblem(
                            row.seq,
                            "missing",
                            f"entries {expected_seq}..{row.seq - 1} are missing",
                        )
                    )
                if row.prev_hash != expected_prev:
                    problems.append(
                        ChainProblem(
                            row.seq,
                            "broken_link",
                            f"entry {row.seq} does not link to the entry before it",
                        )
                    )
                recomputed = entry_hash(
                    seq=row.seq,
                    at=row.at,
                    actor=row.actor,
                    action=row.action,
                    target_kind=row.target_kind,
                    target_id=row.target_id,
                    details=row.details,
                    prev_hash=row.prev_hash,
                )
                if recomputed != row.hash:
                    problems.append(ChainProblem(row.seq, "edited", f"entry {row.seq} was changed"))
                expected_seq, expected_prev = row.seq + 1, row.hash
            head = session.get(AuditHeadRow, _HEAD_ID)
            head_seq, head_hash = (0, GENESIS) if head is None else (head.seq, head.hash)
            if head_seq != expected_seq - 1 or head_hash != expected_prev:
                problems.append(
                    ChainProblem(
                        expected_seq,
                        "truncated",
                        f"the head names entry {head_seq}; the log ends at {expected_seq - 1}",
                    )
                )
            return ChainReport(count, head_seq, head_hash, tuple(problems))

        return run(self.engine, verify, what="audit log")


def _stream(session: Session) -> Iterator[AuditRow]:
    result = session.execute(
        select(AuditRow).order_by(AuditRow.seq).execution_options(yield_per=500)
    )
    yield from result.scalars()


def _entry(row: AuditRow) -> AuditEntry:
    return AuditEntry(
        seq=row.seq,
        at=row.at,
        actor=row.actor,
        action=row.action,
        target_kind=row.target_kind,
        target_id=row.target_id,
        details=dict(row.details),
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


def _plain(value: Any) -> Any:
    """JSON values that survive a database round trip unchanged (no floats, no tuples)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, dt.date):
        return value.isoformat()
    raise BadArgumentError(f"audit details take str, int, bool, lists and maps, not {value!r}")
