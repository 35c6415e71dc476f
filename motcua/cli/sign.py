"""`motcua sign`, `motcua verify`, `motcua pki init`, `motcua trust-services up|down|status`.

Secrets never come from a flag value: MOTCUA_P12_PASSWORD / MOTCUA_PKCS11_PIN or a prompt.
Verification output is Vietnamese (archivists read it); developer messages English.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.markup import escape

from motcua.cli import AppContext
from motcua.cli.batch import Batch
from motcua.errors import BadArgumentError, ConfigurationError, InputFileError

if TYPE_CHECKING:
    from signing.verify import VerificationReport

P12_ENV = "MOTCUA_P12_PASSWORD"
PIN_ENV = "MOTCUA_PKCS11_PIN"

_PathArg = click.Path(path_type=Path)
_ExistingFile = click.Path(path_type=Path, exists=True, dir_okay=False)


def _quiet_libraries(app: AppContext) -> None:
    """pyHanko logs validation failures with tracebacks; our report says it in words."""
    if not app.debug and app.verbose < 2:
        for name in ("pyhanko", "pyhanko_certvalidator", "fontTools"):
            logging.getLogger(name).setLevel(logging.CRITICAL)


def _secret(env: str, prompt: str) -> str | None:
    value = os.environ.get(env)
    if value is not None:
        return value
    if sys.stdin.isatty():
        return str(click.prompt(prompt, hide_input=True, default="", show_default=False))
    return None


def _parse_box(text: str | None) -> tuple[float, float, float, float] | None:
    if text is None:
        return None
    try:
        x1, y1, x2, y2 = (float(part) for part in text.split(","))
    except ValueError:
        raise BadArgumentError(
            f"--box {text!r} is not x1,y1,x2,y2", hint="e.g. --box 330,120,560,240 (points)"
        ) from None
    return (x1, y1, x2, y2)


def _load_signer(
    p12: Path | None,
    key: Path | None,
    cert: Path | None,
    pkcs11_module: Path | None,
    pkcs11_token: str | None,
    pkcs11_key: str | None,
    chain: tuple[Path, ...],
) -> Any:
    from signing.signers import load_pem, load_pkcs12, open_pkcs11

    chosen = [p12 is not None, key is not None, pkcs11_module is not None]
    if sum(chosen) != 1:
        raise BadArgumentError(
            "choose exactly one key source",
            hint="--p12 FILE, or --key KEY.pem --cert CERT.pem, or --pkcs11-module SO "
            "--pkcs11-token LABEL --pkcs11-key LABEL",
        )
    if p12 is not None:
        return load_pkcs12(p12, _secret(P12_ENV, "PKCS#12 password"), chain)
    if key is not None:
        if cert is None:
            raise BadArgumentError("--key needs --cert", hint="pass the signer's certificate")
        return load_pem(key, cert, os.environ.get(P12_ENV), chain)
    if not (pkcs11_token and pkcs11_key):
        raise BadArgumentError(
            "--pkcs11-module needs --pkcs11-token and --pkcs11-key", hint="name the token and key"
        )
    assert pkcs11_module is not None
    return open_pkcs11(
        pkcs11_module,
        pkcs11_token,
        pkcs11_key,
        _secret(PIN_ENV, "PKCS#11 PIN"),
        cert=cert,
        chain=chain,
    )


@click.command("sign")
@click.argument("source", type=_PathArg)
@click.option("-o", "--output", type=_PathArg, required=True, help="Output PDF (or folder).")
@click.option("--batch", is_flag=True, help="SOURCE and --output are folders: sign every PDF.")
@click.option("--p12", type=_PathArg, help="PKCS#12 file (password: $MOTCUA_P12_PASSWORD).")
@click.option("--key", type=_PathArg, help="PEM private key (with --cert).")
@click.option("--cert", type=_PathArg, help="Signer certificate (PEM/DER).")
@click.option("--pkcs11-module", type=_PathArg, help="PKCS#11 module (.so) of the token.")
@click.option("--pkcs11-token", help="Token label.")
@click.option("--pkcs11-key", help="Key label on the token (PIN: $MOTCUA_PKCS11_PIN).")
@click.option("--chain", type=_PathArg, multiple=True, help="CA certificates to embed.")
@click.option("--role", type=click.Choice(["leader", "organization"]), default="leader")
@click.option("--signer-name", help="Name shown in the leader's appearance.")
@click.option("--signer-title", help="Title shown in the leader's appearance.")
@click.option("--organization", help="Organisation name shown in the appearance.")
@click.option("--signature-image", type=_PathArg, help="Handwritten signature PNG (leader).")
@click.option("--seal-image", type=_PathArg, help="Seal PNG over the signature's left third.")
@click.option("--copy-mark", help='"SAO Y", "SAO LỤC" or "TRÍCH SAO" (organisation).')
@click.option("--page", type=int, help="1-based page (default: last for leader, 1 for org).")
@click.option("--box", help="x1,y1,x2,y2 in points (default: above the signer's name).")
@click.option(
    "--level", type=click.Choice(["B-B", "B-T", "B-LT", "B-LTA"]), default="B-B", show_default=True
)
@click.option("--tsa", help="RFC 3161 timestamp authority URL (B-T and up).")
@click.option("--trust", type=_PathArg, multiple=True, help="Trust anchors (B-LT and up).")
@click.option("--certify", is_flag=True, help="Certify (DocMDP 2) with this first signature.")
@click.pass_obj
def sign(app: AppContext, /, source: Path, output: Path, batch: bool, **options: Any) -> None:
    """Sign a PDF (or every PDF of a folder with --batch) as PAdES."""
    from signing.sign import Level, Role, SignatureSpec, sign_batch, sign_pdf

    _quiet_libraries(app)
    spec = SignatureSpec(
        role=Role(options["role"]),
        level=Level(options["level"]),
        signer_name=options["signer_name"],
        signer_title=options["signer_title"],
        organization=options["organization"],
        signature_image=options["signature_image"],
        seal_image=options["seal_image"],
        copy_mark=options["copy_mark"],
        page=options["page"],
        box=_parse_box(options["box"]),
        tsa_url=options["tsa"],
        trust=tuple(options["trust"]),
        extra_certs=tuple(options["chain"]),
        certify=options["certify"],
    )
    if batch:
        if not source.is_dir():
            raise InputFileError(source, "not a folder", hint="--batch signs a folder of PDFs")
        inputs = sorted(p for p in source.iterdir() if p.suffix.lower() == ".pdf")
        if not inputs:
            raise InputFileError(source, "no PDF files in the folder")
    elif not source.is_file():
        raise InputFileError(source, "file not found", hint="check the path")

    signer = _load_signer(
        options["p12"],
        options["key"],
        options["cert"],
        options["pkcs11_module"],
        options["pkcs11_token"],
        options["pkcs11_key"],
        tuple(options["chain"]),
    )
    with signer:
        if not batch:
            result, _ = sign_pdf(source, output, spec, signer)
            click.echo(f"signed {output} ({result.level}, field {result.field})")
            return
        from rich.progress import Progress

        with Progress(console=app.err, transient=False) as progress:
            task = progress.add_task("signing", total=len(inputs))

            def done(path: Path, error: Exception | None) -> None:
                progress.advance(task)
                if error is not None:
                    app.err.print(f"[red]not signed[/] {escape(str(error))}", highlight=False)

            outcome = sign_batch(inputs, output, spec, signer, on_done=done)
    click.echo(f"signed {len(outcome.signed)} of {len(inputs)} PDF(s) into {output}")
    if outcome.failed:
        raise InputFileError(
            source,
            f"{len(outcome.failed)} file(s) could not be signed",
            hint="see the messages above",
        )


def _parse_at(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise BadArgumentError(
            f"--at {text!r} is not an ISO 8601 date-time",
            hint="e.g. --at 2030-01-01T00:00:00+07:00",
        ) from None


_YES = {True: "có", False: "không"}


@click.command("verify")
@click.argument("paths", nargs=-1, required=True, type=_PathArg)
@click.option("--trust", type=_PathArg, multiple=True, help="Trust anchors (PEM/DER).")
@click.option("--at", "at_text", help="Validate as of this ISO 8601 moment.")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON report of each PDF.")
@click.option("--offline", is_flag=True, help="Do not fetch OCSP/CRL over the network.")
@click.option(
    "--accept-unknown-revocation",
    is_flag=True,
    help="Count a signature whose revocation could not be checked (offline, OCSP/CRL down) "
    "as valid; the report still says which check was skipped.",
)
@click.pass_obj
def verify(
    app: AppContext,
    paths: tuple[Path, ...],
    trust: tuple[Path, ...],
    at_text: str | None,
    as_json: bool,
    offline: bool,
    accept_unknown_revocation: bool,
) -> None:
    """Verify the signatures of PDFs. Exit 0 all valid and trusted, 1 not (also when a
    revocation status could not be checked), 2 a file unreadable.

    Each file gets its report; an unreadable one its error, and the others go on."""
    from signing.roles import load_roles
    from signing.verify import verify_pdf

    _quiet_libraries(app)
    at = _parse_at(at_text)
    roles = load_roles(app.settings.home)  # roles from certificates once the office binds them
    batch = Batch(app, "verify", as_json=as_json, json_indent=2)
    for path in paths:
        report = batch.run(
            path,
            partial(
                verify_pdf,
                path,
                trust=list(trust),
                at=at,
                fetch=not offline,
                accept_unknown_revocation=accept_unknown_revocation,
                roles=roles,
            ),
        )
        if report is None:
            continue
        if as_json:
            click.echo(json.dumps(report.as_json(), ensure_ascii=False, indent=2))
        else:
            _print_report(report)
        if not report.ok:
            batch.checks_failed += 1
    batch.finish()


def _print_report(report: VerificationReport) -> None:
    from signing.verify import iso_vn

    click.echo(f"Tệp: {report.path}")
    for error in report.errors:
        click.echo(f"  ! {error}")
    for sig in report.signatures:
        mark = "HỢP LỆ" if sig.ok else "KHÔNG HỢP LỆ"
        if sig.revocation_unchecked:
            mark = (
                "HỢP LỆ (chưa kiểm tra được thu hồi, được chấp nhận)"
                if sig.ok
                else "CHƯA KIỂM TRA ĐƯỢC THU HỒI"
            )
        click.echo(f"- {sig.field} [{sig.role}, {sig.level}]: {mark}")
        click.echo(f"    người ký: {sig.signer or '-'}"
                   + (f" (tài khoản {sig.account})" if sig.account else ""))  # fmt: skip
        click.echo(f"    thời gian ký: {iso_vn(sig.signing_time) or '-'}")
        click.echo(
            f"    toàn vẹn: {_YES[sig.intact]}; hợp lệ: {_YES[sig.valid]};"
            f" tin cậy: {_YES[sig.trusted]}; phạm vi: {sig.coverage}"
        )
        for error in sig.errors:
            click.echo(f"    ! {error}")
    click.echo(
        "Đủ chữ ký lãnh đạo và cơ quan: " + _YES[report.complete]
        if report.signatures
        else "Không có chữ ký."
    )


@click.group("pki")
def pki_group() -> None:
    """TEST public-key infrastructure for tests and the demo (never for real documents)."""


@pki_group.command("init")
@click.argument("directory", type=_PathArg)
def pki_init(directory: Path) -> None:
    """Create a TEST root, intermediate, TSA, OCSP responder, signers and sample images."""
    from signing import testpki

    pki = testpki.init(directory)
    click.echo(f"TEST PKI created in {pki.dir} (test material only)")
    click.echo(f"  trust anchor   {pki.root_cert}")
    click.echo(f"  chain          {pki.chain}")
    click.echo(f"  leader         {pki.p12('leader')}")
    click.echo(f"  organisation   {pki.p12('organization')}")
    click.echo(f"  images         {pki.signature_image}, {pki.seal_image}")
    click.echo(f"  PKCS#12 password: {pki.p12_password} (export {P12_ENV}=...)")
    click.echo(f"  services       motcua trust-services up --pki {pki.dir}  → {pki.base_url}")


def _pki_dir(app: AppContext, pki_dir: Path | None) -> Any:
    from signing import testpki

    directory = pki_dir or app.settings.home / "test-pki"
    if not directory.exists():
        raise ConfigurationError(
            f"no test PKI at {directory}", hint=f"create one: motcua pki init {directory}"
        )
    return testpki.load(directory)


_pki_option = click.option(
    "--pki", "pki_dir", type=_PathArg, help="TEST PKI folder (default <home>/test-pki)."
)


@click.group("trust-services")
def trust_services_group() -> None:
    """Local TSA, OCSP responder and CRLs for a TEST PKI, on 127.0.0.1."""


@trust_services_group.command("up")
@_pki_option
@click.pass_obj
def trust_up(app: AppContext, pki_dir: Path | None) -> None:
    """Start the trust services in the background."""
    from signing.trust_services import start_background

    pki = _pki_dir(app, pki_dir)
    pid = start_background(pki)
    click.echo(f"trust services running at {pki.base_url} (pid {pid})")
    click.echo(f"  TSA  {pki.tsa_url}")
    click.echo(f"  OCSP {pki.ocsp_url}")


@trust_services_group.command("down")
@_pki_option
@click.pass_obj
def trust_down(app: AppContext, pki_dir: Path | None) -> None:
    """Stop the trust services."""
    from signing.trust_services import stop_background

    stopped = stop_background(_pki_dir(app, pki_dir))
    click.echo("trust services stopped" if stopped else "trust services were not running")


@trust_services_group.command("status")
@_pki_option
@click.pass_obj
def trust_status(app: AppContext, pki_dir: Path | None) -> None:
    """Show whether the trust services run. Exit 1 when they do not."""
    from signing.trust_services import background_pid

    pki = _pki_dir(app, pki_dir)
    pid = background_pid(pki)
    click.echo(f"running at {pki.base_url} (pid {pid})" if pid else "stopped")
    if pid is None:
        raise click.exceptions.Exit(1)


commands = [sign, verify, pki_group, trust_services_group]
