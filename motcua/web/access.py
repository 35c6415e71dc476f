"""Who may come in, journaled once whichever door: tokens made and revoked (accounts page or
`motcua tokens`), sign-in and sign-out. The routes and the CLI call these; they write the
account change and its audit entry together."""

from __future__ import annotations

from collections.abc import Sequence

from motcua.web.accounts import Accounts, ApiToken, User
from motcua.web.audit import AuditLog


def create_token(
    accounts: Accounts,
    journal: AuditLog,
    *,
    actor: str,
    name: str,
    scopes: Sequence[str],
    expires_days: float | None = None,
) -> tuple[ApiToken, str]:
    """A new API token and its secret (shown once, stored nowhere)."""
    token, secret = accounts.add_token(name, scopes, expires_days=expires_days)
    expires = token.expires_at.isoformat() if token.expires_at else None
    journal.append(actor=actor, action="token.created", target_kind="token", target_id=token.name,
                   details={"scopes": list(token.scopes), "expires_at": expires})  # fmt: skip
    return token, secret


def revoke_token(accounts: Accounts, journal: AuditLog, *, actor: str, name: str) -> ApiToken:
    token = accounts.revoke_token(name)
    journal.append(actor=actor, action="token.revoked", target_kind="token",
                   target_id=token.name)  # fmt: skip
    return token


def signed_in(journal: AuditLog, user: User) -> None:
    journal.append(actor=f"user:{user.username}", action="auth.login", target_kind="user",
                   target_id=user.username)  # fmt: skip


def signed_out(
    accounts: Accounts, journal: AuditLog, *, actor: str, name: str, user_id: int | None
) -> None:
    """End every session of the account on the server (a copied cookie is refused too)."""
    if user_id is not None:
        accounts.end_sessions(user_id)
    journal.append(actor=actor, action="auth.logout", target_kind="user", target_id=name)
