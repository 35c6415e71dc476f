"""`motcua dossier apologise`, `motcua archive audit` and `motcua archive renew`: the scheduled
maintenance flows, by hand.

Both run the flows of `flows.maintenance` (the ones `motcua worker` deploys on a schedule) in this
process; they join the `dossier` and `archive` groups from here.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import click

from motcua.cli import AppContext
from motcua.cli.archive import commands as _archive_commands
from motcua.cli.dossier import commands as _dossier_commands
from motcua.cli.intake import prepare_flows
from motcua.errors import BadArgumentError
from storage.fixity import COPY_LABELS


@click.command("apologise")
@click.option("--date", "day", default=None, help="Count lateness on this day (default today).")
@click.option("--reason", default=None, help="Reason printed on Mẫu 04 (default: a standard one).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def apologise(app: AppContext, day: str | None, reason: str | None, as_json: bool) -> None:
    """Issue Mẫu 04 (apology and new date) for every late dossier that has none yet."""
    import datetime as dt

    if day is not None:
        try:
            dt.date.fromisoformat(day)
        except ValueError:
            raise BadArgumentError(f"--date {day!r} is not YYYY-MM-DD") from None
    prepare_flows(app)
    from flows.maintenance import DEFAULT_APOLOGY_REASON, apologise_late_dossiers
    from motcua.office import cli_actor

    issued = apologise_late_dossiers(day, reason or DEFAULT_APOLOGY_REASON, cli_actor())
    if as_json:
        click.echo(json.dumps(issued, ensure_ascii=False))
        return
    for item in issued:
        app.out.print(f"{item['dossier_code']}: hạn {item['due_date']} → hẹn lại "
                      f"{item['new_due_date']}  {item['apology_pdf']}")  # fmt: skip
    if not issued:
        app.out.print("Không có hồ sơ quá hạn cần phiếu xin lỗi.")


@click.command("audit")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (findings included).")
@click.pass_obj
def audit(app: AppContext, as_json: bool) -> None:
    """Run the fixity-audit flow over the whole archive (what the weekly schedule runs): every
    record, the buckets' configuration, and the catalogue against the store. Exit 1 on any
    finding, after printing them."""
    prepare_flows(app)
    from flows.maintenance import fixity_audit

    with app.err.status("đang kiểm tra toàn vẹn kho lưu trữ…"):
        result = fixity_audit(fail_on_findings=False)
    findings = result["findings"]
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False))
    elif findings:
        for f in findings:
            where = "" if f["copy"] == "primary" else f" [{COPY_LABELS.get(f['copy'], f['copy'])}]"
            click.echo(f"✗ {f['record_id']}{where}: {f['object']}: {f['problem']}")
        app.out.print(f"{len(findings)} vấn đề trong {result['records']} hồ sơ, "
                      f"{result['objects']} tệp ({result['seconds']} s)")  # fmt: skip
    else:
        app.out.print(f"{result['records']} hồ sơ, {result['objects']} tệp: toàn vẹn "
                      f"({result['seconds']} s)")  # fmt: skip
    if findings:
        raise click.exceptions.Exit(1)


@click.command("repair")
@click.argument("record_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def repair(app: AppContext, record_id: str, as_json: bool) -> None:
    """Restore a missing or damaged copy of a record (primary or replica) from the good one, as
    a new version: the old versions stay. Exit 0 when both copies are whole afterwards."""
    from storage.record import check_record_id

    record_id = check_record_id(record_id)
    prepare_flows(app)
    from flows.maintenance import repair_archive_record
    from motcua.office import cli_actor

    result = repair_archive_record(record_id, cli_actor())
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    for item in result["restored"]:
        target = COPY_LABELS.get(item["copy"], item["copy"])
        source = COPY_LABELS.get(item["source"], item["source"])
        click.echo(f"✓ {item['object']}: {target} khôi phục từ {source}")
    if result["restored"]:
        app.out.print(f"Đã khôi phục {len(result['restored'])} tệp của hồ sơ {record_id}")
    else:
        app.out.print(f"Hồ sơ {record_id}: cả hai bản đều toàn vẹn, không cần khôi phục")


@click.command("replicate")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def replicate(app: AppContext, as_json: bool) -> None:
    """Send the copies queued for the replica. Exit 1 when some are still queued."""
    prepare_flows(app)
    from flows.maintenance import replicate_archive

    result = replicate_archive()
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False))
    elif not result["replica"]:
        app.out.print("Chưa cấu hình bản sao thứ hai (MOTCUA_S3_REPLICA_ENDPOINT).")
    else:
        app.out.print(f"Đã gửi {result['copied']} tệp sang bản sao, còn chờ {result['pending']}"
                      + (f" ({result['error']})" if result["error"] else ""))  # fmt: skip
    if result["pending"]:
        raise click.exceptions.Exit(1)


@click.command("renew")
@click.option("--dry-run", is_flag=True, help="Only list the records that are due.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def renew(app: AppContext, dry_run: bool, as_json: bool) -> None:
    """Renew archived signatures before they weaken (what the monthly schedule runs): records
    whose newest document timestamp's TSA certificate ends within
    MOTCUA_SIGNATURE_RENEW_MARGIN_DAYS, or with a weak digest, get a new document timestamp and
    are archived as a new version; the old one stays. Exit 1 when a record could not be renewed."""
    prepare_flows(app)
    from flows.upkeep import renew_signatures
    from motcua.office import cli_actor

    with app.err.status("đang kiểm tra chữ ký số trong kho lưu trữ…"):
        result = renew_signatures(dry_run=dry_run, actor=cli_actor())
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        for item in result["records"]:
            if item["error"]:
                click.echo(f"✗ {item['record_id']}: {item['error']}")
            elif item["renewed_to"]:
                click.echo(f"✓ {item['record_id']} → {item['renewed_to']}: "
                           + "; ".join(item["reasons"]))  # fmt: skip
            else:
                click.echo(f"• {item['record_id']} cần gia hạn: " + "; ".join(item["reasons"]))
        verb = "cần gia hạn" if dry_run else "đã gia hạn"
        count = result["due"] if dry_run else result["renewed"]
        app.out.print(f"{result['checked']} hồ sơ đã kiểm tra, {count} {verb}")
    if not result["ok"]:
        raise click.exceptions.Exit(1)


def _group(commands: Sequence[click.Command], name: str) -> click.Group:
    group = next(c for c in commands if c.name == name)
    assert isinstance(group, click.Group)
    return group


_group(_dossier_commands, "dossier").add_command(apologise)
_group(_archive_commands, "archive").add_command(audit)
_group(_archive_commands, "archive").add_command(renew)
_group(_archive_commands, "archive").add_command(repair)
_group(_archive_commands, "archive").add_command(replicate)
commands: list[click.Command] = []
