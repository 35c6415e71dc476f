"""Issue 14: the web's job queue runs more than one job, and a long intake does not starve a
leader's signing: long jobs (intake) and quick ones (drafting, signing) have lanes of their own.
The jobs are real rows in a real SQLite database; the work is test code that waits on events,
so the test observes order, not time."""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import create_engine

from motcua.web.jobs import JobRunner, JobState


def test_a_long_intake_does_not_keep_signing_waiting(tmp_path: Path) -> None:
    runner = JobRunner(create_engine(f"sqlite:///{tmp_path / 'jobs.sqlite3'}"), workers=2)
    runner.create_tables()
    release = threading.Event()
    arrived = {"a": threading.Event(), "b": threading.Event()}

    def long_work(name: str) -> dict[str, str]:
        arrived[name].set()
        assert release.wait(60), "the long jobs were never released"
        return {"done": name}

    try:
        first = runner.submit("intake", lambda: long_work("a"), actor="user:lan")
        second = runner.submit("intake", lambda: long_work("b"), actor="user:lan")
        # both intakes are inside their work at once (each waits for `release`)
        assert arrived["a"].wait(60) and arrived["b"].wait(60)
        quick = runner.submit("sign-results", lambda: {"signed": "x"}, actor="user:minh")
        done = runner.wait(quick.id, timeout=60)
        assert done is not None and done.state is JobState.completed  # while both intakes run
        for job in (first, second):
            state = runner.get(job.id)
            assert state is not None and state.state is JobState.running
    finally:
        release.set()
        runner.shutdown()
    for job in (first, second):
        final = runner.get(job.id)
        assert final is not None and final.state is JobState.completed
