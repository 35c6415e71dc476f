"""The dossier list in SQL: filters, sort orders, a total count and keyset (cursor) paging.

Every filter is a WHERE clause and every page one indexed query, so a page of 50 costs the same
at 100 000 dossiers as at 100. The cursor is opaque to clients (URL-safe base64 of the sort
order, the last row's sort key and its id): the next page starts strictly after that row, so
dossiers taken in meanwhile neither repeat nor shift a page, unlike `offset`.

Sort orders: `received` (newest first, the list's default), `received_asc`, `due` (earliest due
date first, dossiers without one last), `updated` (least recently changed first: with
`updated_since`, what an e-office system polls to stay in step).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, and_, func, or_, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import InstrumentedAttribute, Session, selectinload

from dossiers.calendar import to_local
from dossiers.dossier import Dossier, Status
from dossiers.models import DossierRow, StatusChangeRow
from dossiers.snapshots import snapshot
from motcua.errors import BadArgumentError
from motcua.types import fold

log = logging.getLogger("dossiers.listing")

SORTS = ("received", "received_asc", "due", "updated")
MAX_LIMIT = 1000


@dataclass(frozen=True)
class ListQuery:
    """What to list: each filter is optional; `q` matches the code or the citizen's name,
    with or without diacritics."""

    statuses: tuple[Status, ...] = ()
    procedure_key: str | None = None
    received_from: dt.date | None = None  # Vietnam days, inclusive
    received_to: dt.date | None = None
    q: str | None = None
    updated_since: dt.datetime | None = None  # changed at or after this instant
    sort: str = "received"

    def __post_init__(self) -> None:
        if self.sort not in SORTS:
            raise BadArgumentError(
                f"sort {self.sort!r} không hợp lệ (unknown sort order)",
                hint="one of " + ", ".join(SORTS),
            )


@dataclass(frozen=True)
class Page:
    items: tuple[Dossier, ...]
    total: int  # dossiers matching the filters, over all pages
    next_cursor: str | None  # None on the last page


@dataclass(frozen=True)
class _Order:
    column: InstrumentedAttribute[Any]
    descending: bool
    is_date: bool  # the key is a date (else an aware datetime)


_ORDERS = {
    "received": _Order(DossierRow.received_at, True, False),
    "received_asc": _Order(DossierRow.received_at, False, False),
    "due": _Order(DossierRow.due_date, False, True),
    "updated": _Order(DossierRow.updated_at, False, False),
}


def day_start_utc(day: dt.date) -> dt.datetime:
    return to_local(dt.datetime.combine(day, dt.time())).astimezone(dt.UTC)


def conditions(query: ListQuery) -> list[ColumnElement[bool]]:
    """The WHERE clauses of `query`'s filters."""
    out: list[ColumnElement[bool]] = []
    if query.statuses:
        out.append(DossierRow.status.in_([s.value for s in query.statuses]))
    if query.procedure_key:  # PostgreSQL takes no NUL in a string: such a key matches nothing
        out.append(DossierRow.procedure_key == query.procedure_key.replace("\x00", ""))
    if query.received_from:
        out.append(DossierRow.received_at >= day_start_utc(query.received_from))
    if query.received_to:
        next_day = query.received_to + dt.timedelta(days=1)
        out.append(DossierRow.received_at < day_start_utc(next_day))
    if query.updated_since is not None:
        out.append(DossierRow.updated_at >= query.updated_since)
    needle = fold(query.q.replace("\x00", "")) if query.q else ""
    if needle:
        out.append(
            or_(
                func.lower(DossierRow.code).contains(needle, autoescape=True),
                DossierRow.citizen_name_folded.contains(needle, autoescape=True),
            )
        )
    return out


def encode_cursor(sort: str, row: DossierRow) -> str:
    value = getattr(row, _ORDERS[sort].column.key)
    key = value.isoformat() if value is not None else None
    raw = json.dumps([sort, key, row.id], separators=(",", ":")).encode("ascii")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(sort: str, cursor: str) -> tuple[Any, int]:
    """The (sort key, id) a cursor carries; BadArgumentError for a foreign or damaged one."""
    bad = BadArgumentError(
        "cursor không hợp lệ (invalid cursor)",
        hint="use the `next` cursor of the previous page, with the same sort",
    )
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        got_sort, key, row_id = json.loads(raw)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise bad from None
    if got_sort != sort or not isinstance(row_id, int) or not isinstance(key, str | None):
        raise bad
    if key is None:
        return None, row_id
    try:
        if _ORDERS[sort].is_date:
            return dt.date.fromisoformat(key), row_id
        moment = dt.datetime.fromisoformat(key)
    except ValueError:
        raise bad from None
    if moment.tzinfo is None:
        raise bad
    return moment, row_id


