"""The register's tables, all prefixed `dossier_` so they can share a database with others.

Times are stored as UTC and come back as aware datetimes (SQLite keeps no time zone, so a
type decorator does the conversion on both engines).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[dt.datetime]):
    """Aware datetimes in, stored as naive UTC, aware UTC out."""

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the dossier register; pass an aware one")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        assert isinstance(value, dt.datetime)
        return value.replace(tzinfo=dt.UTC)


class Base(DeclarativeBase):
    pass


class DayCounter(Base):
    """The last dossier number given out per unit and day (the NNNN of a dossier code)."""

    __tablename__ = "dossier_day_counters"

    unit_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer, nullable=False)


class DossierRow(Base):
    __tablename__ = "dossier_dossiers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(80), unique=True, nullable=False)
    unit_code: Mapped[str] = mapped_column(String(64), nullable=False)
    procedure_key: Mapped[str] = mapped_column(String(120), nullable=False, index=True)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    citizen_name: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    received_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, nullable=False, index=True)
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    returned_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    new_due_date: Mapped[dt.date | None] = mapped_column(Date)
    apology_issued_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    missing_components: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    # The number the result was issued under ("12/TLKS"), once allocated.
    result_number: Mapped[str | None] = mapped_column(String(80))
    # Set while the dossier's papers are not archived yet ("chưa lưu trữ"): the reason of the
    # last failed attempt, or "" while the first one runs. NULL once archived.
    archive_pending: Mapped[str | None] = mapped_column(String(500))
    # How the dossier reached the office: online, desk or post (NULL: before it was recorded).
    channel: Mapped[str | None] = mapped_column(String(16))
    # The citizen's contact for notices (personal data: never logged) and their consent.
    citizen_phone: Mapped[str | None] = mapped_column(String(20))
    citizen_email: Mapped[str | None] = mapped_column(String(254))
    notice_consent: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # Maintained by the register on every change of the dossier, its documents or its status
    # (the API's `updated_since`); the name without diacritics, for searching it in SQL.
    updated_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    citizen_name_folded: Mapped[str | None] = mapped_column(String(200))
    # The login of the officer (chuyên viên xử lý) the dossier is assigned to; None: unassigned.
    assignee: Mapped[str | None] = mapped_column(String(64))

    documents: Mapped[list[DocumentRow]] = relationship(
        back_populates="dossier", order_by="DocumentRow.position", cascade="all, delete-orphan"
    )
    history: Mapped[list[StatusChangeRow]] = relationship(
        back_populates="dossier", order_by="StatusChangeRow.id", cascade="all, delete-orphan"
    )


# Indexes for the list's sort orders and filters (`CREATE INDEX IF NOT EXISTS` on databases made
# before them): newest first, by due date, changed since.
LIST_INDEXES: dict[str, str] = {
    "ix_dossier_dossiers_received": "dossier_dossiers (received_at, id)",
    "ix_dossier_dossiers_due": "dossier_dossiers (due_date, id)",
    "ix_dossier_dossiers_updated": "dossier_dossiers (updated_at, id)",
    "ix_dossier_dossiers_status_received": "dossier_dossiers (status, received_at, id)",
    "ix_dossier_dossiers_assignee": "dossier_dossiers (assignee, received_at, id)",
}


class DocumentRow(Base):
    __tablename__ = "dossier_documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossier_dossiers.id"), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    path: Mapped[str] = mapped_column(Text, nullable=False)
    kind: Mapped[str] = mapped_column(String(120), nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    page_count: Mapped[int | None] = mapped_column(Integer)
    # Which component of the procedure this file is (thành phần hồ sơ), and whether a clerk
    # confirmed it (False: the classifier's suggestion). Several files may make one component.
    component: Mapped[str | None] = mapped_column(String(120))
    component_confirmed: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)

    dossier: Mapped[DossierRow] = relationship(back_populates="documents")

    __table_args__ = (Index("ix_dossier_documents_dossier", "dossier_id", "position"),)


class StatusChangeRow(Base):
    __tablename__ = "dossier_status_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dossier_id: Mapped[int] = mapped_column(
        ForeignKey("dossier_dossiers.id"), nullable=False, index=True
    )
    status: Mapped[str] = mapped_column(String(32), nullable=False)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime, nullable=False)
    note: Mapped[str | None] = mapped_column(Text)

    dossier: Mapped[DossierRow] = relationship(back_populates="history")


class PublicLinkRow(Base):
    """The citizen's status link of a dossier (the receipt's QR): one row per dossier.

    The token is kept as it is, not hashed: the receipt must print the same link again, and the
    link only opens what the receipt itself says (no personal data beyond the name's initials).
    Revoking keeps the row; a renewed link replaces the token, so an old one is simply unknown.
    """

    __tablename__ = "dossier_public_links"

    dossier_code: Mapped[str] = mapped_column(String(80), primary_key=True)
    token: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, nullable=False)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class SatisfactionRow(Base):
    """The citizen's rating of how a dossier was handled (1-5), given once per dossier."""

    __tablename__ = "dossier_satisfaction"

    dossier_code: Mapped[str] = mapped_column(String(80), primary_key=True)
    procedure_key: Mapped[str] = mapped_column(String(120), nullable=False)
    score: Mapped[int] = mapped_column(Integer, nullable=False)
    comment: Mapped[str | None] = mapped_column(Text)
    via: Mapped[str] = mapped_column(String(20), nullable=False)  # "desk" or "status-page"
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime, nullable=False, index=True)

    __table_args__ = (CheckConstraint("score BETWEEN 1 AND 5", name="ck_satisfaction_score"),)


