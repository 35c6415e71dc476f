"""The embedded object store: lifecycle through the CLI, and WORM behaviour on the pinned server."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from minio.commonconfig import COMPLIANCE, GOVERNANCE
from minio.error import S3Error
from minio.retention import Retention

from motcua.errors import ExitCode
from storage.s3 import S3Config
from storage.server import EmbeddedS3Server, _process_alive


def motcua(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "motcua", *args],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=240,
    )


def _in_a_day() -> dt.datetime:
    return dt.datetime.now(dt.UTC) + dt.timedelta(days=1)


def test_services_up_status_down_leaves_no_process(motcua_home: Path) -> None:
    stopped = motcua("services", "status")
    assert stopped.returncode == 1 and "stopped" in stopped.stdout

    up = motcua("services", "up")
    assert up.returncode == 0, up.stderr
    status = json.loads(motcua("services", "status", "--json").stdout)
    assert status["running"] is True
    pid = status["pid"]
    assert _process_alive(pid)
    assert status["endpoint"].startswith("127.0.0.1:")
    assert status["version"]
    assert status["disk_bytes"] > 0

    credentials = motcua_home / "s3" / "credentials.json"
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
    secret = json.loads(credentials.read_text())["secret_key"]
    assert secret not in up.stdout + up.stderr

    again = motcua("services", "up")  # idempotent: same server
    assert again.returncode == 0
    assert json.loads(motcua("services", "status", "--json").stdout)["pid"] == pid

    down = motcua("services", "down")
    assert down.returncode == 0 and "stopped" in down.stdout
    assert not _process_alive(pid)
    leftovers = subprocess.run(["pgrep", "-f", str(motcua_home)], capture_output=True, text=True)
    assert leftovers.stdout.strip() == ""
    assert motcua("services", "down").stdout.strip() == "object store was not running"


def test_services_refuse_when_an_external_endpoint_is_configured(
    motcua_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOTCUA_S3_ENDPOINT", "s3.example.vn:9000")
    result = motcua("services", "up")
    assert result.returncode == ExitCode.configuration
    assert "MOTCUA_S3_ENDPOINT" in result.stderr


def test_down_ignores_a_recorded_pid_that_is_not_our_server(tmp_path: Path) -> None:
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        server = EmbeddedS3Server(tmp_path)
        server.root.mkdir(parents=True)
        server.state_file.write_text(json.dumps({"pid": sleeper.pid, "endpoint": "127.0.0.1:1"}))
        assert server.status().running is False
        assert server.down(timeout=1) is False
        assert sleeper.poll() is None  # the unrelated process was left alone
    finally:
        sleeper.kill()
        sleeper.wait()


class TestWorm:
    """Object lock on the pinned server: retained versions cannot be deleted or shortened."""

    @pytest.fixture
    def locked_bucket(self, s3_setup_config: S3Config, bucket_name: str) -> str:
        # created by the set-up identity; the tests act with the working one (`s3_config`)
        s3_setup_config.client().make_bucket(bucket_name, object_lock=True)
        return bucket_name

    def test_compliance_retention_refuses_delete_and_keeps_overwritten_version(
        self, s3_config: S3Config, locked_bucket: str
    ) -> None:
        client = s3_config.client()
        first = client.put_object(
            locked_bucket,
            "record/manifest-sha256.txt",
            io.BytesIO(b"original"),
            8,
            retention=Retention(COMPLIANCE, _in_a_day()),
        )
        with pytest.raises(S3Error) as refused:
            client.remove_object(
                locked_bucket, "record/manifest-sha256.txt", version_id=first.version_id
            )
        assert refused.value.code == "AccessDenied"

        second = client.put_object(
            locked_bucket, "record/manifest-sha256.txt", io.BytesIO(b"tampered"), 8
        )
        assert second.version_id != first.version_id
        client.remove_object(locked_bucket, "record/manifest-sha256.txt")  # delete marker only
        kept = client.get_object(
            locked_bucket, "record/manifest-sha256.txt", version_id=first.version_id
        )
        try:
            assert kept.read() == b"original"
        finally:
            kept.close()
            kept.release_conn()

        with pytest.raises(S3Error):
            client.set_object_retention(
                locked_bucket,
                "record/manifest-sha256.txt",
                Retention(COMPLIANCE, dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)),
                version_id=first.version_id,
            )

    def test_governance_retention_refuses_delete_without_bypass(
        self, s3_config: S3Config, locked_bucket: str
    ) -> None:
        client = s3_config.client()
        put = client.put_object(
            locked_bucket,
            "g.pdf",
            io.BytesIO(b"%PDF"),
            4,
            retention=Retention(GOVERNANCE, _in_a_day()),
        )
        with pytest.raises(S3Error) as refused:
            client.remove_object(locked_bucket, "g.pdf", version_id=put.version_id)
        assert refused.value.code == "AccessDenied"

    def test_legal_hold_refuses_delete_until_released(
        self, s3_config: S3Config, locked_bucket: str
    ) -> None:
        client = s3_config.client()
        put = client.put_object(locked_bucket, "held.pdf", io.BytesIO(b"%PDF-1.7"), 8)
        client.enable_object_legal_hold(locked_bucket, "held.pdf", version_id=put.version_id)
        assert client.is_object_legal_hold_enabled(
            locked_bucket, "held.pdf", version_id=put.version_id
        )
        with pytest.raises(S3Error) as refused:
            client.remove_object(locked_bucket, "held.pdf", version_id=put.version_id)
        assert refused.value.code == "AccessDenied"
        client.disable_object_legal_hold(locked_bucket, "held.pdf", version_id=put.version_id)
        client.remove_object(locked_bucket, "held.pdf", version_id=put.version_id)
        names = [o.object_name for o in client.list_objects(locked_bucket, include_version=True)]
        assert "held.pdf" not in names

    def test_retention_is_still_enforced_after_expiry_window_is_checked(
        self, s3_config: S3Config, locked_bucket: str
    ) -> None:
        # A short retention expires; only then may the version go (the lock is time-based, not
        # a permanent refusal that would make the tests above pass for the wrong reason).
        client = s3_config.client()
        until = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=3)
        put = client.put_object(
            locked_bucket, "short.txt", io.BytesIO(b"x"), 1, retention=Retention(COMPLIANCE, until)
        )
        with pytest.raises(S3Error):
            client.remove_object(locked_bucket, "short.txt", version_id=put.version_id)
        time.sleep(max(0.0, (until - dt.datetime.now(dt.UTC)).total_seconds()) + 2)
        client.remove_object(locked_bucket, "short.txt", version_id=put.version_id)
