"""Result numbers (số kết quả): one numbering book per result type and year, e.g. `12/TLKS`.

A book is named by its symbol (ký hiệu: `TLKS` for trích lục khai sinh, configurable in the
result template's `numbering` or the procedure's `result.number_symbol`). Numbers start at 1
each year, are allocated once and never reused: every allocation is a row of
`dossier_result_numbers`, and the per-book counter in `dossier_result_books` only goes up, also
when a result is later withdrawn. Allocation is one atomic upsert (`INSERT ... ON CONFLICT DO
UPDATE ... RETURNING`) on SQLite and PostgreSQL, so concurrent processes never get the same
number. Asking again for a dossier that already holds a number of the book returns that number
(a re-rendered result keeps its number).

The tables share `dossiers.models.Base`; `create_numbering_tables(engine)` creates them (the
register's `create_tables` does too once this module is imported).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, Integer, String, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from dossiers.models import Base, UtcDateTime
from motcua.errors import BadArgumentError
from motcua.types import nfc

# ký hiệu: capitals (Vietnamese ones too) and digits, joined by `-` or `.`: TLKS, XNTTHN, CT-BS
_SYMBOL = re.compile(r"^[^\W_]+(?:[-.][^\W_]+)*$")


class ResultBookCounter(Base):
    """The last number given out per book and year."""

    __tablename__ = "dossier_result_books"

    book: Mapped[str] = mapped_column(String(40), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer, nullable=False)


class ResultNumberRow(Base):
    """One number given out: kept for good, so that it is never handed out again."""

    __tablename__ = "dossier_result_numbers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    book: Mapped[str] = mapped_column(String(40), nullable=False)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    dossier_code: Mapped[str | None] = mapped_column(String(80), index=True)
    allocated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, nullable=False)

    __table_args__ = (
        UniqueConstraint("book", "year", "number", name="uq_dossier_result_number"),
        UniqueConstraint("book", "dossier_code", name="uq_dossier_result_number_dossier"),
    )


@dataclass(frozen=True)
class ResultNumber:
    """An allocated number; `text` is what the result prints after `Số:` (`12/TLKS`)."""

    book: str
    year: int
    number: int
    dossier_code: str | None = None

    @property
    def text(self) -> str:
        return f"{self.number}/{self.book}"

    def __str__(self) -> str:
        return self.text

    def as_json(self) -> dict[str, Any]:
        return {
            "book": self.book,
            "year": self.year,
            "number": self.number,
            "text": self.text,
            "dossier_code": self.dossier_code,
        }


def check_symbol(symbol: str) -> str:
    """The book's symbol, NFC and stripped; `BadArgumentError` (Vietnamese) when malformed."""
    text = nfc(symbol.strip())
    if not _SYMBOL.match(text) or text != text.upper() or len(text) > 40:
        raise BadArgumentError(
            f"ký hiệu sổ {symbol!r} không hợp lệ: chỉ gồm chữ in hoa, chữ số, '-' hoặc '.' "
            "(ví dụ TLKS)",
            hint="set the result template's numbering.symbol or the procedure's "
            "result.number_symbol",
        )
    return text


def create_numbering_tables(engine: Engine) -> None:
    """Create the two numbering tables when they do not exist yet."""
    tables = [ResultBookCounter.__table__, ResultNumberRow.__table__]
    with engine.begin() as connection:
        Base.metadata.create_all(connection, tables=tables)  # type: ignore[arg-type]


def allocate_result_number(
    engine: Engine,
    book: str,
    year: int,
    *,
    dossier_code: str | None = None,
    at: dt.datetime | None = None,
) -> ResultNumber:
    """The next number of `book` in `year`, in its own transaction.

    With `dossier_code`, a dossier that already holds a number of this book gets it back.
    On SQLite, pass an engine of `dossiers.register.create_register_engine` (its transactions
    take the write lock up front, so concurrent writers wait instead of failing).
    """
    symbol = check_symbol(book)
    if not 1900 <= year <= 9999:
        raise BadArgumentError(f"năm {year} của sổ {symbol} không hợp lệ")
    try:
        with Session(engine) as session, session.begin():
            return allocate_in_session(session, symbol, year, dossier_code=dossier_code, at=at)
    except IntegrityError:
        # Two allocations for the same dossier raced: the other one's number stands.
        if dossier_code is None:
            raise
        with Session(engine) as session:
            found = _held(session, symbol, dossier_code)
        if found is None:
            raise
        return found


def allocate_in_session(
    session: Session,
    book: str,
    year: int,
    *,
    dossier_code: str | None = None,
    at: dt.datetime | None = None,
) -> ResultNumber:
    """As `allocate_result_number`, inside the caller's transaction (the register's)."""
    symbol = check_symbol(book)
    if dossier_code is not None:
        held = _held(session, symbol, dossier_code)
        if held is not None:
            return held
    number = int(session.execute(_bump(session, symbol, year)).scalar_one())
    session.add(
        ResultNumberRow(
            book=symbol,
            year=year,
            number=number,
            dossier_code=dossier_code,
            allocated_at=at or dt.datetime.now(dt.UTC),
        )
    )
    session.flush()
    return ResultNumber(symbol, year, number, dossier_code)


def numbers_of(engine: Engine, dossier_code: str) -> list[ResultNumber]:
    """Every number a dossier holds, in allocation order."""
    with Session(engine) as session:
        rows = session.execute(
            select(ResultNumberRow)
            .where(ResultNumberRow.dossier_code == dossier_code)
            .order_by(ResultNumberRow.id)
        ).scalars()
        return [_number(r) for r in rows]


def _held(session: Session, book: str, dossier_code: str) -> ResultNumber | None:
    row = session.execute(
        select(ResultNumberRow).where(
            ResultNumberRow.book == book, ResultNumberRow.dossier_code == dossier_code
        )
    ).scalar_one_or_none()
    return None if row is None else _number(row)


def _number(row: ResultNumberRow) -> ResultNumber:
    return ResultNumber(row.book, row.year, row.number, row.dossier_code)


def _bump(session: Session, book: str, year: int) -> Any:
    """`INSERT ... ON CONFLICT DO UPDATE SET last_number = last_number + 1 RETURNING`."""
    table = ResultBookCounter.__table__
    values = {"book": book, "year": year, "last_number": 1}
    bump = {"last_number": table.c.last_number + 1}
    keys = ["book", "year"]
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        pg = postgresql.insert(ResultBookCounter).values(values)
        return pg.on_conflict_do_update(index_elements=keys, set_=bump).returning(
            table.c.last_number
        )
    if dialect == "sqlite":
        from sqlalchemy.dialects import sqlite

        lite = sqlite.insert(ResultBookCounter).values(values)
        return lite.on_conflict_do_update(index_elements=keys, set_=bump).returning(
            table.c.last_number
        )
    raise BadArgumentError(
        f"result numbering supports SQLite and PostgreSQL, not {dialect}",
        hint="use a SQLite or PostgreSQL catalogue database",
    )
