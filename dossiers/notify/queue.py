"""The notices' queue: each message a row of `dossier_notices` before any send is tried.

`add` stores; `deliver_pending` sends every due message, each claimed first with a short lease
(so two processes never send one twice), and records the outcome: sent, or the next attempt
after a back-off doubling per failure (`retry_base` up to `retry_max` s), or given up after
`max_rounds` or a permanent refusal. A process that ends with messages unsent leaves them for
the next delivery by any process. Logs name the dossier code and the channel only.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import CursorResult, Engine, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from dossiers.models import NoticeRow
from dossiers.notify.adapters import Adapter, SendError
from motcua.errors import ServiceUnavailableError

log = logging.getLogger("dossiers.notify")


@dataclass(frozen=True)
class Notice:
    id: int
    dossier_code: str
    kind: str
    channel: str
    recipient: str
    subject: str
    body: str
    rounds: int
    sent_at: dt.datetime | None
    last_error: str | None
    gave_up_at: dt.datetime | None

    @classmethod
    def of(cls, r: NoticeRow) -> Notice:
        return cls(r.id, r.dossier_code, r.kind, r.channel, r.recipient, r.subject, r.body,
                   r.rounds, r.sent_at, r.last_error, r.gave_up_at)  # fmt: skip


@dataclass
class NoticeQueue:
    engine: Engine
    adapters: Mapping[str, Adapter]  # channel → adapter
    retry_base: float = 30.0
    retry_max: float = 3600.0
    max_rounds: int = 12
    lease_seconds: float = 120.0
    clock: Callable[[], dt.datetime] = field(default=lambda: dt.datetime.now(dt.UTC))
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)
    _thread: threading.Thread | None = field(init=False, default=None)
    _again: bool = field(init=False, default=False)

    def _run(self, work: Callable[[Session], Any]) -> Any:
        try:
            with Session(self.engine, expire_on_commit=False) as session, session.begin():
                return work(session)
        except SQLAlchemyError as exc:
            raise ServiceUnavailableError(
                f"notice queue: {type(exc).__name__}", hint="check that the database is reachable"
            ) from None

    def add(self, dossier_code: str, kind: str, channel: str, recipient: str, subject: str,
            body: str) -> int:  # fmt: skip
        row = NoticeRow(dossier_code=dossier_code, kind=kind, channel=channel, recipient=recipient,
                        subject=subject, body=body, created_at=self.clock(), rounds=0)  # fmt: skip

        def store(session: Session) -> int:
            session.add(row)
            session.flush()
            return row.id

        return int(self._run(store))

    def notices(self, dossier_code: str | None = None) -> list[Notice]:
        stmt = select(NoticeRow).order_by(NoticeRow.id)
        if dossier_code is not None:
            stmt = stmt.where(NoticeRow.dossier_code == dossier_code)
        return list(self._run(lambda s: [Notice.of(r) for r in s.scalars(stmt)]))

    def _due_ids(self, now_too: bool = False) -> list[int]:
        now = self.clock()
        stmt = select(NoticeRow.id).where(
            NoticeRow.sent_at.is_(None), NoticeRow.gave_up_at.is_(None)
        )
        if not now_too:
            stmt = stmt.where(
                or_(NoticeRow.next_attempt_at.is_(None), NoticeRow.next_attempt_at <= now)
            )
        stmt = (
            stmt.where(or_(NoticeRow.claimed_until.is_(None), NoticeRow.claimed_until < now))
            .order_by(NoticeRow.id)
            .limit(500)
        )
        return list(self._run(lambda s: list(s.scalars(stmt))))

    def _claim(self, notice_id: int) -> Notice | None:
        now = self.clock()
        stmt = (
            update(NoticeRow)
            .where(NoticeRow.id == notice_id, NoticeRow.sent_at.is_(None))
            .where(or_(NoticeRow.claimed_until.is_(None), NoticeRow.claimed_until < now))
            .values(claimed_until=now + dt.timedelta(seconds=self.lease_seconds))
        )

        def claim(session: Session) -> Notice | None:
            if cast("CursorResult[Any]", session.execute(stmt)).rowcount != 1:
                return None
            return Notice.of(session.get_one(NoticeRow, notice_id))

        return cast("Notice | None", self._run(claim))

    def _record(self, item: Notice, error: SendError | None) -> None:
        now = self.clock()
        rounds = item.rounds + 1
        values: dict[str, Any] = {"rounds": rounds, "claimed_until": None}
        if error is None:
            values.update(sent_at=now, last_error=None, next_attempt_at=None)
        else:
            values["last_error"] = error.reason
            if error.permanent or rounds >= self.max_rounds:
                values["gave_up_at"] = now
            else:
                delay = min(self.retry_max, self.retry_base * 2 ** (rounds - 1))
                values["next_attempt_at"] = now + dt.timedelta(seconds=delay)
        stmt = update(NoticeRow).where(NoticeRow.id == item.id).values(**values)
        self._run(lambda s: s.execute(stmt))

    def deliver_pending(self, now: bool = False) -> tuple[int, int]:
        """Send what is due (`now`: also what waits for its next try); (sent, failed)."""
        sent = failed = 0
        for notice_id in self._due_ids(now_too=now):
            item = self._claim(notice_id)
            if item is None:
                continue  # another process has it
            adapter = self.adapters.get(item.channel)
            if adapter is None:
                error: SendError | None = SendError(f"no {item.channel} adapter configured")
            else:
                try:
                    adapter.send(item.recipient, item.subject, item.body,
                                 dossier_code=item.dossier_code)  # fmt: skip
                    error = None
                except SendError as exc:
                    error = exc
            self._record(item, error)
            if error is None:
                sent += 1
                log.info("notice %s of %s sent by %s", item.kind, item.dossier_code, item.channel)
            else:
                failed += 1
                log.warning("notice %s of %s by %s not sent: %s", item.kind, item.dossier_code,
                            item.channel, error.reason)  # fmt: skip
        return sent, failed

    def kick(self) -> None:
        """Deliver in a background thread now (one per process; a busy one goes round again)."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                self._again = True
                return
            self._thread = threading.Thread(target=self._background, name="motcua-notices",
                                            daemon=True)  # fmt: skip
            self._thread.start()

    def _background(self) -> None:
        while True:
            try:
                self.deliver_pending()
            except ServiceUnavailableError as exc:
                log.warning("notices: %s", exc.message)
            with self._lock:
                if self._again:
                    self._again = False
                    continue
                self._thread = None
                return

    def poll(self, every: float, stop: threading.Event) -> threading.Thread:
        """Deliver every `every` seconds until `stop` is set (the web server's loop)."""

        def loop() -> None:
            self.kick()
            while not stop.wait(every):
                self.kick()

        thread = threading.Thread(target=loop, name="motcua-notices-poll", daemon=True)
        thread.start()
        return thread

    def wait_idle(self, timeout: float) -> bool:
        with self._lock:
            thread = self._thread
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True
