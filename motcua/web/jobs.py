"""Long work behind the API: run a Prefect flow in the background, answer at once, poll status.

`JobRunner.submit(kind, work, actor=..., dossier_code=...)` records a job row (`web_jobs`) and
runs `work()` — a callable that runs one Prefect flow and returns a JSON-able dict — on a small
thread pool in the server process. The flow reports to whichever Prefect API is configured (the
embedded one by default). `GET /api/jobs/{id}` reads the row: `queued`, `running`, `completed`
(with `result`) or `failed` (with a readable `error`). Jobs that were queued or running when the
server stopped are marked failed when it starts again, never left "running" forever.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Engine, String, Text, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from dossiers.models import UtcDateTime
from motcua.errors import MotcuaError
from motcua.web.db import run
from motcua.web.models import WebBase, tables_named

log = logging.getLogger("motcua.web.jobs")

Work = Callable[[], Mapping[str, Any]]


class JobState(StrEnum):
    queued = "queued"
    running = "running"
    completed = "completed"
    failed = "failed"

    @property
    def label_vi(self) -> str:
        return {"queued": "Đang chờ", "running": "Đang xử lý", "completed": "Đã xong",
                "failed": "Không thành công"}[self.value]  # fmt: skip

    @property
    def finished(self) -> bool:
        return self in (JobState.completed, JobState.failed)


class JobRow(WebBase):
    __tablename__ = "web_jobs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    actor: Mapped[str] = mapped_column(String(160), nullable=False)
    dossier_code: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, nullable=False)
    started_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    hint: Mapped[str | None] = mapped_column(Text)


@dataclass(frozen=True)
class Job:
    id: str
    kind: str
    state: JobState
    actor: str
    dossier_code: str | None
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    result: dict[str, Any] | None
    error: str | None
    hint: str | None

    @classmethod
    def of(cls, row: JobRow) -> Job:
        return cls(row.id, row.kind, JobState(row.state), row.actor, row.dossier_code,
                   row.created_at, row.started_at, row.finished_at, row.result, row.error,
                   row.hint)  # fmt: skip


_INTERRUPTED = (
    "máy chủ khởi động lại khi công việc chưa xong (the server restarted before the job ended)"
)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# Jobs that can take minutes (OCR of every page) run in their own lane, so that a long file
# never keeps a leader's signing or a clerk's draft waiting.
LONG_KINDS = frozenset({"intake"})


class JobRunner:
    """Background jobs of one server process, in two lanes of `workers` threads each: long
    jobs (intake: OCR) and quick ones (drafting, signing)."""

    def __init__(self, engine: Engine, *, workers: int = 2) -> None:
        self.engine = engine
        self._long = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="motcua-job-long")
        self._quick = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="motcua-job")
        self._done: dict[str, threading.Event] = {}

    def create_tables(self) -> None:
        WebBase.metadata.create_all(self.engine, tables=tables_named("web_jobs"))
        self._fail_interrupted()

    def _fail_interrupted(self) -> None:
        def work(session: Session) -> None:
            session.execute(
                update(JobRow)
                .where(JobRow.state.in_([JobState.queued.value, JobState.running.value]))
                .values(
                    state=JobState.failed.value,
                    finished_at=_now(),
                    error=_INTERRUPTED,
                    hint="gửi lại yêu cầu (submit it again)",
                )
            )

        run(self.engine, work, what="marking interrupted jobs")

    def submit(self, kind: str, work: Work, *, actor: str, dossier_code: str | None = None) -> Job:
        """Record a queued job and start `work` in the background; returns at once."""
        row = JobRow(id=str(uuid.uuid4()), kind=kind, state=JobState.queued.value, actor=actor,
                     dossier_code=dossier_code, created_at=_now())  # fmt: skip

        def add(session: Session) -> Job:
            session.add(row)
            session.flush()
            return Job.of(row)

        job = run(self.engine, add, what="recording a job")
        self._done[job.id] = threading.Event()
        pool = self._long if kind in LONG_KINDS else self._quick
        pool.submit(self._run, job.id, work)
        return job

    def _set(self, job_id: str, **values: Any) -> None:
        def work(session: Session) -> None:
            session.execute(update(JobRow).where(JobRow.id == job_id).values(**values))

        run(self.engine, work, what="updating a job")

    def _run(self, job_id: str, work: Work) -> None:
        try:
            self._set(job_id, state=JobState.running.value, started_at=_now())
            try:
                result = dict(work())
            except MotcuaError as exc:
                self._set(job_id, state=JobState.failed.value, finished_at=_now(),
                          error=exc.message, hint=exc.hint)  # fmt: skip
                return
            except Exception as exc:  # a job must end in a state, whatever went wrong
                log.error("job %s failed: %s", job_id, type(exc).__name__, exc_info=True)
                self._set(job_id, state=JobState.failed.value, finished_at=_now(),
                          error="lỗi ngoài dự kiến; nhật ký máy chủ có chi tiết "
                                "(unexpected error; see the server log)")  # fmt: skip
                return
            self._set(job_id, state=JobState.completed.value, finished_at=_now(), result=result)
        except MotcuaError as exc:  # the database itself failed while recording the outcome
            log.error("job %s: %s", job_id, exc.message)
        finally:
            event = self._done.pop(job_id, None)
            if event is not None:
                event.set()

    def set_dossier_code(self, job_id: str, code: str) -> None:
        """Name the dossier a job made, once it is known (an intake learns it mid-way)."""
        self._set(job_id, dossier_code=code)

    def get(self, job_id: str) -> Job | None:
        def work(session: Session) -> Job | None:
            row = session.get(JobRow, job_id)
            return Job.of(row) if row is not None else None

        return run(self.engine, work, what="reading a job")

    def recent(self, *, dossier_code: str | None = None, limit: int = 50) -> list[Job]:
        def work(session: Session) -> list[Job]:
            query = select(JobRow).order_by(JobRow.created_at.desc()).limit(limit)
            if dossier_code is not None:
                query = query.where(JobRow.dossier_code == dossier_code)
            return [Job.of(r) for r in session.scalars(query)]

        return run(self.engine, work, what="listing jobs")

    def wait(self, job_id: str, timeout: float | None = None) -> Job | None:
        """Block until a job of this process finishes (tests and the CLI); then read it."""
        event = self._done.get(job_id)
        if event is not None:
            event.wait(timeout)
        return self.get(job_id)

    def shutdown(self, *, wait: bool = True, cancel_queued: bool = False) -> None:
        for pool in (self._long, self._quick):
            pool.shutdown(wait=wait, cancel_futures=cancel_queued)
