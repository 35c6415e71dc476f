"""The web layer's tables, prefixed `web_`, in the catalogue database beside `dossier_*`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Integer, String, Table
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from dossiers.models import UtcDateTime


class WebBase(DeclarativeBase):
    pass


def tables_named(*names: str) -> list[Table]:
    return [WebBase.metadata.tables[n] for n in names]


class UserRow(WebBase):
    __tablename__ = "web_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    full_name: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20), nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    # Bumped on sign-out, password change and disabling: every older session stops working.
    session_epoch: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, nullable=False)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class TokenRow(WebBase):
    __tablename__ = "web_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(120), unique=True, nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    prefix: Mapped[str] = mapped_column(String(16), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, nullable=False)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    # Comma-separated scopes (intake, read, results); NULL: a token from before scopes
    # (read, results). After `expires_at` the token opens nothing.
    scopes: Mapped[str | None] = mapped_column(String(80))
    expires_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


# Columns added to web tables after their first release; `Accounts.create_tables` adds them.
WEB_ADDED_COLUMNS: dict[str, dict[str, str]] = {
    "web_tokens": {"scopes": "VARCHAR(80)", "expires_at": "TIMESTAMP"},
}


class AuditRow(WebBase):
    __tablename__ = "web_audit"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime, nullable=False, index=True)
    actor: Mapped[str] = mapped_column(String(160), nullable=False, index=True)
    action: Mapped[str] = mapped_column(String(80), nullable=False)
    target_kind: Mapped[str] = mapped_column(String(40), nullable=False)
    target_id: Mapped[str] = mapped_column(String(160), nullable=False, index=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)


class AuditHeadRow(WebBase):
    """One row: the last entry's number and hash, updated in the same transaction as the append.

    Appends lock this row, which orders concurrent writers; `verify_chain` compares it with the
    last entry, so deleting entries from the end is noticed too.
    """

    __tablename__ = "web_audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False)
