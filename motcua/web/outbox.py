"""The e-office events' outbox: stored before they are sent, sent in order, replayable.

Every status change's event is first a row of `web_outbox`, in the catalogue database beside the
audit journal, then a delivery. `Outbox.add` stores it; `deliver_pending` sends what is due,
oldest first, and stops at the first event the receiver does not take, so the e-office system
sees events in the order they happened; that event waits a back-off that doubles per failed round
(`retry_base` up to `retry_max` seconds) before it is tried again. The event's id is the body's
`id` and the `X-Motcua-Delivery` header on every attempt and every replay: receivers de-duplicate
on it.

A process that ends with events unsent (a CLI command while the e-office system is down, a server
killed between the event and its delivery) leaves them in the table, and the next delivery by any
process sends them: the next event anywhere, the web server's poll (`MOTCUA_WEBHOOK_POLL_SECONDS`),
or `motcua webhooks deliver`. One process delivers at a time (a lease in `web_outbox_lease`,
renewed per event), so two doors never interleave their sends. `replay` sends chosen events again
(`motcua webhooks replay --since ISO | --event ID`), in their original order.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import httpx
from sqlalchemy import JSON, CursorResult, Engine, Integer, String, Text, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from dossiers.models import UtcDateTime
from motcua.errors import BadArgumentError, MotcuaError
from motcua.web.db import run
from motcua.web.models import WebBase, tables_named
from motcua.web.webhooks import WebhookTarget, deliver

log = logging.getLogger("motcua.web.outbox")

_LEASE_ID = 1


class OutboxRow(WebBase):
    __tablename__ = "web_outbox"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(36), nullable=False, unique=True)
    event: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    occurred_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, nullable=False, index=True)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, index=True)
    rounds: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)


class OutboxLeaseRow(WebBase):
    __tablename__ = "web_outbox_lease"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(120))
    expires_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


@dataclass(frozen=True)
class OutboxEvent:
    seq: int
    id: str
    event: str
    data: dict[str, Any]
    occurred_at: dt.datetime
    delivered_at: dt.datetime | None
    rounds: int
    next_attempt_at: dt.datetime | None
    last_error: str | None

    @classmethod
    def of(cls, row: OutboxRow) -> OutboxEvent:
        return cls(row.seq, row.id, row.event, dict(row.data), row.occurred_at, row.delivered_at,
                   row.rounds, row.next_attempt_at, row.last_error)  # fmt: skip

    def as_json(self) -> dict[str, Any]:
        def iso(moment: dt.datetime | None) -> str | None:
            return moment.isoformat(timespec="seconds") if moment else None

        return {
            "seq": self.seq,
            "id": self.id,
            "event": self.event,
            "occurred_at": iso(self.occurred_at),
            "delivered_at": iso(self.delivered_at),
            "rounds": self.rounds,
            "next_attempt_at": iso(self.next_attempt_at),
            "last_error": self.last_error,
            "data": self.data,
        }


@dataclass(frozen=True)
class Round:
    """What one delivery (or replay) round did."""

    delivered: tuple[str, ...] = ()
    failed: str | None = None  # the event that stopped the round
    error: str | None = None
    waiting: int = 0  # events still unsent after the round
    retry_at: dt.datetime | None = None
    busy: bool = False  # another process holds the lease and is delivering

    @property
    def ok(self) -> bool:
        return self.failed is None

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "delivered": list(self.delivered),
            "failed": self.failed,
            "error": self.error,
            "waiting": self.waiting,
            "retry_at": self.retry_at.isoformat(timespec="seconds") if self.retry_at else None,
            "busy": self.busy,
        }


@dataclass
class Outbox:
    """The outbox on `engine`, delivering to `target`."""

    engine: Engine
    target: WebhookTarget
    retry_base: float = 5.0
    retry_max: float = 3600.0
    lease_seconds: float = 120.0
    clock: Callable[[], dt.datetime] = field(default=lambda: dt.datetime.now(dt.UTC))
    _me: str = field(init=False)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)
    _thread: threading.Thread | None = field(init=False, default=None)
    _again: bool = field(init=False, default=False)
    _timer: threading.Timer | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self._me = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    def create_tables(self) -> None:
        def create(session: Session) -> None:
            WebBase.metadata.create_all(
                session.connection(), tables=tables_named("web_outbox", "web_outbox_lease")
            )
            if session.get(OutboxLeaseRow, _LEASE_ID) is None:
                session.add(OutboxLeaseRow(id=_LEASE_ID))

        with contextlib.suppress(IntegrityError):  # another process made the lease row first
            run(self.engine, create, what="webhook outbox")

    # -- storing and reading --------------------------------------------------------------------

    def add(self, event: str, data: Mapping[str, Any]) -> OutboxEvent:
        """Store one event; it is sent by the next delivery round."""
        row = OutboxRow(id=str(uuid.uuid4()), event=event, data=dict(data),
                        occurred_at=self.clock(), rounds=0)  # fmt: skip

        def work(session: Session) -> OutboxEvent:
            session.add(row)
            session.flush()
            return OutboxEvent.of(row)

        return run(self.engine, work, what="webhook outbox")

    def events(
        self,
        *,
        since: dt.datetime | None = None,
        event_id: str | None = None,
        pending: bool = False,
        limit: int = 1000,
    ) -> list[OutboxEvent]:
        """Events oldest first: all, from `since`, the one `event_id`, or only the unsent."""
        stmt = select(OutboxRow).order_by(OutboxRow.seq).limit(limit)
        if since is not None:
            stmt = stmt.where(OutboxRow.occurred_at >= since)
        if event_id is not None:
            stmt = stmt.where(OutboxRow.id == event_id)
        if pending:
            stmt = stmt.where(OutboxRow.delivered_at.is_(None))
        return run(self.engine, lambda s: [OutboxEvent.of(r) for r in s.scalars(stmt)],
                   what="webhook outbox")  # fmt: skip

    def _waiting(self) -> int:
        stmt = select(func.count()).select_from(OutboxRow).where(OutboxRow.delivered_at.is_(None))
        return run(self.engine, lambda s: int(s.execute(stmt).scalar_one()), what="webhook outbox")

    # -- the lease: one deliverer at a time -------------------------------------------------------

    def _claim(self) -> bool:
        now = self.clock()
        free = or_(
            OutboxLeaseRow.holder.is_(None),
            OutboxLeaseRow.holder == self._me,
            OutboxLeaseRow.expires_at < now,
        )
        stmt = (
            update(OutboxLeaseRow)
            .where(OutboxLeaseRow.id == _LEASE_ID, free)
            .values(holder=self._me, expires_at=now + dt.timedelta(seconds=self.lease_seconds))
        )

        def claim(session: Session) -> bool:
            return cast("CursorResult[Any]", session.execute(stmt)).rowcount == 1

        return run(self.engine, claim, what="webhook outbox")

    def _release(self) -> None:
        stmt = (
            update(OutboxLeaseRow)
            .where(OutboxLeaseRow.id == _LEASE_ID, OutboxLeaseRow.holder == self._me)
            .values(holder=None, expires_at=None)
        )
        run(self.engine, lambda s: s.execute(stmt), what="webhook outbox")

    # -- delivering -------------------------------------------------------------------------------

    def _send(self, item: OutboxEvent, client: httpx.Client | None) -> str | None:
        """Deliver one event (with the target's own retries); the error, or None when taken."""
        try:
            deliver(self.target, item.event, item.data, client=client, delivery_id=item.id,
                    occurred_at=item.occurred_at)  # fmt: skip
        except MotcuaError as exc:
            return exc.message
        return None

    def _record(self, item: OutboxEvent, error: str | None) -> dt.datetime | None:
        """Write the outcome of one round for `item`; the time of its next try when it failed."""
        now = self.clock()
        rounds = item.rounds + 1
        retry_at = None
        if error is None:
            values: dict[str, Any] = {"delivered_at": now, "rounds": rounds,
                                      "next_attempt_at": None, "last_error": None}  # fmt: skip
        else:
            delay = min(self.retry_max, self.retry_base * 2 ** (rounds - 1))
            retry_at = now + dt.timedelta(seconds=delay)
            values = {"rounds": rounds, "next_attempt_at": retry_at, "last_error": error}
        stmt = update(OutboxRow).where(OutboxRow.seq == item.seq).values(**values)
        run(self.engine, lambda s: s.execute(stmt), what="webhook outbox")
        return retry_at

    def deliver_pending(self, *, client: httpx.Client | None = None, now: bool = False) -> Round:
        """Send the unsent events that are due, oldest first, until one is not taken.

        `now`: do not wait for the back-off of an event that failed (a person asked for it).
        """
        if not self._claim():
            return Round(waiting=self._waiting(), busy=True)
        delivered: list[str] = []
        try:
            while True:
                due = self.events(pending=True, limit=1)
                if not due:
                    return Round(tuple(delivered))
                item = due[0]
                wait_until = item.next_attempt_at
                if wait_until is not None and wait_until > self.clock() and not now:
                    return Round(tuple(delivered), waiting=self._waiting(),
                                 retry_at=item.next_attempt_at)  # fmt: skip
                error = self._send(item, client)
                retry_at = self._record(item, error)
                if error is not None:
                    log.warning("webhook %s (%s) not delivered: %s", item.event, item.id, error)
                    return Round(tuple(delivered), item.id, error, self._waiting(), retry_at)
                delivered.append(item.id)
                self._claim()  # renew the lease for the next event
        finally:
            self._release()

    def replay(
        self,
        *,
        since: dt.datetime | None = None,
        event_id: str | None = None,
        client: httpx.Client | None = None,
    ) -> Round:
        """Send the chosen events again, delivered or not, in their order; stops at a failure."""
        if since is None and event_id is None:
            raise BadArgumentError(
                "chọn sự kiện gửi lại: từ một thời điểm hoặc theo mã sự kiện",
                hint="motcua webhooks replay --since 2026-12-01T00:00 | --event ID",
            )
        chosen = self.events(since=since, event_id=event_id, limit=100_000)
        if event_id is not None and not chosen:
            raise BadArgumentError(f"không có sự kiện {event_id} trong hộp thư đi",
                                   hint="motcua webhooks list")  # fmt: skip
        if not self._claim():
            return Round(waiting=self._waiting(), busy=True)
        delivered: list[str] = []
        try:
            for item in chosen:
                error = self._send(item, client)
                if error is not None:
                    if item.delivered_at is None:
                        self._record(item, error)
                    return Round(tuple(delivered), item.id, error, self._waiting())
                if item.delivered_at is None:
                    self._record(item, None)
                delivered.append(item.id)
                self._claim()
        finally:
            self._release()
        return Round(tuple(delivered), waiting=self._waiting())

    # -- in the background, in this process -------------------------------------------------------

    def kick(self) -> None:
        """Deliver in a background thread now (one thread per process; a busy one goes again)."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                self._again = True
                return
            self._thread = threading.Thread(target=self._background, name="motcua-outbox",
                                            daemon=True)  # fmt: skip
            self._thread.start()

    def _background(self) -> None:
        while True:
            outcome: Round | None = None
            try:
                outcome = self.deliver_pending()
            except MotcuaError as exc:
                log.warning("webhook outbox: %s", exc.message)
            with self._lock:
                if self._again:
                    self._again = False
                    continue
                self._thread = None
                if outcome is not None and outcome.retry_at is not None:
                    self._retry_later(outcome.retry_at)
                return

    def _retry_later(self, when: dt.datetime) -> None:
        if self._timer is not None:
            self._timer.cancel()
        delay = max(0.0, (when - self.clock()).total_seconds()) + 0.05
        self._timer = threading.Timer(delay, self.kick)
        self._timer.daemon = True
        self._timer.start()

    def wait_idle(self, timeout: float) -> bool:
        """Wait up to `timeout` s for this process's delivery thread; True when it finished."""
        with self._lock:
            thread = self._thread
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True

    def close(self, timeout: float) -> None:
        """At the end of a process: wait up to `timeout` s for the delivery under way, then give
        the lease back, so other processes need not wait for it to expire."""
        self.wait_idle(timeout)
        self.stop()
        try:
            self._release()
        except MotcuaError as exc:
            log.warning("webhook outbox: %s", exc.message)

    def poll(self, every: float, stop: threading.Event) -> threading.Thread:
        """Kick a delivery every `every` seconds until `stop` is set (the web server's loop)."""

        def loop() -> None:
            self.kick()
            while not stop.wait(every):
                self.kick()

        thread = threading.Thread(target=loop, name="motcua-outbox-poll", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
