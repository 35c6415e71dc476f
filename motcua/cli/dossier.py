"""`motcua dossier ...`, `motcua report`, `motcua procedures list`: the dossier register.

The flows that take dossiers in and issue results add their commands to `dossier_group`
(`dossier_group.add_command(issue)`) from their own module; the helpers here open the register
with the effective settings.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any

import click

from motcua.cli import AppContext
from motcua.errors import BadArgumentError

if TYPE_CHECKING:
    from dossiers.register import Dossier, DossierRegister
    from motcua.office import Office

_STATUSES = ["received", "processing", "supplement_requested", "result_signed", "returned",
             "refused", "withdrawn"]  # fmt: skip


def open_office(app: AppContext) -> Office:
    """The office's objects from the effective settings, built by the one builder."""
    from motcua.office import build_office

    return build_office(app.settings)


def open_register(app: AppContext) -> DossierRegister:
    """The register on the catalogue database, with the office's calendar overrides."""
    return open_office(app).register


def _parse_day(value: str | None, option: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise BadArgumentError(f"{option} {value!r} is not a date", hint="use YYYY-MM-DD") from None


def _procedure_names(app: AppContext) -> dict[str, str]:
    from dossiers.procedures import load_catalogue

    return {p.key: p.name for p in load_catalogue(home=app.settings.home)}


@click.group("dossier")
def dossier_group() -> None:
    """Look up dossiers and record their return to the citizen."""


@dossier_group.command("show")
@click.argument("code")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def show(app: AppContext, code: str, as_json: bool) -> None:
    """Show one dossier: status, due date, components, documents, history."""
    from motcua.errors import MotcuaError

    office = open_office(app)
    dossier = office.register.get(code)
    try:
        components = dossier.components(office.catalogue.get(dossier.procedure_key))
    except MotcuaError:  # a procedure no longer in the catalogue: the documents still show
        components = []
    from flows.public import status_url

    link = status_url(office, dossier.code)
    if as_json:
        out = dossier.to_json()
        out["components"] = [c.to_json() for c in components]
        out["status_url"] = link
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    names = _procedure_names(app)
    verdict = dossier.timeliness
    archived = "đã lưu trữ" if dossier.archived else f"chưa lưu trữ ({dossier.archive_pending})"
    rows: list[tuple[str, Any]] = [
        ("dossier", dossier.code),
        ("procedure", f"{dossier.procedure_key} ({names.get(dossier.procedure_key, '?')})"),
        ("citizen", dossier.citizen_name or ""),
        ("status", f"{dossier.status.value} ({dossier.status.label_vi})"),
        ("received", dossier.received_at.isoformat(timespec="minutes")),
        ("archive", archived),
        ("due", dossier.due_date.isoformat() if dossier.due_date else "(waiting for supplement)"),
        ("result signed", dossier.resolved_at.isoformat(timespec="minutes")
         if dossier.resolved_at else ""),
        ("timeliness", f"{verdict.value} ({verdict.label_vi})" if verdict else ""),
        ("returned", dossier.returned_at.isoformat(timespec="minutes")
         if dossier.returned_at else ""),
        ("new date (Mẫu 04)", dossier.new_due_date.isoformat() if dossier.new_due_date else ""),
        ("missing", ", ".join(dossier.missing_components)),
        ("result number", dossier.result_number or ""),
        ("status page", link or "(revoked)"),
    ]  # fmt: skip
    for label, value in rows:
        if value:
            click.echo(f"{label:<18} {value}")
    click.echo("components")
    for c in components:
        mark = "✓" if c.confirmed else ("?" if c.files else "✗" if c.required else "-")
        click.echo(f"  {mark} {c.label}: {', '.join(c.files) or '—'}")
    click.echo("documents")
    for d in dossier.documents:
        click.echo(f"  {d.position:>2}. {d.kind:<28} {d.sha256[:12]}…  {d.path}")
    click.echo("history")
    for h in dossier.history:
        note = f"  ({h.note})" if h.note else ""
        click.echo(f"  {h.at.isoformat(timespec='minutes')}  {h.status.value}{note}")


@dossier_group.command("status-link")
@click.argument("code")
@click.option("--revoke", is_flag=True, help="Stop the link from opening the status page.")
@click.option("--renew", is_flag=True, help="A new link (the old one stops); print Mẫu 01 again.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def status_link_command(
    app: AppContext, code: str, revoke: bool, renew: bool, as_json: bool
) -> None:
    """The citizen's status link of a dossier (the receipt's QR and lookup code)."""
    from flows import public
    from motcua.office import cli_actor

    if revoke and renew:
        raise BadArgumentError("--revoke and --renew exclude each other")
    office = open_office(app)
    office.register.get(code)
    if revoke:
        public.revoke_link(office, code, actor=cli_actor())
        link = None
    elif renew:
        link = public.renew_link(office, code, actor=cli_actor())
    else:
        link = public.status_link(office, code)
    if as_json:
        click.echo(json.dumps({"dossier_code": code, "status_url": link.url if link else None,
                               "lookup_code": link.printed if link else None}))  # fmt: skip
    elif link is None:
        click.echo(f"{code}: status link revoked (--renew makes a new one)")
    else:
        click.echo(f"{link.url}\nlookup code {link.printed}")


@dossier_group.command("list")
@click.option(
    "--status", "statuses", multiple=True, type=click.Choice(_STATUSES), help="Repeatable."
)
@click.option("--procedure", default=None, help="Procedure key.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def list_dossiers(
    app: AppContext, statuses: tuple[str, ...], procedure: str | None, as_json: bool
) -> None:
    """List dossiers in the order they were received."""
    from dossiers.register import Status

    dossiers = open_register(app).list(
        statuses=[Status(s) for s in statuses], procedure_key=procedure
    )
    if as_json:
        click.echo(json.dumps([_summary(d) for d in dossiers], ensure_ascii=False, indent=2))
        return
    today = dt.datetime.now(dt.UTC).astimezone(dt.timezone(dt.timedelta(hours=7))).date()
    for d in dossiers:
        due = d.due_date.isoformat() if d.due_date else "-"
        flag = "OVERDUE" if d.is_overdue(today) else (d.timeliness.value if d.timeliness else "")
        click.echo(f"{d.code:<24} {d.procedure_key:<30} {d.status.value:<20} due {due:<10} {flag}")
    app.err.print(f"{len(dossiers)} dossier(s)")


def _summary(d: Dossier) -> dict[str, Any]:
    return {
        "dossier_code": d.code,
        "procedure": d.procedure_key,
        "status": d.status.value,
        "received_at": d.received_at.isoformat(),
        "due_date": d.due_date.isoformat() if d.due_date else None,
        "timeliness": d.timeliness.value if d.timeliness else None,
    }


@dossier_group.command("return")
@click.argument("code")
@click.option("--at", "at", default=None, help="ISO datetime of the hand-over (default now).")
@click.option("--collected-by", default=None, help="Who collected the result.")
@click.option(
    "--method",
    type=click.Choice(["truc-tiep", "buu-chinh", "truc-tuyen"]),
    default="truc-tiep",
    show_default=True,
    help="In person, by post, online.",
)
@click.option(
    "--rating",
    type=click.IntRange(1, 5),
    default=None,
    help="The citizen's satisfaction at hand-over, 1-5.",
)
@click.option("--comment", default=None, help="The citizen's comment with the rating.")
@click.pass_obj
def return_dossier(
    app: AppContext,
    code: str,
    at: str | None,
    collected_by: str | None,
    method: str,
    rating: int | None,
    comment: str | None,
) -> None:
    """Record that the signed result was handed to the citizen (to whom, how, and how
    satisfied they were)."""
    from flows import dossier as ops
    from flows.public import rate
    from motcua.office import cli_actor

    when = None
    if at is not None:
        try:
            when = dt.datetime.fromisoformat(at)
        except ValueError:
            raise BadArgumentError(f"--at {at!r} is not an ISO datetime") from None
    if comment is not None and rating is None:
        raise BadArgumentError("--comment goes with --rating", hint="--rating 1..5")
    office = open_office(app)
    outcome = ops.mark_returned(office, code, actor=cli_actor(),
                                collected_by=collected_by, method=method, at=when)  # fmt: skip
    dossier = outcome.dossier
    assert dossier.returned_at is not None
    click.echo(f"{dossier.code} returned at {dossier.returned_at.isoformat(timespec='minutes')}")
    if rating is not None:
        rate(office, code, rating, comment, actor=cli_actor(), via="desk")
        click.echo(f"{dossier.code} rated {rating}/5")


@dossier_group.command("rate")
@click.argument("code")
@click.argument("score", type=click.IntRange(1, 5))
@click.option("--comment", default=None, help="The citizen's comment.")
@click.pass_obj
def rate_dossier(app: AppContext, code: str, score: int, comment: str | None) -> None:
    """The citizen's satisfaction (1-5) with a returned dossier; once per dossier."""
    from flows.public import rate
    from motcua.office import cli_actor

    rate(open_office(app), code, score, comment, actor=cli_actor(), via="desk")
    click.echo(f"{code} rated {score}/5")


@click.command("report")
@click.option("--from", "date_from", default=None, help="First day, YYYY-MM-DD (default: 1st).")
@click.option("--to", "date_to", default=None, help="Last day, YYYY-MM-DD (default: today).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def report(app: AppContext, date_from: str | None, date_to: str | None, as_json: bool) -> None:
    """The on-time report: received, resolved early / on time / late, pending, on-time rate;
    and the citizens' satisfaction given in the period."""
    from dossiers.calendar import VN_TZ
    from dossiers.report import ReportRow, on_time_report

    today = dt.datetime.now(VN_TZ).date()
    end = _parse_day(date_to, "--to") or today
    start = _parse_day(date_from, "--from") or end.replace(day=1)
    from dossiers.report import figures_766
    from dossiers.satisfaction import summarise

    office = open_office(app)
    dossiers = office.register.list(received_to=end)
    result = on_time_report(dossiers, date_from=start, date_to=end)
    satisfaction = summarise(office.ratings.given_between(start, end))
    scored = figures_766(dossiers, result, satisfaction_average=satisfaction.total.average)
    if as_json:
        out = result.to_json()
        out["satisfaction"] = satisfaction.to_json()
        out["decision_766"] = scored.to_json()
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return

    def line(label: str, r: ReportRow) -> str:
        rate = "-" if r.on_time_rate is None else f"{100 * r.on_time_rate:.2f}%"
        return (
            f"{label:<34} {r.carried_over:>6} {r.received:>8} {r.resolved:>8} {r.early:>6} "
            f"{r.on_time:>7} {r.late:>5} {r.pending:>7} {r.pending_overdue:>7} {rate:>8}"
        )

    click.echo(f"On-time report {start.isoformat()} – {end.isoformat()}")
    click.echo(
        f"{'':<34} {'carried':>6} {'received':>8} {'resolved':>8} {'early':>6} "
        f"{'on time':>7} {'late':>5} {'pending':>7} {'overdue':>7} {'on-time':>8}"
    )
    click.echo(line("all procedures", result.total))
    for r in result.by_procedure:
        click.echo(line(f"  {r.procedure}", r))
    for r in result.by_month:
        click.echo(line(f"  month {r.month}", r))
    click.echo(_satisfaction_line("satisfaction", satisfaction.total))
    for key, figures in satisfaction.by_procedure.items():
        click.echo(_satisfaction_line(f"  {key}", figures))
    click.echo(f"Decision 766 figures (dossiers received {start} – {end}: {scored.received})")

    def pct(value: float | None) -> str:
        return "-" if value is None else f"{100 * value:.2f}%"

    average = scored.satisfaction_average
    for label, value in [
        ("on-time share (resolved)", pct(scored.on_time_rate)),
        ("digitised dossiers", f"{scored.digitised}  {pct(scored.share(scored.digitised))}"),
        *[(f"received {k}", f"{v}  {pct(scored.share(v))}") for k, v in scored.by_channel.items()],
        ("average satisfaction", "-" if average is None else f"{average:.2f} / 5"),
    ]:
        click.echo(f"  {label:<32} {value}")
    if result.total.late_without_apology:
        app.err.print(
            f"{result.total.late_without_apology} late or overdue dossier(s) without an apology "
            "letter (Mẫu 04)"
        )


def _satisfaction_line(label: str, f: Any) -> str:
    if not f.rated:
        return f"{label:<34} no rating in the period"
    counts = " ".join(f"{k}:{f.counts.get(k, 0)}" for k in range(1, 6))
    return (
        f"{label:<34} {f.average:.2f} / 5 from {f.rated} rating(s), "
        f"{100 * f.satisfied_rate:.1f}% satisfied (4-5)  [{counts}]"
    )


@click.group("procedures")
def procedures_group() -> None:
    """The procedure catalogue."""


@procedures_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def list_procedures(app: AppContext, as_json: bool) -> None:
    """List the procedures this office handles (shipped ones and the office's own imports)."""
    from dossiers.procedures import load_catalogue

    catalogue = load_catalogue(home=app.settings.home)
    if as_json:
        click.echo(
            json.dumps([p.model_dump(mode="json") for p in catalogue], ensure_ascii=False, indent=2)
        )
        return
    for p in catalogue:
        mark = "" if p.national_code_confirmed else " (code unconfirmed)"
        click.echo(f"{p.key:<30} {p.national_code}{mark}  {p.field}: {p.name}")
        click.echo(f"{'':<30} time: {p.processing.label_vi}; fee: {p.fee.label_vi}")
        click.echo(f"{'':<30} requires: {', '.join(c.label for c in p.components if c.required)}")


commands = [dossier_group, report, procedures_group]
