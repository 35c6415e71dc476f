"""Fixtures for the archive tests: a real PostgreSQL server, catalogues on both databases, archives.

PostgreSQL comes from Debian's `postgresql` package: `initdb` a throw-away cluster in a temporary
folder, start it on a free 127.0.0.1 port, and stop it after the session. PostgreSQL refuses to
run as root, so when the tests run as root the server runs as the `postgres` user.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from storage.archive import Archive, Buckets
from storage.catalogue import Catalogue
from storage.s3 import S3Config

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_postgres(argv: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A SQLAlchemy URL of a fresh database on a PostgreSQL server started for this session."""
    base = Path(tempfile.mkdtemp(prefix="motcua-pg-"))
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(base, user.pw_uid, user.pw_gid)
    data = base / "data"
    port = _free_port()
    subprocess.run(
        _as_postgres(
            [
                str(PG_BIN / "initdb"),
                "-D",
                str(data),
                "-U",
                "motcua",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ]
        ),
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off"
    pg_ctl = [str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(base / "server.log")]
    subprocess.run(
        _as_postgres([*pg_ctl, "-o", options, "-w", "-t", "60", "start"]),
        check=True,
        capture_output=True,
    )
    try:
        import psycopg

        with psycopg.connect(
            f"host=127.0.0.1 port={port} user=motcua dbname=postgres", autocommit=True
        ) as conn:
            conn.execute("CREATE DATABASE motcua_test")
        yield f"postgresql+psycopg://motcua@127.0.0.1:{port}/motcua_test"
    finally:
        subprocess.run(_as_postgres([*pg_ctl, "-m", "fast", "-w", "stop"]), capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def catalogue_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty catalogue URL on SQLite and on PostgreSQL (each test runs on both)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'catalog.sqlite3'}"
    base_url: str = request.getfixturevalue("postgres_url")
    import psycopg

    name = f"cat_{uuid.uuid4().hex[:10]}"
    server = base_url.rsplit("/", 1)[0].replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return f"{base_url.rsplit('/', 1)[0]}/{name}"


@pytest.fixture
def catalogue(catalogue_url: str) -> Iterator[Catalogue]:
    cat = Catalogue(catalogue_url)
    yield cat
    cat.close()


@pytest.fixture
def buckets() -> Buckets:
    tag = uuid.uuid4().hex[:10]
    return Buckets(originals=f"o-{tag}", archive=f"a-{tag}", quarantine=f"q-{tag}")


@pytest.fixture
def archive(s3_config: S3Config, buckets: Buckets, tmp_path: Path) -> Iterator[Archive]:
    """An archive on the session's S3 server with fresh buckets and a SQLite catalogue."""
    cat = Catalogue(f"sqlite:///{tmp_path / 'archive-catalog.sqlite3'}")
    yield Archive(s3_config, cat, buckets)
    cat.close()
