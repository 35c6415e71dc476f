"""Refuse, don't just detect: an archived key is never written over, and two puts of one record
never race (issue 15 item 5). Real embedded S3 server; catalogues on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import io
import os
import threading
from pathlib import Path

import pytest
from minio.retention import Retention
from sqlalchemy import func, insert, select

from storage.archive import Archive, Buckets, OverwriteRefusedError, PutResult, RecordBusyError
from storage.catalogue import Catalogue
from storage.locks import record_locks
from storage.record import MANIFEST, RecordInfo, record_id_for, record_prefix, safe_payload_name
from storage.s3 import S3Config


def _info(code: str = "H40.29.10-261204-0015") -> RecordInfo:
    return RecordInfo(dossier_code=code, title="Trích lục khai sinh", text="Tờ khai khai sinh")


def _versions(archive: Archive, prefix: str) -> dict[str, int]:
    """How many versions (delete markers included) each object under `prefix` has."""
    counts: dict[str, int] = {}
    for obj in archive.client.list_objects(
        archive.buckets.archive, prefix=prefix, recursive=True, include_version=True
    ):
        assert obj.object_name is not None
        counts[obj.object_name] = counts.get(obj.object_name, 0) + 1
    return counts


def _record_id(archive: Archive, files: list[Path], info: RecordInfo) -> str:
    """The id `Archive.put` gives these files (content-derived), computed the same way."""
    info = info.normalised()
    info = dataclasses.replace(info, retention_class=archive.retention.get(None).name)
    return record_id_for(
        info,
        [(safe_payload_name(p.name), hashlib.sha256(p.read_bytes()).hexdigest()) for p in files],
    )


def _lock_rows(catalogue: Catalogue) -> int:
    with catalogue.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(record_locks)).scalar_one())


def test_writing_over_an_archived_key_is_refused_unless_a_new_version_is_asked(
    archive: Archive, tmp_path: Path
) -> None:
    scan = tmp_path / "to-khai.txt"
    scan.write_text("Tờ khai đăng ký khai sinh", encoding="utf-8")
    record = archive.put([scan], _info())
    key = record_prefix(record.record_id) + "data/to-khai.txt"
    retention = Retention("COMPLIANCE", dt.datetime.now(dt.UTC) + dt.timedelta(days=2))

    with pytest.raises(OverwriteRefusedError, match="không ghi đè") as refused:
        archive.store.put_bytes(key, b"forged bytes", retention, "text/plain")
    assert key in str(refused.value)
    assert _versions(archive, key) == {key: 1}  # nothing reached the store

    # the same bytes again are no write at all: the archived version is returned
    version, _ = archive.store.put_bytes(key, scan.read_bytes(), retention, "text/plain")
    assert version == record.files[0].version_id
    assert _versions(archive, key) == {key: 1}

    # the explicit path for renewal and repair adds a version; the archived one stays
    renewed, _ = archive.store.put_bytes(
        key, b"renewed bytes", retention, "text/plain", new_version=True
    )
    assert renewed != record.files[0].version_id
    assert _versions(archive, key) == {key: 2}
    assert archive.store.read(key, record.files[0].version_id) == scan.read_bytes()


def test_large_upload_over_an_archived_key_is_refused(archive: Archive, tmp_path: Path) -> None:
    archive.single_put_limit = 1024 * 1024  # the multipart path, with a small file
    big = tmp_path / "ban-quet.tif"
    big.write_bytes(os.urandom(3 * 1024 * 1024))
    record = archive.put([big], _info())
    key = record_prefix(record.record_id) + "data/ban-quet.tif"
    other = tmp_path / "other.tif"
    other.write_bytes(os.urandom(3 * 1024 * 1024))
    retention = Retention("COMPLIANCE", dt.datetime.now(dt.UTC) + dt.timedelta(days=2))
    sha = hashlib.sha256(other.read_bytes()).hexdigest()
    with pytest.raises(OverwriteRefusedError):
        archive.store.put_large(key, other, sha, other.stat().st_size, retention)
    assert _versions(archive, key) == {key: 1}


def test_put_refuses_a_record_whose_object_was_written_behind_its_back(
    archive: Archive, tmp_path: Path
) -> None:
    scan = tmp_path / "don.txt"
    scan.write_text("Đơn đề nghị cấp bản sao", encoding="utf-8")
    info = _info("H40.29.10-261204-0016")
    record_id = _record_id(archive, [scan], info)
    prefix = record_prefix(record_id)
    archive.ensure_buckets()
    forged = b"not the citizen's file"
    archive.client.put_object(
        archive.buckets.archive, prefix + "data/don.txt", io.BytesIO(forged), len(forged)
    )

    with pytest.raises(OverwriteRefusedError, match=r"data/don\.txt"):
        archive.put([scan], info)
    assert _versions(archive, prefix) == {prefix + "data/don.txt": 1}  # nothing added
    assert record_id not in archive.records()
    assert _lock_rows(archive.catalogue) == 0  # the lock went with the refused put


def test_two_concurrent_puts_of_one_record_one_wins_the_other_is_told(
    s3_config: S3Config,
    s3_setup_config: S3Config,
    buckets: Buckets,
    catalogue_url: str,
    tmp_path: Path,
) -> None:
    """Two archives (two clerks' processes) on one catalogue database and one bucket."""
    big = tmp_path / "ban-quet.tif"
    big.write_bytes(os.urandom(24 * 1024 * 1024))  # long enough a put for the two to overlap
    note = tmp_path / "to-khai.txt"
    note.write_text("Tờ khai đăng ký khai sinh", encoding="utf-8")
    catalogues = [Catalogue(catalogue_url), Catalogue(catalogue_url)]
    archives = [Archive(s3_config, c, buckets, setup=s3_setup_config) for c in catalogues]
    archives[0].ensure_buckets()
    start = threading.Barrier(2)
    outcomes: list[object] = [None, None]

    def clerk(i: int) -> None:
        start.wait()
        try:
            outcomes[i] = archives[i].put([note, big], _info())
        except Exception as exc:
            outcomes[i] = exc

    try:
        threads = [threading.Thread(target=clerk, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
        won = [o for o in outcomes if isinstance(o, PutResult)]
        busy = [o for o in outcomes if isinstance(o, RecordBusyError)]
        assert len(won) == 1 and won[0].created, outcomes
        assert len(busy) == 1, outcomes
        assert "đang được một tiến trình khác ghi" in str(busy[0])
        record_id = won[0].record_id
        assert record_id in str(busy[0])

        prefix = record_prefix(record_id)
        versions = _versions(archives[0], prefix)
        assert set(versions.values()) == {1}, versions  # no object written twice
        assert prefix + MANIFEST in versions
        assert archives[0].verify(record_id).ok
        assert _lock_rows(catalogues[0]) == 0

        # once the winner is done, the loser's retry is the ordinary idempotent put
        again = archives[1].put([note, big], _info())
        assert again.record_id == record_id and not again.created
        assert set(_versions(archives[0], prefix).values()) == {1}
    finally:
        for c in catalogues:
            c.close()


def test_a_lock_left_by_a_dead_process_is_taken_over(
    s3_config: S3Config, s3_setup_config: S3Config, buckets: Buckets, catalogue: Catalogue,
    tmp_path: Path,
) -> None:  # fmt: skip
    import socket

    archive = Archive(s3_config, catalogue, buckets, setup=s3_setup_config)
    scan = tmp_path / "don.txt"
    scan.write_text("Đơn đề nghị", encoding="utf-8")
    info = _info("H40.29.10-261204-0017")
    record_id = _record_id(archive, [scan], info)
    archive.locks._ensure()
    now = dt.datetime.now(dt.UTC)
    with catalogue.engine.begin() as conn:
        # no such process on this host (pid_max is far lower), so its put died
        conn.execute(
            insert(record_locks).values(
                record_id=record_id, holder=f"{socket.gethostname()}:99999999:dead", acquired_at=now
            )
        )
    assert archive.put([scan], info).created
    assert _lock_rows(catalogue) == 0

    # a live holder (this very process) is not taken over
    with catalogue.engine.begin() as conn:
        conn.execute(
            insert(record_locks).values(
                record_id=record_id, holder=f"{socket.gethostname()}:{os.getpid()}:x",
                acquired_at=now,
            )
        )  # fmt: skip
    with pytest.raises(RecordBusyError):
        archive.put([scan], info)
