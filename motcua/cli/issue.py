"""`motcua dossier issue`: run the `issue-result` flow (render, sign twice, verify, archive).

The command joins the `dossier` group defined in `motcua.cli.dossier`; this module only adds it.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from motcua.cli import AppContext
from motcua.cli.dossier import commands as _dossier_commands
from motcua.errors import BadArgumentError


@click.command("issue")
@click.argument("code")
@click.option(
    "--sign-with",
    "sign_with",
    required=True,
    type=click.Path(path_type=Path, exists=True),
    help="The leader's PKCS#12 file, or a TEST PKI folder (motcua pki init) for both signers.",
)
@click.option(
    "--org-p12",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    help="The organisation's PKCS#12 file (needed with a leader .p12).",
)
@click.option(
    "--chain",
    multiple=True,
    type=click.Path(path_type=Path, exists=True),
    help="Intermediate CA certificates (PEM).",
)
@click.option(
    "--trust",
    multiple=True,
    type=click.Path(path_type=Path, exists=True),
    help="Trust anchors (PEM) for revocation data and verification.",
)
@click.option("--tsa", "tsa_url", help="Timestamp authority URL (from B-T up).")
@click.option(
    "--level",
    type=click.Choice(["B-B", "B-T", "B-LT", "B-LTA"]),
    default="B-LTA",
    show_default=True,
)
@click.option("--signer-name", help="The leader's name as printed (default: certificate).")
@click.option("--signer-title", default="Chủ tịch", show_default=True)
@click.option("--signature-image", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--seal-image", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option(
    "--field",
    "fields",
    multiple=True,
    metavar="KEY=VALUE",
    help="A result field the clerk supplies, e.g. marital_status=Chưa đăng ký kết hôn.",
)
@click.option(
    "--draft-sha256",
    "draft_sha256",
    help="Sign the dossier's current draft (made on the web) if its SHA-256 is this one, the "
    "draft you previewed; a changed draft is refused (exit 2). Without it the result is "
    "drafted anew and signed in one run.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_obj
def issue(
    app: AppContext,
    code: str,
    sign_with: Path,
    org_p12: Path | None,
    chain: tuple[Path, ...],
    trust: tuple[Path, ...],
    tsa_url: str | None,
    level: str,
    signer_name: str | None,
    signer_title: str,
    signature_image: Path | None,
    seal_image: Path | None,
    fields: tuple[str, ...],
    draft_sha256: str | None,
    as_json: bool,
) -> None:
    """Issue the result of dossier CODE: render it, sign it (leader, organisation), archive it."""
    from motcua.cli.intake import prepare_flows

    values = {}
    for item in fields:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise BadArgumentError(f"--field {item!r} is not KEY=VALUE")
        values[key.strip()] = value.strip()
    if draft_sha256 is not None and values:
        raise BadArgumentError(
            "--field redrafts the result; --draft-sha256 signs the draft you previewed",
            hint="pass one or the other",
        )
    prepare_flows(app)
    from flows.result import complete_result, issue_result
    from flows.signing_keys import SigningSetup

    common = {
        "level": level,
        "signer_name": signer_name,
        "signer_title": signer_title,
        "signature_image": str(signature_image) if signature_image else None,
        "seal_image": str(seal_image) if seal_image else None,
        "tsa_url": tsa_url,
    }
    if sign_with.is_dir():
        setup = SigningSetup.from_test_pki(sign_with, **common)
        if app.settings.embedded_s3:
            from signing import testpki
            from signing.trust_services import start_background

            start_background(testpki.load(sign_with))
    else:
        if org_p12 is None:
            raise BadArgumentError("--org-p12 is needed with a leader PKCS#12 file")
        setup = SigningSetup(
            leader_p12=str(sign_with),
            organization_p12=str(org_p12),
            chain=[str(p) for p in chain],
            trust=[str(p) for p in trust],
            **{k: v for k, v in common.items() if v is not None},
        )
    with app.err.status(f"đang ký và lưu trữ kết quả hồ sơ {code}…"):
        if draft_sha256 is not None:
            result = complete_result(code, setup, None, draft_sha256)
        else:
            result = issue_result(code, setup, values)
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False))
    else:
        app.out.print(f"[bold]{result['dossier_code']}[/]  kết quả đã ký ({result['level']})")
        app.out.print(f"  tệp: {result['result_pdf']}", markup=False)
        app.out.print(f"  lưu trữ: {result['record_id']}", markup=False)


# `motcua dossier issue`: attach to the dossier group defined by motcua.cli.dossier.
_dossier_group = next(c for c in _dossier_commands if c.name == "dossier")
assert isinstance(_dossier_group, click.Group)
_dossier_group.add_command(issue)
commands: list[click.Command] = []
