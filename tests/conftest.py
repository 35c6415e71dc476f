"""Shared fixtures: a real embedded S3 server for the session, isolated MOTCUA_HOME per test.

No S3 mocks: `s3_server` starts the same embedded server `motcua services up` starts, in a
temporary folder on free ports, and stops it after the session.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from storage.s3 import S3Config
from storage.server import EmbeddedS3Server

os.environ.setdefault("OMP_THREAD_LIMIT", "1")


@pytest.fixture(scope="session")
def s3_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("s3home")


@pytest.fixture(scope="session")
def s3_server(s3_home: Path) -> Iterator[EmbeddedS3Server]:
    """The embedded object store, running for the whole test session."""
    server = EmbeddedS3Server(s3_home)
    server.up(timeout=180)
    yield server
    server.down(timeout=60)


@pytest.fixture(scope="session")
def s3_config(s3_server: EmbeddedS3Server) -> S3Config:
    return s3_server.config()


@pytest.fixture
def bucket_name() -> str:
    """A fresh bucket name for a test (S3 names: lowercase, digits, hyphens)."""
    return f"t-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def motcua_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An isolated MOTCUA_HOME and no config file from the developer's machine."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("MOTCUA_HOME", str(home))
    monkeypatch.setenv("MOTCUA_CONFIG", str(tmp_path / "absent.toml"))
    for key in list(os.environ):
        if key.startswith("MOTCUA_") and key not in {"MOTCUA_HOME", "MOTCUA_CONFIG"}:
            monkeypatch.delenv(key)
    return home


def _configure_prefect_for_tests() -> None:
    """Embedded Prefect with its database in a per-session temporary folder."""
    import atexit
    import shutil
    import tempfile

    from flows.runtime import configure_prefect

    home = tempfile.mkdtemp(prefix="motcua-prefect-")
    atexit.register(shutil.rmtree, home, ignore_errors=True)
    configure_prefect(Path(home))


_configure_prefect_for_tests()
