"""`motcua dossier supplement|accept|components|refuse|withdraw|change-procedure|apology|history|
upload-result`.

Each command parses, calls the operation in `flows.dossier` (or the `supplement-dossier` flow)
as `cli:<os user>`, and prints the outcome; the rules, the journal entry and the webhook are the
operation's, the same as from the web. The commands join the `dossier` group of
`motcua.cli.dossier`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.markup import escape

from motcua.cli import AppContext
from motcua.cli.dossier import commands as _dossier_commands
from motcua.cli.dossier import open_office
from motcua.errors import BadArgumentError
from motcua.types import vn_date

if TYPE_CHECKING:
    from flows.dossier import Outcome


def parse_components(items: Sequence[str]) -> dict[str, str]:
    """`--component KEY=FILE` options → {FILE: KEY}; the flow checks FILE and KEY."""
    chosen: dict[str, str] = {}
    for item in items:
        key, sep, name = item.partition("=")
        if not sep or not key.strip() or not name.strip():
            raise BadArgumentError(
                f"--component {item!r} không đúng dạng KEY=FILE",
                hint="ví dụ: --component ban-chinh=giay-khai-sinh.pdf",
            )
        if name.strip() in chosen:
            raise BadArgumentError(
                f"tệp {name.strip()} được gán hai lần ({chosen[name.strip()]} và {key.strip()})",
                hint="mỗi tệp thuộc một thành phần",
            )
        chosen[name.strip()] = key.strip()
    return chosen


def _existing(files: Sequence[Path]) -> None:
    missing = [f for f in files if not f.is_file()]
    if missing:
        raise BadArgumentError(f"{missing[0]}: không có tệp này", hint="kiểm tra đường dẫn")


def _received_at(value: str | None) -> None:
    if value:
        try:
            dt.datetime.fromisoformat(value)
        except ValueError:
            raise BadArgumentError(
                f"--received-at {value!r} không phải thời điểm ISO",
                hint="ví dụ 2026-04-24T09:30:00+07:00",
            ) from None


def _print(app: AppContext, outcome: Outcome, as_json: bool, done: str) -> None:
    if as_json:
        click.echo(json.dumps(outcome.as_json(), ensure_ascii=False))
        return
    d = outcome.dossier
    app.out.print(f"[bold]{escape(d.code)}[/]  {escape(d.status.label_vi)}  — {escape(done)}")
    if d.due_date:
        app.out.print(f"  hẹn trả kết quả: {vn_date(d.due_date)}")
    if d.missing_components:
        app.out.print("  còn thiếu: " + escape(", ".join(d.missing_components)))
    for name, path in outcome.forms.items():
        app.out.print(f"  {escape(name)}: {escape(str(path))}")


def _actor() -> str:
    from motcua.office import cli_actor

    return cli_actor()


@click.command("supplement")
@click.argument("code")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--component", "components", multiple=True, metavar="KEY=FILE",
              help="The component FILE is (repeatable); overrides the guess.")  # fmt: skip
@click.option("--received-at", default=None, help="ISO date-time of receipt (default now).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_obj
def supplement(
    app: AppContext,
    code: str,
    files: tuple[Path, ...],
    components: tuple[str, ...],
    received_at: str | None,
    as_json: bool,
) -> None:
    """Take in the papers a citizen brings back for dossier CODE (same code; Mẫu 01 once
    complete, the time limit restarting from now)."""
    from motcua.cli.intake import prepare_flows, print_intake_outcome

    _received_at(received_at)
    _existing(files)
    chosen = parse_components(components)
    open_office(app).register.check_supplement(code, [])  # fails before any OCR
    prepare_flows(app)
    from flows.intake import supplement_dossier

    with app.err.status(f"đang nhận bổ sung {len(files)} tệp cho hồ sơ {code}…"):
        result = supplement_dossier(code, [str(f) for f in files], received_at, chosen, _actor())
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False))
    else:
        print_intake_outcome(app, result)


@click.command("accept")
@click.argument("code")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def accept(app: AppContext, code: str, as_json: bool) -> None:
    """Accept a received, complete dossier for processing."""
    from flows import dossier as ops

    _print(app, ops.accept(open_office(app), code, actor=_actor()), as_json, "đã chuyển giải quyết")


@click.command("components")
@click.argument("code")
@click.argument("assignment", nargs=-1, metavar="POSITION=KEY...")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def components(app: AppContext, code: str, assignment: tuple[str, ...], as_json: bool) -> None:
    """Confirm the documents' components (all as suggested, or POSITION=KEY to change one;
    KEY `giay-to-khac` for other paper)."""
    from flows import dossier as ops

    chosen: dict[int, str | None] = {}
    for item in assignment:
        position, sep, key = item.partition("=")
        if not sep or not position.strip().isdigit():
            raise BadArgumentError(
                f"{item!r} không đúng dạng POSITION=KEY", hint="ví dụ: 2=ban-chinh"
            )
        chosen[int(position)] = key.strip() or None
    office = open_office(app)
    outcome = ops.confirm_components(office, code, chosen, actor=_actor())
    if as_json:
        click.echo(json.dumps(outcome.as_json(), ensure_ascii=False))
        return
    _print(app, outcome, False, "đã xác nhận thành phần hồ sơ")
    procedure = office.catalogue.get(outcome.dossier.procedure_key)
    for c in outcome.dossier.components(procedure):
        files = ", ".join(c.files) or "—"
        app.out.print(f"  {escape(c.label)}: {escape(files)}")


@click.command("refuse")
@click.argument("code")
@click.option("--reason", "reasons", multiple=True, help="Why (repeatable; printed on Mẫu 03).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def refuse(app: AppContext, code: str, reasons: tuple[str, ...], as_json: bool) -> None:
    """Refuse dossier CODE with its reasons; prints Mẫu 03 (phiếu từ chối) into its folder."""
    from flows import dossier as ops

    outcome = ops.refuse(open_office(app), code, list(reasons), actor=_actor())
    _print(app, outcome, as_json, "đã từ chối giải quyết")


@click.command("withdraw")
@click.argument("code")
@click.option("--requested-by", required=True, help="Who asked to withdraw it.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def withdraw(app: AppContext, code: str, requested_by: str, as_json: bool) -> None:
    """Record that the citizen withdrew dossier CODE (rút hồ sơ)."""
    from flows import dossier as ops

    outcome = ops.withdraw(open_office(app), code, requested_by=requested_by, actor=_actor())
    _print(app, outcome, as_json, "đã rút hồ sơ")


@click.command("change-procedure")
@click.argument("code")
@click.argument("procedure")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def change_procedure(app: AppContext, code: str, procedure: str, as_json: bool) -> None:
    """Move dossier CODE to PROCEDURE before it is accepted."""
    from flows import dossier as ops

    outcome = ops.change_procedure(open_office(app), code, procedure, actor=_actor())
    _print(app, outcome, as_json, f"đã đổi sang thủ tục {procedure}")


@click.command("apology")
@click.argument("code")
@click.option("--new-date", required=True, help="The new appointment, YYYY-MM-DD.")
@click.option("--reason", "reasons", multiple=True, help="Why it is late (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def apology(
    app: AppContext, code: str, new_date: str, reasons: tuple[str, ...], as_json: bool
) -> None:
    """Record a late dossier's new date; prints Mẫu 04 (phiếu xin lỗi) into its folder."""
    from flows import dossier as ops

    try:
        day = dt.date.fromisoformat(new_date)
    except ValueError:
        raise BadArgumentError(
            f"--new-date {new_date!r} không phải ngày", hint="YYYY-MM-DD"
        ) from None
    outcome = ops.apologise(open_office(app), code, day, list(reasons), actor=_actor())
    _print(app, outcome, as_json, f"hẹn lại ngày {vn_date(day)}")


