"""Record locks in the catalogue database: one put of a record at a time, across processes.

A lock is a row in `archive_record_locks`, taken by an INSERT that the primary key makes unique
(SQLite and PostgreSQL alike) and removed when the put ends. A second writer's INSERT fails and
it is told at once (`RecordBusyError`), rather than racing the first one in the store. A row
left by a process that died is taken over: at once when its holder was a process on this host
that no longer runs, otherwise once it is older than `stale_after`.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Column, DateTime, MetaData, String, Table, delete, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError

from motcua.errors import CheckFailedError, ServiceUnavailableError

log = logging.getLogger(__name__)

_metadata = MetaData()

record_locks = Table(
    "archive_record_locks",
    _metadata,
    Column("record_id", String(32), primary_key=True),
    Column("holder", String(200), nullable=False),  # host:pid:token
    Column("acquired_at", DateTime(timezone=True), nullable=False),
)


class RecordBusyError(CheckFailedError):
    """Another put of the same record is running; nothing of this one was written."""


def _alive_here(holder: str) -> bool | None:
    """Whether the holding process still runs, when it ran on this host (None: cannot tell)."""
    host, _, rest = holder.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return None
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class RecordLocks:
    """Locks on record ids, kept in the catalogue's database."""

    def __init__(self, engine: Engine, stale_after: dt.timedelta = dt.timedelta(hours=6)) -> None:
        self.engine = engine
        self.stale_after = stale_after
        self._created = False

    def _ensure(self) -> None:
        if self._created:
            return
        for attempt in range(5):
            try:
                with self.engine.begin() as conn:
                    _metadata.create_all(conn)
                break
            except SQLAlchemyError:
                # another process created the table in the same instant (PostgreSQL: duplicate
                # type; SQLite: database locked): it exists now, or the next try says why not
                if attempt == 4:
                    raise
                time.sleep(0.05 * (attempt + 1))
        self._created = True

    def _insert(self, record_id: str, holder: str) -> bool:
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(record_locks).values(
                        record_id=record_id, holder=holder, acquired_at=dt.datetime.now(dt.UTC)
                    )
                )
            return True
        except IntegrityError:
            return False
        except OperationalError as exc:  # SQLite: another writer held the file past the timeout
            if "locked" in str(exc).lower():
                return False
            raise

    def _take_over_dead(self, record_id: str) -> bool:
        """Remove the row of a holder that died; True when one was removed."""
        with self.engine.begin() as conn:
            row = conn.execute(
                select(record_locks.c.holder, record_locks.c.acquired_at).where(
                    record_locks.c.record_id == record_id
                )
            ).first()
            if row is None:
                return True  # released in the meantime
            acquired = row.acquired_at
            if acquired.tzinfo is None:  # SQLite returns naive datetimes
                acquired = acquired.replace(tzinfo=dt.UTC)
            stale = dt.datetime.now(dt.UTC) - acquired > self.stale_after
            if _alive_here(row.holder) is False or stale:
                removed = conn.execute(
                    delete(record_locks).where(
                        record_locks.c.record_id == record_id,
                        record_locks.c.holder == row.holder,
                    )
                ).rowcount
                if removed:
                    log.warning("record %s: took over a lock left by a stopped put", record_id)
                return bool(removed)
        return False

    @contextmanager
    def hold(self, record_id: str) -> Iterator[None]:
        """Hold the lock on `record_id` for the block, or raise `RecordBusyError` at once."""
        holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
        try:
            self._ensure()
            taken = self._insert(record_id, holder)
            if not taken and self._take_over_dead(record_id):
                taken = self._insert(record_id, holder)
        except SQLAlchemyError as exc:
            raise ServiceUnavailableError(
                f"the catalogue database cannot lock record {record_id} ({exc.__class__.__name__})",
                hint="check MOTCUA_CATALOG_URL and that the database server runs",
            ) from None
        if not taken:
            raise RecordBusyError(
                f"hồ sơ lưu trữ {record_id} đang được một tiến trình khác ghi (another put of "
                "this record is running); chưa ghi gì từ lần này",
                hint="chờ lần ghi kia xong rồi chạy lại: lệnh ghi lặp lại là an toàn "
                "(wait for it to finish, then run the same command again)",
            )
        try:
            yield
        finally:
            try:
                with self.engine.begin() as conn:
                    conn.execute(
                        delete(record_locks).where(
                            record_locks.c.record_id == record_id,
                            record_locks.c.holder == holder,
                        )
                    )
            except SQLAlchemyError as exc:  # the row goes stale and is taken over later
                log.warning("record %s: lock not released (%s)", record_id, type(exc).__name__)


__all__ = ["RecordBusyError", "RecordLocks", "record_locks"]
