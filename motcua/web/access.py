"""Who may come in, journaled once whichever door: accounts added, disabled, enabled, given a
new password or role (accounts page or `motcua users`), tokens made and revoked (accounts page
or `motcua tokens`), sign-in and sign-out. The routes and the CLI call these; they write the
account change and its audit entry together."""

from __future__ import annotations

from collections.abc import Sequence

from motcua.errors import CheckFailedError
from motcua.web.accounts import Accounts, ApiToken, User
from motcua.web.audit import AuditLog
from motcua.web.permissions import Role


def add_user(
    accounts: Accounts,
    journal: AuditLog,
    *,
    actor: str,
    username: str,
    password: str,
    role: str,
    full_name: str | None = None,
) -> User:
    user = accounts.add_user(username, password, role, full_name=full_name)
    journal.append(actor=actor, action="user.created", target_kind="user",
                   target_id=user.username, details={"role": user.role.value})  # fmt: skip
    return user


def set_password(
    accounts: Accounts, journal: AuditLog, *, actor: str, username: str, password: str
) -> User:
    """A new password (typed by the admin, or by the user at the terminal); sessions end."""
    user = accounts.set_password(username, password)
    journal.append(actor=actor, action="user.password_set", target_kind="user",
                   target_id=user.username)  # fmt: skip
    return user


def set_active(
    accounts: Accounts, journal: AuditLog, *, actor: str, username: str, active: bool
) -> User:
    """Disable (sessions end) or enable an account; nobody disables the account they act as."""
    if not active and actor == f"user:{username.strip().lower()}":
        raise CheckFailedError(
            "không thể tự khóa tài khoản đang dùng", hint="một quản trị viên khác khóa giúp"
        )
    user = accounts.set_active(username, active)
    journal.append(actor=actor, action="user.disabled" if not active else "user.enabled",
                   target_kind="user", target_id=user.username)  # fmt: skip
    return user


def set_role(
    accounts: Accounts, journal: AuditLog, *, actor: str, username: str, role: str
) -> User:
    """Another role (sessions end); an admin keeps their own admin role, lest nobody has it."""
    if actor == f"user:{username.strip().lower()}" and role != Role.admin.value:
        raise CheckFailedError(
            "không thể tự bỏ quyền quản trị của mình", hint="một quản trị viên khác đổi giúp"
        )
    user = accounts.set_role(username, role)
    journal.append(actor=actor, action="user.role_changed", target_kind="user",
                   target_id=user.username, details={"role": user.role.value})  # fmt: skip
    return user


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
