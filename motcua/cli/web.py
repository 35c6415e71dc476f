"""`motcua serve`, `motcua users ...`, `motcua tokens ...`: the web application and its accounts.

Passwords come from a hidden prompt or `MOTCUA_USER_PASSWORD`, never from a flag (flags end up
in shell history and `ps`). A new API token is printed once; only its hash is stored.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import click

from motcua.cli import AppContext

if TYPE_CHECKING:
    from motcua.web.accounts import Accounts
    from motcua.web.audit import AuditLog

PASSWORD_ENV = "MOTCUA_USER_PASSWORD"
_ROLES = ["clerk", "officer", "leader", "archivist", "admin"]


def _open(app: AppContext) -> tuple[Accounts, AuditLog]:
    from motcua.web.accounts import Accounts
    from motcua.web.audit import AuditLog
    from motcua.web.db import open_engine

    settings = app.settings
    if settings.catalog_url is None:
        settings.home.mkdir(parents=True, exist_ok=True)
    engine = open_engine(settings.effective_catalog_url)
    accounts, audit = Accounts(engine), AuditLog(engine)
    accounts.create_tables()
    audit.create_tables()
    return accounts, audit


def _actor() -> str:
    return "cli:" + (os.environ.get("SUDO_USER") or os.environ.get("USER") or "unknown")


def _password(confirm: bool = True) -> str:
    from_env = os.environ.get(PASSWORD_ENV)
    if from_env:
        return from_env
    value: str = click.prompt("Password", hide_input=True, confirmation_prompt=confirm)
    return value


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.pass_obj
def serve(app: AppContext, host: str, port: int) -> None:
    """Serve the web pages and the REST API (OpenAPI at /openapi.json)."""
    import uvicorn

    from motcua.web.app import create_app

    application = create_app(app.settings)
    app.err.print(f"motcua web on http://{host}:{port}/ (OpenAPI at /openapi.json)")
    # proxy_headers off: the app itself believes X-Forwarded-* from MOTCUA_WEB_TRUSTED_PROXIES only
    uvicorn.run(application, host=host, port=port, log_level="warning", proxy_headers=False)


@click.group("users")
def users_group() -> None:
    """Local accounts of clerks, leaders, archivists and admins."""


@users_group.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(_ROLES))
@click.option("--full-name", default=None, help="Name shown on pages and receipts.")
@click.pass_obj
def users_add(app: AppContext, name: str, role: str, full_name: str | None) -> None:
    """Add a user; the password is asked for (or read from MOTCUA_USER_PASSWORD)."""
    from motcua.web import access

    accounts, audit = _open(app)
    user = access.add_user(accounts, audit, actor=_actor(), username=name, password=_password(),
                           role=role, full_name=full_name)  # fmt: skip
    click.echo(f"user {user.username} added with role {user.role.value}")


@users_group.command("list")
@click.pass_obj
def users_list(app: AppContext) -> None:
    """List the accounts."""
    accounts, _ = _open(app)
    users = accounts.users()
    for u in users:
        last = u.last_login_at.isoformat(timespec="minutes") if u.last_login_at else "never"
        state = "active" if u.active else "disabled"
        click.echo(f"{u.username:<24} {u.role.value:<10} {state:<9} last sign-in {last}")
    app.err.print(f"{len(users)} user(s)")


@users_group.command("passwd")
@click.argument("name")
@click.pass_obj
def users_passwd(app: AppContext, name: str) -> None:
    """Set a user's password; their open sessions end."""
    from motcua.web import access

    accounts, audit = _open(app)
    user = access.set_password(accounts, audit, actor=_actor(), username=name,
                               password=_password())  # fmt: skip
    click.echo(f"password of {user.username} changed")


@users_group.command("disable")
@click.argument("name")
@click.pass_obj
def users_disable(app: AppContext, name: str) -> None:
    """Disable an account; its open sessions end."""
    from motcua.web import access

    accounts, audit = _open(app)
    user = access.set_active(accounts, audit, actor=_actor(), username=name, active=False)
    click.echo(f"user {user.username} disabled")


@users_group.command("enable")
@click.argument("name")
@click.pass_obj
def users_enable(app: AppContext, name: str) -> None:
    """Enable a disabled account again."""
    from motcua.web import access

    accounts, audit = _open(app)
    user = access.set_active(accounts, audit, actor=_actor(), username=name, active=True)
    click.echo(f"user {user.username} enabled")


@users_group.command("role")
@click.argument("name")
@click.argument("role", type=click.Choice(_ROLES))
@click.pass_obj
def users_role(app: AppContext, name: str, role: str) -> None:
    """Give an account another role; its open sessions end."""
    from motcua.web import access

    accounts, audit = _open(app)
    user = access.set_role(accounts, audit, actor=_actor(), username=name, role=role)
    click.echo(f"user {user.username} now has role {user.role.value}")


@click.group("tokens")
def tokens_group() -> None:
    """API tokens for the e-office system (Authorization: Bearer ...)."""


@tokens_group.command("add")
@click.argument("name")
@click.option(
    "--scope",
    "scope",
    default="read,results",
    show_default=True,
    metavar="SCOPES",
    help="Comma-separated: intake (take dossiers in), read (dossiers, reports, archive), "
    "results (signed result PDFs).",
)
@click.option("--expires", "expires", type=float, default=None, metavar="DAYS",
              help="Days until the token stops working (default: until revoked).")  # fmt: skip
@click.pass_obj
def tokens_add(app: AppContext, name: str, scope: str, expires: float | None) -> None:
    """Create a token and print it once."""
    accounts, audit = _open(app)
    from motcua.web.access import create_token

    token, secret = create_token(accounts, audit, actor=_actor(), name=name,
                                 scopes=scope.split(","), expires_days=expires)  # fmt: skip
    until = token.expires_at and f", expires {token.expires_at.isoformat(timespec='minutes')}"
    app.err.print(
        f"token {token.name} created (scopes {','.join(token.scopes)}{until}); store it now, "
        "it is not shown again:"
    )
    click.echo(secret)


@tokens_group.command("list")
@click.pass_obj
def tokens_list(app: AppContext) -> None:
    """List tokens (never their secret)."""
    accounts, _ = _open(app)
    for t in accounts.tokens():
        if t.revoked_at:
            state = f"revoked {t.revoked_at.isoformat(timespec='minutes')}"
        elif t.expires_at:
            verb = "expired" if t.state == "expired" else "expires"
            state = f"{verb} {t.expires_at.isoformat(timespec='minutes')}"
        else:
            state = "active"
        used = t.last_used_at.isoformat(timespec="minutes") if t.last_used_at else "never"
        scopes = ",".join(t.scopes)
        click.echo(f"{t.name:<24} {t.prefix}…  {scopes:<20} {state:<34} last used {used}")


@tokens_group.command("revoke")
@click.argument("name")
@click.pass_obj
def tokens_revoke(app: AppContext, name: str) -> None:
    """Revoke a token at once."""
    accounts, audit = _open(app)
    from motcua.web.access import revoke_token

    token = revoke_token(accounts, audit, actor=_actor(), name=name)
    click.echo(f"token {token.name} revoked")


commands = [serve, users_group, tokens_group]
