"""A storage outage during intake: the flow retries, and nothing is lost."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from flows.context import current_office
from flows.intake import intake_dossier
from storage.server import EmbeddedS3Server


@pytest.mark.slow
def test_object_store_down_during_intake_is_retried(
    motcua_home: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    birth_dossier_scans: dict[str, Path],
) -> None:
    server = EmbeddedS3Server(tmp_path / "own-store")
    config = server.up(timeout=180)
    try:
        monkeypatch.setenv("MOTCUA_S3_ENDPOINT", config.endpoint)
        monkeypatch.setenv("MOTCUA_S3_ACCESS_KEY", config.access_key)
        monkeypatch.setenv("MOTCUA_S3_SECRET_KEY", config.secret_key)
        setup = server.setup_config()
        monkeypatch.setenv("MOTCUA_S3_SETUP_ACCESS_KEY", setup.access_key)
        monkeypatch.setenv("MOTCUA_S3_SETUP_SECRET_KEY", setup.secret_key)
        current_office.cache_clear()

        # The server dies (SIGKILL, as a crash would) and comes back 15 s later.
        pid = server.status().pid
        assert pid is not None
        os.killpg(pid, signal.SIGKILL)
        back = threading.Event()

        def restart() -> None:
            time.sleep(15)
            server.up(timeout=180)
            back.set()

        restarter = threading.Thread(target=restart, daemon=True)
        restarter.start()
        files = [str(birth_dossier_scans["declaration"]), str(birth_dossier_scans["card"])]
        result = intake_dossier(files, "dang-ky-khai-sinh", "2026-11-23T09:00:00+07:00")
        restarter.join(timeout=200)
        assert back.is_set()

        # The dossier exists once, its record is complete, and its originals are kept.
        assert result["created"] is True
        archive = current_office().archive
        audit = archive.verify(result["record_id"])
        assert audit.ok, audit.findings
        assert audit.objects_checked >= 4  # two originals, a searchable PDF each, the receipt...
        originals = list(
            archive.client.list_objects(
                archive.buckets.originals, prefix=result["dossier_code"], recursive=True
            )
        )
        assert len(originals) == 2
        assert archive.sweep() == []  # no half-written record left behind
    finally:
        current_office.cache_clear()
        server.down(timeout=60)