class NoticeRow(Base):
    """One message to a citizen, stored before it is sent (`dossiers.notify.queue`).

    `recipient` and `body` are personal data: they stay in this table, never in a log. A row is
    sent once (`sent_at`); a failed send waits `next_attempt_at`; `claimed_until` is the lease of
    the process sending it; `gave_up_at` ends the retries of a message that cannot go.
    """

    __tablename__ = "dossier_notices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dossier_code: Mapped[str] = mapped_column(String(80), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)  # received, refused, ...
    channel: Mapped[str] = mapped_column(String(16), nullable=False)  # email, http
    recipient: Mapped[str] = mapped_column(String(254), nullable=False)
    subject: Mapped[str] = mapped_column(String(300), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, nullable=False)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, index=True)
    rounds: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    claimed_until: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(String(300))
    gave_up_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class NoteRow(Base):
    """A note on a dossier (a call with the citizen, the reason for a delay), by an account.

    The text may name people: it stays in this table, never in a log or the journal."""

    __tablename__ = "dossier_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dossier_code: Mapped[str] = mapped_column(String(80), nullable=False, index=True)
    author: Mapped[str] = mapped_column(String(120), nullable=False)  # an actor: user:<login>
    text: Mapped[str] = mapped_column(Text, nullable=False)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime, nullable=False)


# Columns added after the first release: `create_tables` adds them to an existing database.
ADDED_COLUMNS: dict[str, dict[str, str]] = {
    "dossier_dossiers": {
        "result_number": "VARCHAR(80)",
        "archive_pending": "VARCHAR(500)",
        "channel": "VARCHAR(16)",
        "citizen_phone": "VARCHAR(20)",
        "citizen_email": "VARCHAR(254)",
        "notice_consent": "BOOLEAN NOT NULL DEFAULT FALSE",
        "updated_at": "TIMESTAMP",
        "citizen_name_folded": "VARCHAR(200)",
        "assignee": "VARCHAR(64)",
    },
    "dossier_documents": {
        "component": "VARCHAR(120)",
        "component_confirmed": "BOOLEAN NOT NULL DEFAULT FALSE",
    },
}
