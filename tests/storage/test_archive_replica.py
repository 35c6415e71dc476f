"""The second copy: two real embedded S3 servers, the replica killed, wiped and restarted.

The primary is the session's server; the replica is a second SeaweedFS started here in its own
folder (its own ports under 55000, `storage.server`). Killing it is a real SIGKILL.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from motcua.errors import BadArgumentError
from storage.archive import Archive, Buckets
from storage.catalogue import Catalogue
from storage.record import RecordInfo, record_prefix
from storage.replica import REPLICA, ReplicaConfig
from storage.s3 import S3Config
from storage.server import EmbeddedS3Server


@pytest.fixture
def replica_server(tmp_path: Path) -> Iterator[EmbeddedS3Server]:
    server = EmbeddedS3Server(tmp_path / "replica-home")
    server.up(timeout=180)
    yield server
    server.down(timeout=2)


def _kill(server: EmbeddedS3Server) -> None:
    pid = server.status().pid
    assert pid is not None
    os.killpg(pid, signal.SIGKILL)
    deadline = time.monotonic() + 20
    while server.status().running and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not server.status().running


def _archive(
    s3_config: S3Config, s3_setup_config: S3Config, buckets: Buckets, replica: EmbeddedS3Server,
    tmp_path: Path,
) -> Archive:  # fmt: skip
    return Archive(
        s3_config,
        Catalogue(f"sqlite:///{tmp_path / 'catalog.sqlite3'}"),
        buckets,
        setup=s3_setup_config,
        replica=ReplicaConfig(
            replica.config(), setup=replica.setup_config(), resolve_s3=replica.config
        ),
    )


def _put(archive: Archive, tmp_path: Path, i: int) -> str:
    path = tmp_path / f"to-khai-{i}.txt"
    path.write_text(f"Tờ khai số {i}: đăng ký khai sinh", encoding="utf-8")
    info = RecordInfo(dossier_code=f"H40.29.10-261205-{i:04d}", text=f"Tờ khai số {i}")
    return archive.put([path], info).record_id


def test_records_written_while_the_replica_is_down_reach_it_once_it_is_back(
    s3_config: S3Config,
    s3_setup_config: S3Config,
    buckets: Buckets,
    replica_server: EmbeddedS3Server,
    tmp_path: Path,
) -> None:
    archive = _archive(s3_config, s3_setup_config, buckets, replica_server, tmp_path)
    assert archive.replicator is not None
    ids = [_put(archive, tmp_path, i) for i in range(15)]
    assert archive.replicator.queue.count() == 0  # the replica took each copy at once
    _kill(replica_server)
    ids += [_put(archive, tmp_path, i) for i in range(15, 35)]  # the primary's writes succeed
    queued = archive.replicator.queue.count()
    assert queued == 20 * 7  # seven objects a record, all waiting for the replica
    down = archive.verify(ids[20])
    assert [c.copy for c in down.copies if not c.ok] == [REPLICA]
    replica_server.up(timeout=180)
    ids += [_put(archive, tmp_path, i) for i in range(35, 50)]
    assert len(set(ids)) == 50

    flushed = archive.flush_replica()
    assert flushed is not None and flushed.pending == 0, flushed
    assert archive.replicator.queue.count() == 0
    for record_id in ids:
        audit = archive.verify(record_id)
        assert audit.ok, audit.findings
        assert [(c.copy, c.ok, c.objects_checked) for c in audit.copies] == [
            ("primary", True, 6),
            ("replica", True, 6),
        ]
    # the replica's copy is retained as long as the primary's
    key = record_prefix(ids[20]) + "data/to-khai-20.txt"
    original = archive.listing(ids[20]).archived("data/to-khai-20.txt")
    assert original is not None
    primary = archive.store.retention_of(key, original.version_id)
    store = archive.replicator.store
    version = archive.listing(ids[20], store).archived("data/to-khai-20.txt")
    assert version is not None
    copied = store.retention_of(key, version.version_id)
    assert primary is not None and copied is not None
    assert (copied.mode, copied.retain_until_date) == (primary.mode, primary.retain_until_date)


def test_a_wiped_replica_is_found_by_the_audit_and_repaired(
    s3_config: S3Config,
    s3_setup_config: S3Config,
    buckets: Buckets,
    replica_server: EmbeddedS3Server,
    tmp_path: Path,
) -> None:
    archive = _archive(s3_config, s3_setup_config, buckets, replica_server, tmp_path)
    ids = [_put(archive, tmp_path, i) for i in range(3)]
    for record_id in ids:
        audit = archive.verify(record_id)
        assert audit.ok, audit.findings

    old_endpoint = replica_server.config().endpoint
    ports = json.loads(replica_server.state_file.read_text())["ports"]
    _kill(replica_server)
    shutil.rmtree(replica_server.data_dir)  # the replica's disk is lost
    # and one of its ports is taken meanwhile: it comes back elsewhere, both identities follow
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", int(ports["console"])))
        squatter.listen()
        replica_server.up(timeout=180)
    assert replica_server.config().endpoint != old_endpoint

    audit = archive.verify(ids[0])
    assert not audit.ok
    assert {f.copy for f in audit.findings} == {REPLICA}
    assert "data/to-khai-0.txt" in {f.object for f in audit.findings}
    assert all("missing" in f.problem for f in audit.findings)
    primary_versions = len(archive.store.list_versions(record_prefix(ids[0])))

    report = archive.repair(ids[0])
    assert {(r.copy, r.source) for r in report.restored} == {(REPLICA, "primary")}
    assert len(report.restored) == 7  # the payload, five tag files and the manifest
    after = archive.verify(ids[0])
    assert after.ok, after.findings
    assert len(archive.store.list_versions(record_prefix(ids[0]))) == primary_versions
    assert archive.repair(ids[0]).restored == ()  # nothing left to repair
    assert not archive.verify(ids[1]).ok  # the others still wait for their repair

    with pytest.raises(BadArgumentError, match="không có hồ sơ"):
        archive.repair("r" + "0" * 24)


def test_the_first_copies_of_a_put_create_the_replica_bucket_once(
    s3_config: S3Config,
    s3_setup_config: S3Config,
    buckets: Buckets,
    replica_server: EmbeddedS3Server,
    tmp_path: Path,
) -> None:
    """A put's files go up in parallel and each asks the replica for its bucket: one creates it,
    the others wait. (Two creators both set the guard policy, the guard denied the second, and
    the first record's copies were queued instead of taken: found by CI.)"""
    import threading

    archive = _archive(s3_config, s3_setup_config, buckets, replica_server, tmp_path)
    assert archive.replicator is not None
    store = archive.replicator.store
    start = threading.Barrier(8)
    failures: list[BaseException] = []

    def ask() -> None:
        start.wait()
        try:
            store.ensure_buckets()
        except BaseException as exc:  # collected: the assertion below names it
            failures.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert store.bucket_drift() == []
    record_id = _put(archive, tmp_path, 0)
    assert archive.replicator.queue.count() == 0
    assert archive.verify(record_id).ok
