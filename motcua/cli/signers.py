"""`motcua signers bind|list|unbind`: which certificate signs in which role, and for which leader
account (`<home>/signers.json`, read by `motcua verify`, the signing flows and the web)."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.markup import escape

from motcua.cli import AppContext
from motcua.errors import BadArgumentError

_ROLES = ("leader", "organization")


@click.group("signers")
def signers_group() -> None:
    """Bind certificates to the roles they sign in (lãnh đạo, cơ quan)."""


@signers_group.command("bind")
@click.option("--role", type=click.Choice(_ROLES), required=True, help="The role it signs in.")
@click.option("--cert", "certs", multiple=True, required=True,
              type=click.Path(path_type=Path, dir_okay=False),
              help="PEM or DER certificate (repeatable: a leader may have several).")  # fmt: skip
@click.option("--account", default=None, help="The leader's account (user name) it signs for.")
@click.pass_obj
def bind(app: AppContext, role: str, certs: tuple[Path, ...], account: str | None) -> None:
    """Bind certificates to a role (and a leader certificate to its account)."""
    from signing import load_certificates
    from signing.roles import load_roles, save_roles

    loaded = load_certificates(list(certs))
    if not loaded:
        raise BadArgumentError("không đọc được chứng thư số nào", hint="--cert FILE.pem")
    home = app.settings.home
    roles = load_roles(home).bind(role, loaded, account)
    save_roles(home, roles)
    for binding in roles.bindings[-len(loaded) :]:
        owner = f", tài khoản {binding.account}" if binding.account else ""
        app.out.print(f"{escape(binding.name)}: {binding.role}{escape(owner)}  "
                      f"{binding.fingerprint[:16]}…")  # fmt: skip


@signers_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def list_signers(app: AppContext, as_json: bool) -> None:
    """The bound certificates."""
    from signing.roles import ROLE_LABELS, load_roles

    roles = load_roles(app.settings.home)
    if as_json:
        click.echo(json.dumps(roles.as_json(), ensure_ascii=False, indent=2))
        return
    if not roles:
        app.out.print("Chưa gán chứng thư số nào: vai trò lấy theo tên trường chữ ký.")
    for b in roles.bindings:
        owner = f" — tài khoản {b.account}" if b.account else ""
        app.out.print(f"{b.fingerprint[:16]}…  {ROLE_LABELS[b.role]:<9} "
                      f"{escape(b.name)}{escape(owner)}")  # fmt: skip


@signers_group.command("unbind")
@click.argument("fingerprint")
@click.pass_obj
def unbind(app: AppContext, fingerprint: str) -> None:
    """Remove the binding whose fingerprint starts with FINGERPRINT (at least 8 characters)."""
    from signing.roles import load_roles, save_roles

    home = app.settings.home
    save_roles(home, load_roles(home).unbind(fingerprint))
    app.out.print("đã gỡ gán")


commands: list[click.Command] = [signers_group]
