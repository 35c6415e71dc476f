"""Fixtures for the dossier tests: a real PostgreSQL server and registers on both databases.

`postgres_url` starts a throw-away PostgreSQL cluster (Debian's `postgresql` package) on a free
127.0.0.1 port for the session, as the `postgres` user when the tests run as root. It carries the
same name as the storage tests' fixture so that, once a shared one lives in tests/conftest.py,
deleting this one is all it takes.
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

from dossiers.forms.pdf import Office
from dossiers.procedures import Catalogue, load_catalogue
from dossiers.register import DossierRegister

PG_BIN = Path("/usr/lib/postgresql/15/bin")
UNIT = "H40.29.10"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_postgres(argv: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A SQLAlchemy URL of a fresh database on a PostgreSQL server started for this session."""
    base = Path(tempfile.mkdtemp(prefix="motcua-dossier-pg-"))
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(base, user.pw_uid, user.pw_gid)
    data = base / "data"
    port = _free_port()
    initdb = [str(PG_BIN / "initdb"), "-D", str(data), "-U", "motcua", "--auth=trust"]
    subprocess.run(
        _as_postgres([*initdb, "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"]),
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
            conn.execute("CREATE DATABASE motcua_dossiers")
        yield f"postgresql+psycopg://motcua@127.0.0.1:{port}/motcua_dossiers"
    finally:
        subprocess.run(
            _as_postgres([*pg_ctl, "-m", "fast", "-w", "stop"]), check=False, capture_output=True
        )
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    return load_catalogue()


@pytest.fixture
def office() -> Office:
    return Office(
        name="Ủy ban nhân dân xã Hòa Tiến",
        parent="UBND HUYỆN HÒA VANG",
        place="Hòa Tiến",
        unit_code=UNIT,
        phone="0236 3846 123",
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database on each engine: a SQLite file, or a new PostgreSQL schema-less database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'catalog.sqlite3'}"
    base_url: str = request.getfixturevalue("postgres_url")
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(base_url)
    name = f"d_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(
        f"host={url.host} port={url.port} user={url.username} dbname={url.database}",
        autocommit=True,
    ) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return url.set(database=name).render_as_string(hide_password=False)


@pytest.fixture
def register(db_url: str) -> Iterator[DossierRegister]:
    reg = DossierRegister(db_url, unit_code=UNIT)
    reg.create_tables()
    yield reg
    reg.engine.dispose()


def _sha(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()


def populate_report_scenario(register: DossierRegister, catalogue: Catalogue) -> dict[str, str]:
    """Nine dossiers around April-May 2026 with hand-computed outcomes (see test_dossier_report)."""
    import datetime as dt

    from dossiers.calendar import VN_TZ
    from dossiers.register import DocumentIn

    def at(m: int, d: int, hh: int = 9) -> dt.datetime:
        return dt.datetime(2026, m, d, hh, 0, tzinfo=VN_TZ)

    marital = catalogue.get("xac-nhan-tinh-trang-hon-nhan")
    birth = catalogue.get("dang-ky-khai-sinh")

    def take(name: str, when: dt.datetime, *, complete: bool = True, kind: str = "m") -> str:
        procedure = marital if kind == "m" else birth
        kinds = procedure.required_kinds if complete else procedure.required_kinds[:1]
        docs = [DocumentIn(f"/{name}/{k}.pdf", k, _sha(name + k)) for k in kinds]
        return register.intake(procedure, docs, received_at=when).dossier.code

    codes = {
        "D9": take("D9", at(3, 10)),
        "D8": take("D8", at(3, 31)),
        "D1": take("D1", at(4, 24, 9)),
        "D2": take("D2", at(4, 24, 10)),
        "D3": take("D3", at(4, 24, 11)),
        "D4": take("D4", at(4, 28, 16), kind="b"),
        "D5": take("D5", at(4, 29, 10), kind="b"),
        "D6": take("D6", at(5, 27)),
        "D7": take("D7", at(5, 20), complete=False, kind="b"),
    }
    register.mark_result_signed(codes["D9"], at=at(3, 12))
    register.mark_result_signed(codes["D8"], at=at(4, 2))
    register.mark_result_signed(codes["D1"], at=at(4, 29))
    register.start_processing(codes["D2"], at=at(4, 28))
    register.mark_result_signed(codes["D2"], at=at(5, 4, 16))
    register.start_processing(codes["D3"], at=at(4, 28))
    register.record_apology(codes["D3"], dt.date(2026, 5, 6), at=at(5, 4, 16))
    register.mark_result_signed(codes["D3"], at=at(5, 6))
    register.mark_result_signed(codes["D4"], at=at(4, 29, 11))
    register.start_processing(codes["D5"], at=at(4, 29, 11))
    return codes


@pytest.fixture
def report_scenario() -> object:
    return populate_report_scenario
