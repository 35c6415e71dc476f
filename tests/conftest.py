"""Shared fixtures: a real embedded S3 server for the session, isolated MOTCUA_HOME per test.

No S3 mocks: `s3_server` starts the same embedded server `motcua services up` starts, in a
temporary folder on free ports, and stops it after the session.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from storage.s3 import S3Config
from storage.server import EmbeddedS3Server
from tests.s3_identities import register

PG_BIN = Path("/usr/lib/postgresql/15/bin")

os.environ.setdefault("OMP_THREAD_LIMIT", "1")


@pytest.fixture(scope="session")
def s3_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("s3home")


@pytest.fixture(scope="session")
def s3_server(s3_home: Path) -> Iterator[EmbeddedS3Server]:
    """The embedded object store, running for the whole test session."""
    server = EmbeddedS3Server(s3_home)
    server.up(timeout=180)
    register(server)
    yield server
    server.down(timeout=60)


@pytest.fixture(scope="session")
def s3_config(s3_server: EmbeddedS3Server) -> S3Config:
    """The working identity: objects, retention and legal holds, no bucket administration."""
    return s3_server.config()


@pytest.fixture(scope="session")
def s3_setup_config(s3_server: EmbeddedS3Server) -> S3Config:
    """The set-up identity: creates buckets and their lock configuration."""
    return s3_server.setup_config()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_postgres(argv: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A throw-away PostgreSQL cluster (Debian's package) on a free 127.0.0.1 port.

    Yields the libpq "host=... port=... user=motcua" base; PostgreSQL refuses to run as root, so
    when the tests run as root the server runs as the `postgres` user.
    """
    base = Path(tempfile.mkdtemp(prefix="motcua-pg-"))
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(base, user.pw_uid, user.pw_gid)
    data = base / "data"
    port = free_port()
    initdb = [str(PG_BIN / "initdb"), "-D", str(data), "-U", "motcua", "--auth=trust"]
    initdb += ["--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"]
    subprocess.run(_as_postgres(initdb), check=True, capture_output=True)
    options = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off"
    pg_ctl = [str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(base / "server.log")]
    subprocess.run(
        _as_postgres([*pg_ctl, "-o", options, "-w", "-t", "60", "start"]),
        check=True,
        capture_output=True,
    )
    try:
        yield f"host=127.0.0.1 port={port} user=motcua"
    finally:
        subprocess.run(_as_postgres([*pg_ctl, "-m", "fast", "-w", "stop"]), capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def new_postgres_database(postgres_server: str) -> Callable[[str], str]:
    """Create a database on the session's server; returns its host:port/name part of a URL."""
    import psycopg

    def create(prefix: str) -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(f"{postgres_server} dbname=postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        params = dict(part.split("=") for part in postgres_server.split())
        return f"motcua@{params['host']}:{params['port']}/{name}"

    return create


@pytest.fixture(scope="session")
def unused_port() -> Callable[[], int]:
    """A function returning a free TCP port on 127.0.0.1."""
    return free_port


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
