"""Fixtures for the archive tests: catalogues on both databases (the real PostgreSQL server of
`tests/conftest.py`), archives on the session's S3 server."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from storage.archive import Archive, Buckets
from storage.catalogue import Catalogue
from storage.s3 import S3Config


@pytest.fixture(scope="session")
def postgres_url(new_postgres_database: Callable[[str], str]) -> str:
    """A SQLAlchemy URL of a fresh database on the session's PostgreSQL server."""
    return "postgresql+psycopg://" + new_postgres_database("motcua_test")


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
def archive(
    s3_config: S3Config, s3_setup_config: S3Config, buckets: Buckets, tmp_path: Path
) -> Iterator[Archive]:
    """An archive on the session's S3 server with fresh buckets and a SQLite catalogue."""
    cat = Catalogue(f"sqlite:///{tmp_path / 'archive-catalog.sqlite3'}")
    yield Archive(s3_config, cat, buckets, setup=s3_setup_config)
    cat.close()