@click.command("history")
@click.argument("code")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def history(app: AppContext, code: str, as_json: bool) -> None:
    """The journal entries of dossier CODE, oldest first: when, who, what."""
    office = open_office(app)
    office.register.get(code)  # an unknown code is an error, not an empty history
    assert office.journal is not None
    entries = list(reversed(office.journal.entries(target_id=code, limit=1000)))
    if as_json:
        out: list[dict[str, Any]] = [
            {"at": e.at.isoformat(), "actor": e.actor, "action": e.action,
             "details": dict(e.details)}
            for e in entries
        ]  # fmt: skip
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    for e in entries:
        when = e.at.astimezone(dt.timezone(dt.timedelta(hours=7)))
        click.echo(f"{when:%d/%m/%Y %H:%M}  {e.actor:<20} {e.action}")


@click.command("upload-result")
@click.argument("code")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--number", default=None, help='The number printed on the result ("12/CT").')
@click.option("--accept-unknown-revocation", is_flag=True,
              help="Take a signature whose revocation could not be checked.")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def upload_result(
    app: AppContext,
    code: str,
    file: Path,
    number: str | None,
    accept_unknown_revocation: bool,
    as_json: bool,
) -> None:
    """The result of dossier CODE as a file: a PDF signed elsewhere (its signatures must verify)
    or the scan of a paper result, for procedures motcua has no result template for."""
    from flows.result_upload import record_uploaded_result

    _existing([file])
    with app.err.status(f"đang kiểm tra và lưu trữ kết quả của hồ sơ {code}…"):
        result = record_uploaded_result(
            open_office(app),
            code,
            file,
            number=number,
            actor=_actor(),
            accept_unknown_revocation=accept_unknown_revocation,
        )
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False))
        return
    kind = "kết quả đã ký số" if result["kind"] == "signed" else "bản quét kết quả"
    app.out.print(f"[bold]{escape(result['dossier_code'])}[/]  đã có kết quả ({kind}), "
                  f"lưu trữ {escape(result['record_id'])}")  # fmt: skip


_dossier_group = next(c for c in _dossier_commands if c.name == "dossier")
assert isinstance(_dossier_group, click.Group)
for _command in (supplement, accept, components, refuse, withdraw, change_procedure, apology,
                 history, upload_result):  # fmt: skip
    _dossier_group.add_command(_command)
commands: list[click.Command] = []
