"""`motcua signers bind|list|unbind`: which certificate signs in which role, and for which leader
account (`<home>/signers.json`, read by `motcua verify`, the signing flows and the web).

`motcua signers bind ACCOUNT --p12 FILE` gives a leader account its own key: the file is copied
under `<home>/signers/`, its password read once (MOTCUA_P12_PASSWORD or a hidden prompt) to
check it and read the certificate, and never stored: the leader types it at each signing.
`--pkcs11-token LABEL --pkcs11-key LABEL` binds a token slot instead (PIN: MOTCUA_PKCS11_PIN or
a prompt, to read the certificate; the leader types it at each signing too).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import click
from rich.markup import escape

from motcua.cli import AppContext
from motcua.errors import BadArgumentError

_ROLES = ("leader", "organization")


@click.group("signers")
def signers_group() -> None:
    """Bind certificates to the roles they sign in (lãnh đạo, cơ quan)."""


def _secret(env: str, prompt: str) -> str:
    value = os.environ.get(env)
    if value is not None:
        return value
    return str(click.prompt(prompt, hide_input=True, default="", show_default=False))


@signers_group.command("bind")
@click.argument("leader_account", required=False, metavar="[ACCOUNT]")
@click.option(
    "--role",
    type=click.Choice(_ROLES),
    default=None,
    help="The role it signs in (leader when ACCOUNT is given).",
)
@click.option(
    "--cert",
    "certs",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="PEM or DER certificate (repeatable: a leader may have several).",
)
@click.option("--account", default=None, help="The leader's account (user name) it signs for.")
@click.option(
    "--p12",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="ACCOUNT's own PKCS#12 key, kept by the server (password typed at signing).",
)
@click.option("--pkcs11-token", default=None, help="ACCOUNT's token label (a PKCS#11 slot).")
@click.option("--pkcs11-key", default=None, help="The key's label on that token.")
@click.option(
    "--pkcs11-module",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="The token's PKCS#11 module (default: MOTCUA_SIGNING_LEADER_PKCS11_MODULE).",
)
@click.option("--title", default=None, help="Printed above the name (e.g. Phó Chủ tịch).")
@click.pass_obj
def bind(
    app: AppContext,
    leader_account: str | None,
    role: str | None,
    certs: tuple[Path, ...],
    account: str | None,
    p12: Path | None,
    pkcs11_token: str | None,
    pkcs11_key: str | None,
    pkcs11_module: Path | None,
    title: str | None,
) -> None:
    """Bind certificates to a role (and a leader certificate to its account), or give the
    leader ACCOUNT a key of its own (--p12 FILE, or --pkcs11-token and --pkcs11-key)."""
    from signing import load_certificates
    from signing.roles import load_roles, save_roles

    if p12 is not None or pkcs11_token or pkcs11_key:
        if not leader_account or role == "organization":
            raise BadArgumentError(
                "khóa ký riêng gắn với một tài khoản lãnh đạo",
                hint="motcua signers bind TÊN --p12 TỆP",
            )
        _bind_key(app, leader_account, p12, pkcs11_token, pkcs11_key, pkcs11_module, certs, title)
        return
    role = role or ("leader" if leader_account else None)
    if role is None or not certs:
        raise BadArgumentError(
            "cần --role và --cert (hoặc TÀI_KHOẢN --p12 TỆP)",
            hint="motcua signers bind --role leader --cert CERT.pem --account TÊN",
        )
    account = account or leader_account
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


def _bind_key(
    app: AppContext,
    account: str,
    p12: Path | None,
    token: str | None,
    key_label: str | None,
    module: Path | None,
    certs: tuple[Path, ...],
    title: str | None,
) -> None:
    """Open the key once (to check the secret and read its certificate), then bind it."""
    from signing import load_certificates, load_pkcs12, open_pkcs11
    from signing.roles import load_roles, save_roles, store_p12

    home = app.settings.home
    if p12 is not None:
        with load_pkcs12(p12, _secret("MOTCUA_P12_PASSWORD", "PKCS#12 password")) as opened:
            cert = opened.certificate
        key: dict[str, str | None] = {"key": "pkcs12", "p12": store_p12(home, account, p12)}
    else:
        module = module or app.settings.signing_leader_pkcs11_module
        if not (token and key_label and module):
            raise BadArgumentError(
                "cần --pkcs11-token, --pkcs11-key và --pkcs11-module"
                " (hoặc MOTCUA_SIGNING_LEADER_PKCS11_MODULE)"
            )
        pin = _secret("MOTCUA_PKCS11_PIN", "Token PIN")
        cert_file = certs[0] if certs else None
        with open_pkcs11(module, token, key_label, pin, cert=cert_file) as opened:
            cert = opened.certificate if cert_file is None else load_certificates([cert_file])[0]
        key = {"key": "pkcs11", "pkcs11_module": str(module.resolve()), "pkcs11_token": token,
               "pkcs11_key": key_label}  # fmt: skip
    roles = load_roles(home).bind_key(account, cert, title=title, **key)
    save_roles(home, roles)
    binding = roles.key_of(account)
    assert binding is not None
    app.out.print(f"{escape(binding.name)}: khóa ký riêng ({binding.key}) của tài khoản "
                  f"{escape(account)}  {binding.fingerprint[:16]}…")  # fmt: skip


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
        owner += f", khóa riêng {b.key}" if b.key else ""
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
