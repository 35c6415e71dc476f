"""Scaling out for real: a Prefect server on PostgreSQL, a process work pool, two `motcua worker`s
sharing a batch of intakes, the register and catalogue on PostgreSQL, the session's S3 server."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import httpx
import pytest
from sqlalchemy import create_engine, text

from motcua.web.audit import AuditLog
from storage.s3 import S3Config
from tests.s3_identities import setup_env

_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_SUBMITTING = re.compile(rf"submitting flow run '({_UUID})'")
_ABORTED = re.compile(rf"Aborted submission of flow run '({_UUID})'")


def _taken_by(log: str) -> set[str]:
    """The flow runs a worker's log says it submitted and did not have to give up."""
    return set(_SUBMITTING.findall(log)) - set(_ABORTED.findall(log))


def _wait(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(1.0)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def _stop(process: subprocess.Popen[bytes], grace: float = 20.0) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@pytest.fixture
def prefect_server(
    tmp_path: Path, new_postgres_database: Callable[[str], str], unused_port: Callable[[], int]
) -> Iterator[str]:
    """`prefect server start` on PostgreSQL, on a free port; yields its API URL."""
    port = unused_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(
        PREFECT_HOME=str(tmp_path / "prefect-server"),
        PREFECT_API_DATABASE_CONNECTION_URL="postgresql+asyncpg://"
        + new_postgres_database("prefect"),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_UI_ENABLED="false",
        PREFECT_LOGGING_LEVEL="WARNING",
    )
    log = open(tmp_path / "prefect-server.log", "wb")  # noqa: SIM115 - closed below
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "prefect",
            "server",
            "start",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    api = f"http://127.0.0.1:{port}/api"

    def healthy() -> bool:
        assert server.poll() is None, (tmp_path / "prefect-server.log").read_text()
        try:
            return httpx.get(f"{api}/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        _wait(healthy, 180, "the Prefect server")
        yield api
    finally:
        _stop(server)
        log.close()


@pytest.mark.slow
def test_two_workers_share_a_batch_without_duplicates(
    tmp_path: Path,
    prefect_server: str,
    s3_config: S3Config,
    new_postgres_database: Callable[[str], str],
    bucket_name: str,
) -> None:
    from samples.documents import make_declaration

    catalogue = "postgresql+psycopg://" + new_postgres_database("motcua")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "MOTCUA_"))}
    env.update(
        MOTCUA_HOME=str(tmp_path / "home"),
        MOTCUA_CONFIG=str(tmp_path / "absent.toml"),
        MOTCUA_S3_ENDPOINT=s3_config.endpoint,
        MOTCUA_S3_ACCESS_KEY=s3_config.access_key,
        MOTCUA_S3_SECRET_KEY=s3_config.secret_key,
        **setup_env(s3_config),
        MOTCUA_BUCKET_ORIGINALS=f"{bucket_name}-orig",
        MOTCUA_BUCKET_ARCHIVE=f"{bucket_name}-arch",
        MOTCUA_BUCKET_QUARANTINE=f"{bucket_name}-quar",
        MOTCUA_CATALOG_URL=catalogue,
        MOTCUA_PREFECT_API_URL=prefect_server,
        OMP_THREAD_LIMIT="1",
    )
    motcua = [sys.executable, "-m", "motcua"]

    workers: list[subprocess.Popen[bytes]] = []
    logs: list[Path] = []
    try:
        for i, deploy in enumerate(("--deploy", "--no-deploy")):
            logs.append(tmp_path / f"worker-{i}.log")
            with open(logs[-1], "wb") as out:
                workers.append(
                    subprocess.Popen(
                        [
                            *motcua,
                            "-v",
                            "worker",
                            "--pool",
                            "office",
                            "--limit",
                            "1",
                            "--name",
                            f"worker-{i}",
                            deploy,
                        ],
                        env=env,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )
            if i == 0:  # the first worker registers the deployments before the second starts

                def deployed() -> bool:
                    assert workers[0].poll() is None, logs[0].read_text()
                    response = httpx.get(
                        f"{prefect_server}/deployments/name/intake-dossier/intake", timeout=5
                    )
                    return response.status_code == 200

                _wait(deployed, 180, "the intake deployment")

        run_ids = []
        for seed in range(4):
            scan = tmp_path / f"to-khai-{seed}.png"
            cv2.imwrite(str(scan), make_declaration(100 + seed, "clean").image)
            queued = subprocess.run(
                [
                    *motcua,
                    "intake",
                    str(scan),
                    "--procedure",
                    "dang-ky-khai-sinh",
                    "--submit",
                    "--json",
                ],
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
                check=True,
            )
            run_ids.append(json.loads(queued.stdout)["flow_run_id"])

        def states() -> dict[str, str]:
            response = httpx.post(
                f"{prefect_server}/flow_runs/filter",
                json={"flow_runs": {"id": {"any_": run_ids}}},
                timeout=10,
            )
            return {r["id"]: r["state_type"] for r in response.json()}

        def finished() -> bool:
            for worker, log in zip(workers, logs, strict=True):
                assert worker.poll() is None, log.read_text()
            current = states()
            failed = [i for i, s in current.items() if s in ("FAILED", "CRASHED", "CANCELLED")]
            assert not failed, f"flow runs {failed} failed; " + logs[0].read_text()[-3000:]
            return len(current) == 4 and all(s == "COMPLETED" for s in current.values())

        _wait(finished, 600, "four intakes on two workers")
    finally:
        for worker in workers:
            _stop(worker)

    # Every run was taken by exactly one worker, and both workers took some. Both workers may
    # try the same scheduled run; the server lets one move it to Pending and tells the other to
    # abort ("Aborted submission of flow run '<id>'"): only the first one runs it.
    taken = [_taken_by(log.read_text()) & set(run_ids) for log in logs]
    assert taken[0] and taken[1], f"one worker took everything: {taken}"
    assert not taken[0] & taken[1]
    assert taken[0] | taken[1] == set(run_ids)

    # Four dossiers with four distinct codes, in the shared PostgreSQL register.
    engine = create_engine(catalogue)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT code, status FROM dossier_dossiers")).all()
    codes = [code for code, _ in rows]
    statuses = dict(rows)
    engine.dispose()
    assert len(codes) == 4 and len(set(codes)) == 4
    # Each intake ran on a worker and journaled there, in the shared audit journal, what every
    # door journals for an intake, with the person who submitted it as the actor.
    journal = AuditLog(catalogue)
    for code in codes:
        [entry] = journal.entries(target_id=code)
        assert (entry.action, dict(entry.details)) == (
            "dossier.received",
            {"created": True, "status": statuses[code], "documents": 1},
        )
        assert entry.actor.startswith("cli:"), entry.actor
    journal.engine.dispose()
