"""The object store dies during a put: no partial record is ever listed, and a retry succeeds.

A separate embedded S3 server (not the session one) is SIGKILLed in the middle of a multipart
upload and started again on the same ports and data folder.
"""

from __future__ import annotations

import hashlib
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from minio.error import S3Error

from motcua.errors import ServiceUnavailableError
from storage.archive import Archive, Buckets, PutResult, RetryPolicy
from storage.catalogue import Catalogue, SearchQuery
from storage.record import RecordInfo, record_prefix
from storage.server import EmbeddedS3Server

BIG = 160 * 1024 * 1024  # long enough a multipart upload to be killed in the middle


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[EmbeddedS3Server]:
    server = EmbeddedS3Server(tmp_path / "s3home")
    server.up(timeout=180)
    yield server
    server.down(timeout=2)  # SIGKILL after 2 s: its data is thrown away anyway


def _kill(server: EmbeddedS3Server) -> None:
    pid = server.status().pid
    assert pid is not None
    os.killpg(pid, signal.SIGKILL)
    deadline = time.monotonic() + 20
    while server.status().running and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not server.status().running


def _archive(server: EmbeddedS3Server, tmp_path: Path, retry: RetryPolicy) -> Archive:
    # SeaweedFS's old ports can sit in TIME_WAIT after a kill, so a restart may move it:
    # `resolve_s3` lets the retries follow it, as `motcua.services.archive` does.
    return Archive(
        server.config(),
        Catalogue(f"sqlite:///{tmp_path / 'catalog.sqlite3'}"),
        Buckets(originals="f-orig", archive="f-archive", quarantine="f-quar"),
        retry=retry,
        single_put_limit=1024 * 1024,
        part_size=5 * 1024 * 1024,
        resolve_s3=server.config,
        setup=server.setup_config(),
    )


def _put_in_thread(
    archive: Archive, files: list[Path], info: RecordInfo
) -> tuple[threading.Thread, dict[str, object]]:
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["result"] = archive.put(files, info)
        except Exception as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def _wait_until_uploading(archive: Archive, key: str) -> None:
    """The small first file is stored: the big one is being sent now."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            archive.client.stat_object(archive.buckets.archive, key)
            time.sleep(0.4)  # a few parts of the big file are in
            return
        except S3Error:
            time.sleep(0.05)
    raise AssertionError(f"{key} never appeared")


@pytest.mark.slow
def test_server_killed_during_put_leaves_no_record_and_retry_succeeds(
    own_server: EmbeddedS3Server, tmp_path: Path
) -> None:
    small = tmp_path / "don-de-nghi.txt"
    small.write_text("Đơn đề nghị cấp bản sao trích lục khai sinh", encoding="utf-8")
    big = tmp_path / "ban-quet.tif"
    big.write_bytes(os.urandom(BIG))
    info = RecordInfo(
        dossier_code="H40.29.10-261122-0042",
        title="Trích lục khai sinh",
        text="Đơn đề nghị cấp bản sao trích lục khai sinh",
    )
    archive = _archive(own_server, tmp_path, RetryPolicy(attempts=2, wait_initial=0.2))
    archive.ensure_buckets()

    # 1. the server dies mid-upload and stays down: retries, then a clear error
    thread, outcome = _put_in_thread(archive, [small, big], info)
    expected_id = None
    deadline = time.monotonic() + 60
    while expected_id is None and time.monotonic() < deadline:
        found = archive.sweep()
        expected_id = found[0].record_id if found else None
    assert expected_id is not None
    _wait_until_uploading(archive, record_prefix(expected_id) + "data/don-de-nghi.txt")
    _kill(own_server)
    thread.join(timeout=120)
    assert isinstance(outcome.get("error"), ServiceUnavailableError), outcome
    assert "after 2 attempts" in str(outcome["error"])

    # 2. back up: the interrupted put is a leftover, not a record, and is not catalogued
    own_server.up(timeout=180)
    archive = _archive(own_server, tmp_path, RetryPolicy())
    assert archive.records() == []
    leftovers = archive.sweep()
    assert [item.record_id for item in leftovers] == [expected_id]
    assert "manifest-sha256.txt" not in leftovers[0].objects
    assert archive.search(SearchQuery("trích lục")) == []

    # 3. the same put again completes the record; the stored small file is reused
    result = archive.put([small, big], info)
    assert isinstance(result, PutResult) and result.created and result.record_id == expected_id
    assert archive.sweep() == []
    assert archive.records() == [expected_id]
    audit = archive.verify(expected_id)
    assert audit.ok, audit.findings
    assert archive.search(SearchQuery("trich luc"))[0].record_id == expected_id
    bag = archive.get(expected_id, tmp_path / "out")
    assert hashlib.sha256((bag / "data" / "ban-quet.tif").read_bytes()).hexdigest() == (
        hashlib.sha256(big.read_bytes()).hexdigest()
    )

    # 4. the server dies during another put and comes back while it is retrying: it succeeds
    other = RecordInfo(dossier_code="H40.29.10-261122-0043", title="Bản sao")
    archive = _archive(own_server, tmp_path, RetryPolicy(attempts=12, wait_initial=0.5, wait_max=4))
    thread, outcome = _put_in_thread(archive, [small, big], other)
    deadline = time.monotonic() + 60
    new_id = None
    while new_id is None and time.monotonic() < deadline:
        found = archive.sweep()
        new_id = found[0].record_id if found else None
    assert new_id is not None
    _wait_until_uploading(archive, record_prefix(new_id) + "data/don-de-nghi.txt")
    _kill(own_server)
    own_server.up(timeout=180)
    thread.join(timeout=180)
    assert "error" not in outcome, outcome
    retried = outcome["result"]
    assert isinstance(retried, PutResult) and retried.record_id == new_id
    assert archive.verify(new_id).ok


def test_kill_loop_loses_no_acknowledged_record(
    own_server: EmbeddedS3Server, tmp_path: Path
) -> None:
    """10 SIGKILLs of the store while a clerk's batch keeps archiving: every put that returned
    is in the store afterwards and passes its audit (the store now runs with mTLS and JWT)."""
    archive = _archive(own_server, tmp_path, RetryPolicy(attempts=12, wait_initial=0.5, wait_max=4))
    acknowledged: list[str] = []
    refused: list[int] = []
    stop = threading.Event()

    def clerk() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            scan = tmp_path / f"don-{n}.txt"
            scan.write_text(f"Đơn đề nghị số {n}", encoding="utf-8")
            try:
                info = RecordInfo(dossier_code=f"H40.29.10-261203-{n:04d}")
                acknowledged.append(archive.put([scan], info).record_id)
            except ServiceUnavailableError:
                refused.append(n)  # reported to the clerk, not acknowledged: may be lost

    def wait_for_more(count: int) -> None:
        deadline = time.monotonic() + 120
        while len(acknowledged) <= count and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(acknowledged) > count, "no put completed between two kills"

    worker = threading.Thread(target=clerk)
    worker.start()
    try:
        for _ in range(10):
            wait_for_more(len(acknowledged))
            _kill(own_server)
            own_server.up(timeout=180)
        wait_for_more(len(acknowledged))
    finally:
        stop.set()
        worker.join(timeout=300)
    assert not worker.is_alive()
    stored = set(archive.records())
    lost = [rid for rid in acknowledged if rid not in stored]
    assert lost == []
    audits = [archive.verify(rid) for rid in acknowledged]
    assert [a.as_dict() for a in audits if not a.ok] == []  # each with its findings
    assert len(acknowledged) >= 11