def _after(order: _Order, key: Any, row_id: int) -> ColumnElement[bool]:
    """Rows strictly after (key, id) in `order` (nulls sort last in ascending orders)."""
    col = order.column
    if order.descending:
        return or_(col < key, and_(col == key, DossierRow.id < row_id))
    if key is None:
        return and_(col.is_(None), DossierRow.id > row_id)
    return or_(col > key, and_(col == key, DossierRow.id > row_id), col.is_(None))


def _ordered(stmt: Select[Any], order: _Order) -> Select[Any]:
    if order.descending:
        return stmt.order_by(order.column.desc(), DossierRow.id.desc())
    # NULLS LAST said explicitly (SQLite's default is first); on PostgreSQL it is the order of
    # the (column, id) index, so a page is an index scan, not a sort of every row.
    return stmt.order_by(order.column.asc().nulls_last(), DossierRow.id)


def page(
    session: Session,
    query: ListQuery,
    *,
    limit: int = 50,
    cursor: str | None = None,
    offset: int = 0,
) -> Page:
    """One page of `query`: at most `limit` dossiers after `cursor` (or from `offset`)."""
    if not 1 <= limit <= MAX_LIMIT:
        raise BadArgumentError(f"limit {limit} ngoài khoảng 1–{MAX_LIMIT}")
    order = _ORDERS[query.sort]
    where = conditions(query)
    total = int(
        session.execute(select(func.count()).select_from(DossierRow).where(*where)).scalar_one()
    )
    stmt = select(DossierRow).where(*where)
    if cursor:
        stmt = stmt.where(_after(order, *decode_cursor(query.sort, cursor)))
    elif offset:
        stmt = stmt.offset(offset)
    stmt = _ordered(stmt, order).limit(limit + 1)
    stmt = stmt.options(selectinload(DossierRow.documents), selectinload(DossierRow.history))
    rows: Sequence[DossierRow] = session.scalars(stmt).all()
    more = len(rows) > limit
    shown = rows[:limit]
    next_cursor = encode_cursor(query.sort, shown[-1]) if more and shown else None
    return Page(tuple(snapshot(r) for r in shown), total, next_cursor)


def backfill(session: Session) -> None:
    """Fill `updated_at` (the last status change) and the folded name on rows made before them."""
    last_change = (
        select(func.max(StatusChangeRow.at))
        .where(StatusChangeRow.dossier_id == DossierRow.id)
        .scalar_subquery()
    )
    session.execute(
        update(DossierRow)
        .where(DossierRow.updated_at.is_(None))
        .values(updated_at=func.coalesce(last_change, DossierRow.received_at))
        .execution_options(synchronize_session=False)
    )
    unfolded = session.execute(
        select(DossierRow.id, DossierRow.citizen_name).where(
            DossierRow.citizen_name.is_not(None), DossierRow.citizen_name_folded.is_(None)
        )
    ).all()
    for row_id, name in unfolded:
        session.execute(
            update(DossierRow)
            .where(DossierRow.id == row_id)
            .values(citizen_name_folded=fold(name or "")[:200])
            .execution_options(synchronize_session=False)
        )


# `q` is a substring match (LIKE '%…%'), which a B-tree cannot answer: on PostgreSQL, pg_trgm's
# GIN indexes find the matching names and codes without reading every row.
TRIGRAM_INDEXES = {
    "ix_dossier_dossiers_name_trgm": "citizen_name_folded",
    "ix_dossier_dossiers_code_trgm": "lower(code)",
}


def trigram_indexes(connection: Connection) -> bool:
    """Create the search's trigram indexes on PostgreSQL; False when pg_trgm cannot be had
    (a role that may not create the extension): the list then still answers, reading every
    row for `q`."""
    if connection.dialect.name != "postgresql":
        return False
    try:
        with connection.begin_nested():
            connection.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DBAPIError as exc:
        log.warning(
            "pg_trgm unavailable (%s): the dossier search reads every row; a superuser can run "
            "CREATE EXTENSION pg_trgm in this database",
            type(exc.orig).__name__,
        )
        return False
    for index, expression in TRIGRAM_INDEXES.items():
        connection.exec_driver_sql(
            f"CREATE INDEX IF NOT EXISTS {index} ON dossier_dossiers "
            f"USING gin (({expression}) gin_trgm_ops)"
        )
    return True
