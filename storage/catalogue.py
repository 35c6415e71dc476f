"""The catalogue: a searchable cache of the archive's records (SQLAlchemy; SQLite or PostgreSQL).

Everything here can be rebuilt from the object store (`Archive.reindex`). Every word of a query
must match, and a phrase in double quotes must match side by side (`storage.query`); words match
exactly (NFC, case-insensitive) or diacritic-folded (`nguyen thi hang` finds `Nguyễn Thị Hằng`,
`đ` → `d`). Hits come in tiers: the words with their diacritics and side by side as typed (not
when the query quotes a phrase itself), then with their diacritics anywhere, then folded side by
side, then folded anywhere; within a tier the newest archived first (catalogue order, which both
indexes walk without scoring every match: p95 under 50 ms at 100k records, bench/archive.py).
SQLite uses FTS5, PostgreSQL full-text search (`simple` configuration over the NFC and the
folded text, GIN-indexed); `SearchBackend` hides the difference.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    event,
    func,
    insert,
    literal_column,
    select,
    table,
    text,
    update,
)
from sqlalchemy import column as sql_column
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql.elements import ColumnElement

from motcua.errors import ConfigurationError, ServiceUnavailableError
from motcua.types import fold, nfc
from storage.query import ParsedQuery, Term, fts5_expression, make_snippet, parse_query

_metadata = MetaData()

records = Table(
    "archive_records",
    _metadata,
    Column("doc_id", Integer, primary_key=True, autoincrement=True),
    Column("record_id", String(32), nullable=False, unique=True),
    Column("dossier_code", String(64), nullable=False, index=True),
    Column("title", Text, nullable=False),
    Column("procedure", String(200), nullable=False, index=True),
    Column("retention_class", String(32), nullable=False, index=True),
    Column("date_start", Date, nullable=False, index=True),
    Column("date_end", Date, nullable=False, index=True),
    Column("archived_at", DateTime(timezone=True), nullable=False, index=True),
    Column("on_hold", Boolean, nullable=False, default=False),
    Column("metadata_json", Text, nullable=False),
    Column("search_text", Text, nullable=False),  # NFC as archived, for snippets
    Column("search_exact", Text, nullable=False),  # NFC, case-folded
    Column("search_folded", Text, nullable=False),  # motcua.types.fold
)

record_id_numbers = Table(
    "archive_record_id_numbers",
    _metadata,
    Column(
        "doc_id",
        Integer,
        ForeignKey("archive_records.doc_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("id_number", String(20), primary_key=True, index=True),
)


@dataclass(frozen=True)
class CatalogueEntry:
    """One record as the catalogue knows it."""

    record_id: str
    dossier_code: str
    title: str
    procedure: str
    retention_class: str
    date_start: dt.date
    date_end: dt.date
    archived_at: dt.datetime
    id_numbers: tuple[str, ...]
    metadata: dict[str, Any]
    text: str  # everything searchable, NFC
    on_hold: bool = False


@dataclass(frozen=True)
class SearchQuery:
    """A search: words (may be empty when filters suffice) and filters."""

    text: str = ""
    dossier_code: str | None = None
    id_number: str | None = None
    procedure: str | None = None
    retention_class: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    limit: int = 20


@dataclass(frozen=True)
class SearchHit:
    record_id: str
    dossier_code: str
    title: str
    snippet: str  # the record's own words around the match, matched words in [brackets]
    exact: bool  # the NFC words matched, not only their folded forms
    rank: int  # 1 = best
    snippet_html: str = ""  # the same, HTML-escaped, matched words in <mark>…</mark>
    phrase: bool = False  # the words stand side by side in the order typed


@dataclass(frozen=True)
class _Tier:
    """One pass of a search: these terms, in the exact or the folded spelling."""

    terms: tuple[Term, ...]
    folded: bool
    phrase: bool
    ranking_only: bool = False  # every word as typed, side by side: a bounded look may do


def _tiers(parsed: ParsedQuery) -> list[_Tier]:
    """Exact before folded; within each, the words side by side as typed before anywhere
    (unless the query quotes a phrase: then it said itself which words go together)."""
    tiers = []
    as_typed = len(parsed.terms) > 1 and not any(t.quoted for t in parsed.terms)
    for folded in (False, True):
        if as_typed:
            tiers.append(_Tier((parsed.as_one_phrase(),), folded, True, ranking_only=True))
        tiers.append(_Tier(parsed.terms, folded, len(parsed.terms) == 1))
    return tiers


def searchable_text(entry_metadata: dict[str, Any], fulltext: str) -> str:
    """The text a record is found by besides its code, title and ID numbers (which the
    catalogue adds itself): keywords, documents, extracted fields, then OCR text."""
    parts: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, str) and value:
            parts.append(value)

    for key in ("keywords", "procedure", "documents"):
        walk(entry_metadata.get(key))
    walk(entry_metadata.get("extracted"))
    walk(entry_metadata.get("extra"))
    parts.append(fulltext)
    return nfc("\n".join(p for p in parts if p))


class SearchBackend(Protocol):
    """What differs between databases: the full-text index and the matching query."""

    def create(self, conn: Connection) -> None: ...
    def index(self, conn: Connection, rows: Sequence[dict[str, Any]]) -> None: ...
    def unindex(self, conn: Connection, doc_ids: Sequence[int]) -> None: ...
    def clear(self, conn: Connection) -> None: ...
    def matches(
        self, conn: Connection, tier: _Tier, filters: list[Any], skip: Sequence[int], limit: int
    ) -> list[int]:
        """The best `limit` records matching every term of `tier`, best first, except `skip`."""
        ...


_fts = table("archive_fts", sql_column("rowid", Integer))


class SqliteFts5:
    """An FTS5 table keyed by `doc_id`, one column of NFC words, one of folded words."""

    def create(self, conn: Connection) -> None:
        conn.exec_driver_sql(
            "CREATE VIRTUAL TABLE IF NOT EXISTS archive_fts USING fts5("
            "exact, folded, tokenize = 'unicode61 remove_diacritics 0')"
        )

    def index(self, conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
        conn.execute(
            text("INSERT INTO archive_fts(rowid, exact, folded) VALUES (:doc_id, :exact, :folded)"),
            [
                {"doc_id": r["doc_id"], "exact": r["search_exact"], "folded": r["search_folded"]}
                for r in rows
            ],
        )

    def unindex(self, conn: Connection, doc_ids: Sequence[int]) -> None:
        conn.execute(
            text("DELETE FROM archive_fts WHERE rowid = :doc_id"),
            [{"doc_id": d} for d in doc_ids],
        )

    def clear(self, conn: Connection) -> None:
        conn.exec_driver_sql("DELETE FROM archive_fts")

    def matches(
        self, conn: Connection, tier: _Tier, filters: list[Any], skip: Sequence[int], limit: int
    ) -> list[int]:
        column = "folded" if tier.folded else "exact"
        # Newest first, in the index's own order: FTS5 walks its lists backwards and stops at
        # `limit` instead of scoring every match (bm25 over a common name's thousands of hits
        # is what broke 50 ms at 100k records); it also drives the join, so the filters are
        # tested on the matches only.
        stmt = (
            select(_fts.c.rowid)
            .select_from(_fts.join(records, records.c.doc_id == _fts.c.rowid))
            .where(
                text("archive_fts MATCH :q"),
                *filters,
                *([records.c.doc_id.not_in(skip)] if skip else []),
            )
            .order_by(_fts.c.rowid.desc())
            .limit(limit)
        )
        q = fts5_expression(tier.terms, column, tier.folded)
        return [int(doc_id) for (doc_id,) in conn.execute(stmt, {"q": q})]


class PostgresFullText:
    """Generated `tsvector` columns (`simple` configuration) with GIN indexes."""

    def create(self, conn: Connection) -> None:
        for column, source in (("tsv_exact", "search_exact"), ("tsv_folded", "search_folded")):
            conn.exec_driver_sql(
                f"ALTER TABLE archive_records ADD COLUMN IF NOT EXISTS {column} tsvector "
                f"GENERATED ALWAYS AS (to_tsvector('simple', {source})) STORED"
            )
            conn.exec_driver_sql(
                f"CREATE INDEX IF NOT EXISTS archive_records_{column}_idx "
                f"ON archive_records USING gin ({column})"
            )

    def index(self, conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
        return None  # the generated columns follow the row

    def unindex(self, conn: Connection, doc_ids: Sequence[int]) -> None:
        return None

    def clear(self, conn: Connection) -> None:
        return None

    def matches(
        self, conn: Connection, tier: _Tier, filters: list[Any], skip: Sequence[int], limit: int
    ) -> list[int]:
        simple: ColumnElement[Any] = literal_column("'simple'::regconfig")

        def all_of(build: Any) -> ColumnElement[Any]:
            # each term parsed by PostgreSQL itself, as the indexed text was; `&&` ANDs them
            parts = [build(simple, term.text(tier.folded)) for term in tier.terms]
            query: ColumnElement[Any] = parts[0]
            for part in parts[1:]:
                query = query.op("&&")(part)
            return query

        words, phrases = all_of(func.plainto_tsquery), all_of(func.phraseto_tsquery)
        column = "tsv_folded" if tier.folded else "tsv_exact"
        tsv: ColumnElement[Any] = literal_column(f"archive_records.{column}")
        where = [tsv.op("@@")(words), *filters, *([records.c.doc_id.not_in(skip)] if skip else [])]
        side_by_side = any(len(term.exact) > 1 for term in tier.terms)
        # Newest first, as on SQLite, in two looks through the GIN index, which finds the
        # records holding every word without reading them: first among the newest records (a
        # common word fills the page there, and only those few rows are read), then, if the
        # page is not full, among the rest. `+ 0` keeps the planner off a backward walk of the
        # primary key, which reads every row for a rare name (seconds at 100k records).
        top = conn.execute(select(func.max(records.c.doc_id))).scalar()
        if top is None:
            return []
        floor = int(top) - self.recent_window
        found: list[int] = []
        for part, key in (
            (records.c.doc_id > floor, records.c.doc_id + 0),
            (records.c.doc_id <= floor, records.c.doc_id + 0),
        ):
            stmt = self._newest(
                [*where, part], key, tsv, phrases if side_by_side else None, tier.ranking_only
            )
            found += [int(row[0]) for row in conn.execute(stmt.limit(limit - len(found)))]
            if len(found) >= limit:
                break
        return found

    recent_window = 3000  # records looked at by the first, backward walk
    ranking_candidates = 2000  # the newest records holding every word, for the as-typed tier

    def _newest(
        self,
        where: list[Any],
        key: Any,
        tsv: ColumnElement[Any],
        phrases: ColumnElement[Any] | None,
        ranking_only: bool,
    ) -> Any:
        newest = key.label("newest")
        if phrases is None:
            return select(records.c.doc_id).where(*where).order_by(newest.desc())
        # Side by side is a second look at each record's positions: only at the newest
        # candidates until enough pass (`OFFSET 0` keeps it out of the index scan, which would
        # look at every candidate: a common phrase is in most records). The as-typed tier only
        # ranks, and its words are often common ones: it looks at the newest candidates only.
        candidates = select(records.c.doc_id, newest, tsv.label("tsv")).where(*where)
        candidates = candidates.order_by(newest.desc())
        if ranking_only:
            candidates = candidates.limit(self.ranking_candidates)
        ordered = candidates.offset(0).subquery("candidates")
        return (
            select(ordered.c.doc_id, ordered.c.newest)
            .where(ordered.c.tsv.op("@@")(phrases))
            .order_by(ordered.c.newest.desc())
        )


class Catalogue:
    """The record catalogue behind one SQLAlchemy URL."""

    def __init__(self, url: str) -> None:
        try:
            parsed = make_url(url)
        except Exception as exc:
            raise ConfigurationError(
                f"invalid catalogue URL ({exc})", hint="fix MOTCUA_CATALOG_URL"
            ) from None
        self.dialect = parsed.get_backend_name()
        backend: SearchBackend
        if self.dialect == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            backend = SqliteFts5()
        elif self.dialect == "postgresql":
            if parsed.drivername == "postgresql":
                parsed = parsed.set(drivername="postgresql+psycopg")
            backend = PostgresFullText()
        else:
            raise ConfigurationError(
                f"catalogue database {self.dialect!r} is not supported",
                hint="use a sqlite:/// or postgresql:// URL in MOTCUA_CATALOG_URL",
            )
        self.backend = backend
        self.engine: Engine = create_engine(parsed, future=True)
        if self.dialect == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._url_display = parsed.render_as_string(hide_password=True)
        self._created = False

    def _ensure(self) -> None:
        if self._created:
            return
        try:
            with self.engine.begin() as conn:
                _metadata.create_all(conn)
                self.backend.create(conn)
        except SQLAlchemyError as exc:
            raise ServiceUnavailableError(
                f"catalogue database {self._url_display} cannot be used ({exc.__class__.__name__}: "
                f"{str(exc).splitlines()[0]})",
                hint="check MOTCUA_CATALOG_URL and that the database server runs",
            ) from None
        self._created = True

    def close(self) -> None:
        self.engine.dispose()

    # -- writing ---------------------------------------------------------------------------

    def upsert(self, entries: Iterable[CatalogueEntry]) -> int:
        """Insert or replace entries; returns how many were written."""
        self._ensure()
        count = 0
        with self.engine.begin() as conn:
            batch: list[CatalogueEntry] = []
            for entry in entries:
                batch.append(entry)
                if len(batch) >= 2000:
                    count += self._write(conn, batch)
                    batch = []
            if batch:
                count += self._write(conn, batch)
        return count

    def _write(self, conn: Connection, batch: list[CatalogueEntry]) -> int:
        ids = [e.record_id for e in batch]
        old = [
            row[0]
            for row in conn.execute(select(records.c.doc_id).where(records.c.record_id.in_(ids)))
        ]
        if old:
            self.backend.unindex(conn, old)
            conn.execute(delete(record_id_numbers).where(record_id_numbers.c.doc_id.in_(old)))
            conn.execute(delete(records).where(records.c.doc_id.in_(old)))
        bodies = [nfc("\n".join([e.dossier_code, e.title, *e.id_numbers, e.text])) for e in batch]
        rows = [
            {
                "record_id": e.record_id,
                "dossier_code": e.dossier_code,
                "title": e.title,
                "procedure": e.procedure,
                "retention_class": e.retention_class,
                "date_start": e.date_start,
                "date_end": e.date_end,
                "archived_at": e.archived_at,
                "on_hold": e.on_hold,
                "metadata_json": json.dumps(e.metadata, ensure_ascii=False),
                "search_text": body,
                "search_exact": body.casefold(),
                "search_folded": fold(body),
            }
            for e, body in zip(batch, bodies, strict=True)
        ]
        conn.execute(insert(records), rows)
        doc_ids = dict(
            conn.execute(
                select(records.c.record_id, records.c.doc_id).where(records.c.record_id.in_(ids))
            ).all()
        )
        for row in rows:
            row["doc_id"] = doc_ids[row["record_id"]]
        self.backend.index(conn, rows)
        numbers = [
            {"doc_id": doc_ids[e.record_id], "id_number": n}
            for e in batch
            for n in sorted(set(e.id_numbers))
        ]
        if numbers:
            conn.execute(insert(record_id_numbers), numbers)
        return len(batch)

    def set_hold(self, record_id: str, on_hold: bool) -> None:
        self._ensure()
        with self.engine.begin() as conn:
            conn.execute(
                update(records).where(records.c.record_id == record_id).values(on_hold=on_hold)
            )

    def clear(self) -> None:
        """Forget every record (before a reindex)."""
        self._ensure()
        with self.engine.begin() as conn:
            self.backend.clear(conn)
            conn.execute(delete(record_id_numbers))
            conn.execute(delete(records))

    # -- reading ---------------------------------------------------------------------------

    def count(self) -> int:
        self._ensure()
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(records)).scalar_one())

    def record_ids(self) -> set[str]:
        self._ensure()
        with self.engine.connect() as conn:
            return {row[0] for row in conn.execute(select(records.c.record_id))}

    def get(self, record_id: str) -> dict[str, Any] | None:
        """The stored metadata of a record, or None."""
        self._ensure()
        with self.engine.connect() as conn:
            row = conn.execute(
                select(records.c.metadata_json).where(records.c.record_id == record_id)
            ).first()
        return json.loads(row[0]) if row else None

    def search(self, query: SearchQuery) -> list[SearchHit]:
        """Ranked hits: exact (NFC) matches first, then diacritic-folded ones; filters apply."""
        self._ensure()
        filters: list[Any] = []
        if query.dossier_code:
            filters.append(records.c.dossier_code == nfc(query.dossier_code))
        if query.procedure:
            filters.append(records.c.procedure == nfc(query.procedure))
        if query.retention_class:
            filters.append(records.c.retention_class == query.retention_class)
        if query.date_from:
            filters.append(records.c.date_end >= query.date_from)
        if query.date_to:
            filters.append(records.c.date_start <= query.date_to)
        if query.id_number:
            # IN over the indexed number, not a correlated EXISTS: SQLite would test every row
            filters.append(
                records.c.doc_id.in_(
                    select(record_id_numbers.c.doc_id).where(
                        record_id_numbers.c.id_number == query.id_number.strip()
                    )
                )
            )
        parsed = parse_query(query.text)
        limit = max(1, query.limit)
        with self.engine.connect() as conn:
            found: list[tuple[int, _Tier | None]] = []
            if parsed:
                for tier in _tiers(parsed):
                    seen = [doc_id for doc_id, _ in found]
                    more = self.backend.matches(conn, tier, filters, seen, limit - len(found))
                    found += [(doc_id, tier) for doc_id in more]
                    if len(found) >= limit:  # the later tiers rank below: they would not show
                        break
            else:
                stmt = (
                    select(records.c.doc_id)
                    .where(*filters)
                    .order_by(records.c.archived_at.desc(), records.c.doc_id.desc())
                    .limit(limit)
                )
                found = [(int(row[0]), None) for row in conn.execute(stmt)]
            if not found:
                return []
            rows = {
                row.doc_id: row
                for row in conn.execute(
                    select(
                        records.c.doc_id,
                        records.c.record_id,
                        records.c.dossier_code,
                        records.c.title,
                        records.c.search_text,
                    ).where(records.c.doc_id.in_([d for d, _ in found]))
                )
            }
        hits = []
        for rank, (doc_id, hit_tier) in enumerate(found, 1):
            row = rows[doc_id]
            snippet = make_snippet(row.search_text, parsed.terms)
            hits.append(
                SearchHit(
                    record_id=row.record_id,
                    dossier_code=row.dossier_code,
                    title=row.title,
                    snippet=snippet.text,
                    exact=hit_tier is None or not hit_tier.folded,
                    rank=rank,
                    snippet_html=snippet.html,
                    phrase=hit_tier is not None and hit_tier.phrase,
                )
            )
        return hits


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    # WAL + NORMAL cannot corrupt the file; a power cut may lose the last commits, which a
    # reindex brings back: the catalogue is a cache of the object store.
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()
