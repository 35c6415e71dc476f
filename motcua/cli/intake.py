"""`motcua intake` and `motcua watch`: take dossiers in through the `intake-dossier` flow."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from motcua.cli import AppContext
from motcua.errors import BadArgumentError, ConfigurationError
from motcua.types import vn_date


def prepare_flows(app: AppContext) -> None:
    """Configure Prefect (embedded or the configured server) before the flows are imported."""
    import os

    from flows.runtime import configure_prefect

    if app.config_file is not None:  # the flows read settings themselves: same file for them
        os.environ["MOTCUA_CONFIG"] = str(app.config_file)
    configure_prefect(app.settings.home, app.settings.prefect_api_url, verbose=app.verbose > 0)


def print_intake_outcome(app: AppContext, result: dict[str, Any]) -> None:
    app.out.print(
        f"[bold]{result['dossier_code']}[/]  {result['procedure']}  {result['status']}",
        markup=True,
    )
    if result.get("due_date"):
        app.out.print(f"  hẹn trả kết quả: {vn_date(result['due_date'])}")
    if result.get("receipt_pdf"):
        app.out.print(f"  giấy tiếp nhận: {result['receipt_pdf']}")
    if result.get("missing_components"):
        app.out.print("  thiếu: " + ", ".join(result["missing_components"]))
        app.out.print(f"  phiếu yêu cầu bổ sung: {result.get('supplement_pdf')}")
    for doc in result["documents"]:
        review = [k for k, f in doc["fields"].items() if f.get("needs_review")]
        note = f" (cần kiểm tra: {', '.join(review)})" if review else ""
        app.out.print(
            f"  {Path(doc['path']).name}: {doc['kind']}, {len(doc['fields'])} trường{note}"
        )
    if not result.get("created", True):
        app.out.print("  (hồ sơ này đã được tiếp nhận trước đó; không tạo hồ sơ mới)")


@click.command("intake")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--procedure", "procedure", required=True, help="Procedure key (motcua procedures list)."
)
@click.option(
    "--component",
    "components",
    multiple=True,
    metavar="KEY=FILE",
    help="The component FILE is (repeatable; `giay-to-khac`: other paper); overrides the guess.",
)
@click.option("--received-at", default=None, help="ISO date-time of receipt (default now).")
@click.option(
    "--channel",
    type=click.Choice(["desk", "online", "post"]),
    default="desk",
    show_default=True,
    help="How the dossier came: at the desk, online, by post.",
)
@click.option("--phone", default=None, help="The citizen's phone, for notices (SMS/Zalo).")
@click.option("--email", default=None, help="The citizen's e-mail address, for notices.")
@click.option(
    "--notice-consent",
    is_flag=True,
    help="The citizen agreed to receive notices (sent only with a phone or e-mail and this).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option(
    "--submit",
    is_flag=True,
    help="Queue the intake for `motcua worker`s on the Prefect server instead of running it here.",
)
@click.pass_obj
def intake(
    app: AppContext,
    files: tuple[Path, ...],
    procedure: str,
    components: tuple[str, ...],
    received_at: str | None,
    channel: str,
    phone: str | None,
    email: str | None,
    notice_consent: bool,
    as_json: bool,
    submit: bool,
) -> None:
    """Take in one dossier: OCR, fields, receipt (or supplement request), archive."""
    import datetime as dt

    if received_at:
        try:
            dt.datetime.fromisoformat(received_at)
        except ValueError:
            raise BadArgumentError(
                f"--received-at {received_at!r} is not an ISO date-time",
                hint="e.g. 2026-04-24T09:30:00+07:00",
            ) from None
    missing = [f for f in files if not f.is_file()]
    if missing:
        raise BadArgumentError(
            f"{missing[0]}: không có tệp này (file not found)", hint="check the path"
        )
    from dossiers.contact import Contact
    from motcua.cli.lifecycle import parse_components

    contact = Contact.of(phone, email, notice_consent).to_json()
    from motcua.office import cli_actor

    chosen = parse_components(components)
    prepare_flows(app)
    if submit:
        if not app.settings.prefect_api_url:
            raise ConfigurationError(
                "--submit needs a Prefect server: MOTCUA_PREFECT_API_URL is not set",
                hint="see README: production Prefect server and workers",
            )
        from flows.deploy import submit_intake

        run_id = submit_intake([str(f) for f in files], procedure, received_at, contact)
        click.echo(json.dumps({"flow_run_id": str(run_id)}) if as_json else f"queued {run_id}")
        return
    from flows.intake import intake_dossier

    with app.err.status(f"đang tiếp nhận {len(files)} tệp…"):
        result = intake_dossier(
            [str(f) for f in files], procedure, received_at, chosen, cli_actor(),
            channel=channel, contact=contact,
        )  # fmt: skip
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False))
    else:
        print_intake_outcome(app, result)


@click.command("watch")
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False))
@click.option("--procedure", required=True, help="Procedure key for every dossier in the folder.")
@click.option("--poll", default=2.0, show_default=True, help="Seconds between scans.")
@click.option("--stable", default=3.0, show_default=True, help="Seconds a file must not change.")
@click.option("--once", is_flag=True, help="Stop when the folder has nothing left to take in.")
@click.pass_obj
def watch(
    app: AppContext, folder: Path, procedure: str, poll: float, stable: float, once: bool
) -> None:
    """Take in what scanners save into FOLDER: one dossier per sub-folder or per file."""
    prepare_flows(app)
    from flows.context import current_office
    from flows.intake import intake_dossier
    from flows.watch import HotFolder, Outcome

    current_office().catalogue.get(procedure)  # an unknown procedure fails before watching
    if not folder.is_dir():
        raise BadArgumentError(f"{folder}: not a folder", hint="create it or check the path")

    from motcua.office import cli_actor

    actor = "watch:" + cli_actor().removeprefix("cli:")

    def take(files: list[Path]) -> dict[str, Any]:
        return intake_dossier([str(f) for f in files], procedure, actor=actor)

    def report(outcome: Outcome) -> None:
        if outcome.ok:
            code = outcome.result.get("dossier_code")
            click.echo(f"ok      {outcome.unit} → {code}, hẹn trả {outcome.result.get('due_date')}")
        else:
            click.echo(f"failed  {outcome.unit}: {outcome.error}")

    app.err.print(f"watching {folder} (Ctrl+C to stop)")
    outcomes = HotFolder(folder, take, stable_seconds=stable).run(
        poll_seconds=poll, once=once, on_outcome=report
    )
    if any(not o.ok for o in outcomes):
        raise click.exceptions.Exit(2)


commands = [intake, watch]
