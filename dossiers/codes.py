"""Dossier codes (mã hồ sơ), Circular 01/2018/TT-VPCP Art. 19: `<unit code>-YYMMDD-NNNN`.

The unit code is the receiving office's code (QCVN 102:2016/BTTTT, e.g. `H40.29.10`), YYMMDD the
day received, NNNN a counter that restarts each day. Numbers come from a counter row per unit
and day, incremented by one atomic upsert inside the intake transaction: PostgreSQL locks the
row until the transaction ends, SQLite takes the database write lock (`BEGIN IMMEDIATE`), so
concurrent intakes in several processes never share a number.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dossiers.models import DayCounter
from motcua.errors import BadArgumentError, CheckFailedError

MAX_PER_DAY = 9999
_UNIT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.]*$")
_CODE_RE = re.compile(r"^(?P<unit>[A-Za-z0-9][A-Za-z0-9.]*)-(?P<day>\d{6})-(?P<number>\d{4})$")


@dataclass(frozen=True)
class DossierCode:
    unit_code: str
    day: dt.date
    number: int

    def __str__(self) -> str:
        return format_code(self.unit_code, self.day, self.number)


def check_unit_code(unit_code: str) -> str:
    if not _UNIT_RE.match(unit_code):
        raise BadArgumentError(
            f"invalid unit code {unit_code!r}",
            hint="a unit code (QCVN 102:2016/BTTTT) is letters, digits and dots, e.g. H40.29.10",
        )
    return unit_code


def format_code(unit_code: str, day: dt.date, number: int) -> str:
    """`H40.29.10-260424-0007`."""
    check_unit_code(unit_code)
    if not 1 <= number <= MAX_PER_DAY:
        raise BadArgumentError(f"dossier number {number} outside 1..{MAX_PER_DAY}")
    return f"{unit_code}-{day:%y%m%d}-{number:04d}"


def parse_code(code: str) -> DossierCode:
    """Split a dossier code into unit, day and number; `BadArgumentError` when malformed."""
    match = _CODE_RE.match(code.strip())
    if match is None:
        raise BadArgumentError(
            f"{code!r} is not a dossier code",
            hint="a dossier code looks like H40.29.10-260424-0007 (unit-YYMMDD-NNNN)",
        )
    try:
        day = dt.datetime.strptime(match["day"], "%y%m%d").date()
    except ValueError:
        raise BadArgumentError(f"{code!r}: {match['day']} is not a date (YYMMDD)") from None
    number = int(match["number"])
    if number < 1:
        raise BadArgumentError(f"{code!r}: dossier numbers start at 0001")
    return DossierCode(match["unit"], day, number)


def allocate_number(session: Session, unit_code: str, day: dt.date) -> int:
    """Take the next number of `day` for `unit_code` inside the caller's transaction."""
    dialect = session.get_bind().dialect.name
    if dialect in {"postgresql", "sqlite"}:
        number = int(session.execute(_upsert_counter(dialect, unit_code, day)).scalar_one())
    else:  # other engines: lock the row, then update or insert
        row = session.execute(
            select(DayCounter)
            .where(DayCounter.unit_code == unit_code, DayCounter.day == day)
            .with_for_update()
        ).scalar_one_or_none()
        if row is None:
            row = DayCounter(unit_code=unit_code, day=day, last_number=1)
            session.add(row)
        else:
            row.last_number += 1
        session.flush()
        number = row.last_number
    if number > MAX_PER_DAY:
        raise CheckFailedError(
            f"more than {MAX_PER_DAY} dossiers on {day.isoformat()} for unit {unit_code}",
            hint="the 4-digit counter of Circular 01/2018 is exhausted for the day",
        )
    return number


def _upsert_counter(dialect: str, unit_code: str, day: dt.date) -> Any:
    """`INSERT ... ON CONFLICT DO UPDATE SET last_number = last_number + 1 RETURNING` (atomic)."""
    table = DayCounter.__table__
    values = {"unit_code": unit_code, "day": day, "last_number": 1}
    bump = {"last_number": table.c.last_number + 1}
    keys = ["unit_code", "day"]
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        pg = postgresql.insert(DayCounter).values(values)
        return pg.on_conflict_do_update(index_elements=keys, set_=bump).returning(
            table.c.last_number
        )
    from sqlalchemy.dialects import sqlite

    lite = sqlite.insert(DayCounter).values(values)
    return lite.on_conflict_do_update(index_elements=keys, set_=bump).returning(table.c.last_number)
