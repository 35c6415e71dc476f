"""Fixtures for the dossier tests: registers on SQLite and on the session's real PostgreSQL.

The PostgreSQL server is the shared one of tests/conftest.py (`new_postgres_database`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from dossiers.forms.pdf import Office
from dossiers.procedures import Catalogue, load_catalogue
from dossiers.register import DossierRegister

UNIT = "H40.29.10"


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
    """A fresh database on each engine: a SQLite file, or a new database on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'catalog.sqlite3'}"
    new_database: Callable[[str], str] = request.getfixturevalue("new_postgres_database")
    return f"postgresql+psycopg://{new_database('dossiers')}"


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
