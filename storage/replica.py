"""The second copy: every archived object also goes to a replica S3 server, or waits for it.

`Replicator` writes each object the archive stores on the primary to the replica's archive
bucket with the same retention (mode and retain-until date). When the replica does not answer
(after a short retry: the primary's write must not wait for it) the copy is queued durably in
`archive_replica_queue`, a table in the catalogue's database, and `flush` sends it later: after
each put, and from the maintenance flow (`motcua archive replicate`, the fixity audit). Once one
object of a put is queued, the rest of that put is queued behind it, so the replica never holds
a manifest before the files it lists. A queued copy is read back from the primary's version and
checked against its SHA-256 before it is sent.
"""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from minio.error import S3Error
from minio.retention import Retention
from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from motcua.errors import CheckFailedError, MotcuaError, ServiceUnavailableError
from storage.objects import Buckets, ObjectStore, OverwriteRefusedError, RetryPolicy
from storage.retention import RetentionPolicy
from storage.s3 import S3Config

log = logging.getLogger(__name__)

PRIMARY = "primary"
REPLICA = "replica"
# After the replica failed, writes go straight to the queue for this long (no wait per put).
_DOWN_FOR = dt.timedelta(seconds=20)

_QUICK = RetryPolicy(attempts=2, wait_initial=0.2, wait_max=1.0)
_metadata = MetaData()

replica_queue = Table(
    "archive_replica_queue",
    _metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),  # the order they were written
    Column("object_key", String(400), nullable=False, index=True),
    Column("version_id", String(200), nullable=True),  # the primary's version to copy
    Column("sha256", String(64), nullable=False),
    Column("size", Integer, nullable=False),
    Column("content_type", String(200), nullable=False),
    Column("mode", String(20), nullable=False),
    Column("retain_until", DateTime(timezone=True), nullable=False),
    Column("queued_at", DateTime(timezone=True), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text, nullable=True),
)


@dataclass(frozen=True)
class ReplicaConfig:
    """Where the second copy goes: an S3 server and its archive bucket."""

    s3: S3Config
    bucket: str | None = None  # the replica's archive bucket; None = the primary's name
    setup: S3Config | None = None  # the replica's set-up identity (bucket creation only)
    resolve_s3: Callable[[], S3Config] | None = None  # where it listens now (embedded store)
    # short: the primary's write waits at most this long before the copy is queued
    retry: RetryPolicy = _QUICK


@dataclass(frozen=True)
class Pending:
    seq: int
    key: str
    version_id: str | None
    sha256: str
    size: int
    content_type: str
    retention: Retention
    attempts: int


@dataclass(frozen=True)
class FlushResult:
    copied: int
    pending: int  # still queued after the flush
    error: str | None = None  # why the flush stopped early

    def as_dict(self) -> dict[str, object]:
        return {"copied": self.copied, "pending": self.pending, "error": self.error}


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


class ReplicaQueue:
    """Copies the replica has not taken yet, in the catalogue's database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._created = False

    def _ensure(self) -> None:
        if not self._created:
            with self.engine.begin() as conn:
                _metadata.create_all(conn)
            self._created = True

    def add(self, key: str, version_id: str | None, sha256: str, size: int, mime: str,
            retention: Retention, error: str) -> None:  # fmt: skip
        self._ensure()
        until = retention.retain_until_date
        with self.engine.begin() as conn:
            conn.execute(
                insert(replica_queue).values(
                    object_key=key,
                    version_id=version_id,
                    sha256=sha256,
                    size=size,
                    content_type=mime,
                    mode=retention.mode,
                    retain_until=until,
                    queued_at=dt.datetime.now(dt.UTC),
                    attempts=0,
                    last_error=error[:500],
                )
            )

    def pending(self, limit: int | None = None) -> list[Pending]:
        self._ensure()
        stmt = select(replica_queue).order_by(replica_queue.c.seq)
        if limit is not None:
            stmt = stmt.limit(limit)
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        return [
            Pending(
                r.seq,
                r.object_key,
                r.version_id,
                r.sha256,
                r.size,
                r.content_type,
                Retention(r.mode, _aware(r.retain_until)),
                r.attempts,
            )
            for r in rows
        ]

    def count(self) -> int:
        self._ensure()
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(replica_queue)).scalar_one())

    def done(self, seq: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(replica_queue).where(replica_queue.c.seq == seq))

    def failed(self, seq: int, error: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(replica_queue)
                .where(replica_queue.c.seq == seq)
                .values(attempts=replica_queue.c.attempts + 1, last_error=error[:500])
            )


def _failure(exc: Exception) -> str:
    """An exception as a log names it: the S3 error code when there is one (never a message,
    which may carry a key)."""
    code = getattr(exc, "code", None)
    return f"{type(exc).__name__} {code}" if code else type(exc).__name__


class PutCopies:
    """The replica's side of one put: once one copy is queued, the rest queue behind it."""

    def __init__(self, replicator: Replicator) -> None:
        self.replicator = replicator
        self.queued = False
        self._lock = threading.Lock()

    def copy_bytes(self, key: str, version_id: str | None, data: bytes, sha256: str,
                   retention: Retention, mime: str) -> None:  # fmt: skip
        def send() -> None:
            self.replicator.store.put_bytes(key, data, retention, mime, sha256)

        self._copy(key, version_id, sha256, len(data), mime, retention, send)

    def copy_file(self, key: str, version_id: str | None, path: Path, sha256: str, size: int,
                  retention: Retention, mime: str) -> None:  # fmt: skip
        def send() -> None:
            self.replicator.store.put_large(key, path, sha256, size, retention)

        self._copy(key, version_id, sha256, size, mime, retention, send)

    def _copy(self, key: str, version_id: str | None, sha256: str, size: int, mime: str,
              retention: Retention, send: Callable[[], None]) -> None:  # fmt: skip
        replicator = self.replicator
        reason = "queued behind an earlier copy of this put" if self.queued else None
        if reason is None and replicator.down():
            reason = "the replica was down a moment ago"
        if reason is None:
            try:
                replicator.ensure_buckets()
                send()
                return
            except OverwriteRefusedError as exc:
                # the replica holds other bytes under this key: the audit names it, repair
                # restores it; queueing would only fail again
                log.error("replica copy of %s refused: %s", key, exc)
                return
            except (MotcuaError, S3Error, OSError) as exc:
                replicator.mark_down()
                reason = f"{type(exc).__name__}: {exc}"
                log.warning("replica did not take %s (%s); queued", key, _failure(exc))
        with self._lock:
            self.queued = True
        replicator.queue.add(key, version_id, sha256, size, mime, retention, reason)


