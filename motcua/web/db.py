"""One engine for the catalogue database, shared by the web tables and the dossier register."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from dossiers.register import create_register_engine
from motcua.errors import MotcuaError, ServiceUnavailableError

T = TypeVar("T")


def open_engine(url: str) -> Engine:
    """An engine on `url`; on SQLite each transaction takes the write lock up front."""
    return create_register_engine(url)


def run(engine: Engine, work: Callable[[Session], T], *, what: str) -> T:
    """Run `work` in one transaction; database failures become `ServiceUnavailableError`."""
    try:
        with Session(engine, expire_on_commit=False) as session, session.begin():
            return work(session)
    except (IntegrityError, MotcuaError):
        raise
    except OperationalError as exc:
        url = engine.url.render_as_string(hide_password=True)
        raise ServiceUnavailableError(
            f"{what} at {url}: {exc.orig}",
            hint="check that the database is reachable and `motcua` created its tables",
        ) from None
    except SQLAlchemyError as exc:
        raise ServiceUnavailableError(f"{what}: {exc}") from None