class Replicator:
    """The replica store, its queue, and whether it answered lately."""

    def __init__(
        self,
        config: ReplicaConfig,
        buckets: Buckets,
        retention: RetentionPolicy,
        part_size: int,
        engine: Engine,
        single_put_limit: int,
    ) -> None:
        self.config = config
        self.store = ObjectStore(
            config.s3,
            Buckets(buckets.originals, config.bucket or buckets.archive, buckets.quarantine),
            retention,
            config.retry,
            part_size,
            resolve_s3=config.resolve_s3,
            setup=config.setup,
            archive_only=True,
        )
        self.queue = ReplicaQueue(engine)
        self.single_put_limit = single_put_limit
        self._down_until = 0.0

    def down(self) -> bool:
        return time.monotonic() < self._down_until

    def mark_down(self) -> None:
        self._down_until = time.monotonic() + _DOWN_FOR.total_seconds()

    def ensure_buckets(self) -> None:
        self.store.ensure_buckets()

    def put(self) -> PutCopies:
        return PutCopies(self)

    def flush(
        self, primary: ObjectStore, limit: int | None = None, force: bool = False
    ) -> FlushResult:
        """Send queued copies, oldest first, until the queue is empty, `limit` copies were sent,
        or the replica fails (the rest wait for the next flush). `force` tries even when the
        replica failed a moment ago."""
        try:
            if self.down() and not force:
                return FlushResult(0, self.queue.count(), "the replica was down a moment ago")
            pending = self.queue.pending(limit)
        except SQLAlchemyError as exc:
            return FlushResult(0, 0, f"queue unreadable ({type(exc).__name__})")
        copied = 0
        error = None
        if pending:
            try:
                self.store.reset_buckets()  # a wiped replica gets its bucket back
                self.ensure_buckets()
            except (MotcuaError, S3Error) as exc:
                self.mark_down()
                return FlushResult(0, self.queue.count(), f"{type(exc).__name__}: {exc}")
        for item in pending:
            try:
                self._send(primary, item)
            except OverwriteRefusedError as exc:
                # other bytes on the replica: the audit names the copy, repair restores it
                log.error("replica copy of %s refused: %s", item.key, exc)
                self.queue.done(item.seq)
                continue
            except (MotcuaError, S3Error, OSError) as exc:
                error = f"{item.key}: {type(exc).__name__}: {exc}"
                self.queue.failed(item.seq, error)
                if isinstance(exc, ServiceUnavailableError | OSError):
                    self.mark_down()
                    break
                continue
            self.queue.done(item.seq)
            copied += 1
        if copied:
            log.info("replica: %d queued copies sent", copied)
        return FlushResult(copied, self.queue.count(), error)

    def _send(self, primary: ObjectStore, item: Pending) -> None:
        with tempfile.NamedTemporaryFile(prefix="motcua-replica-") as tmp:
            sha = primary.hash_object(item.key, item.version_id, tmp)  # type: ignore[arg-type]
            tmp.flush()
            if sha != item.sha256:
                raise CheckFailedError(
                    f"{item.key}: the primary's copy no longer matches its SHA-256",
                    hint="run `motcua archive verify` and `motcua archive repair`",
                )
            if item.size <= self.single_put_limit:
                tmp.seek(0)
                data = tmp.read()
                self.store.put_bytes(item.key, data, item.retention, item.content_type, sha)
            else:
                self.store.put_large(item.key, Path(tmp.name), sha, item.size, item.retention)


__all__ = [
    "PRIMARY",
    "REPLICA",
    "FlushResult",
    "Pending",
    "PutCopies",
    "ReplicaConfig",
    "ReplicaQueue",
    "Replicator",
    "replica_queue",
]
