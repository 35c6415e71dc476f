"""`motcua webhooks list|deliver|replay`: the e-office events' outbox by hand.

`list` shows the stored events (`--pending` only the unsent), `deliver` sends the unsent ones now,
`replay [--since ISO] [--event ID]` sends chosen events again, in their order, with their own ids.
A round that leaves an event unsent exits 3 (the e-office system is not reachable) and says which.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING

import click
from rich.markup import escape

from motcua.cli import AppContext
from motcua.errors import BadArgumentError, ConfigurationError, ServiceUnavailableError

if TYPE_CHECKING:
    from motcua.web.outbox import Outbox, Round

VN_TZ = dt.timezone(dt.timedelta(hours=7))


def _outbox(app: AppContext) -> Outbox:
    from motcua.cli.dossier import open_office

    outbox = open_office(app).outbox
    if outbox is None:
        raise ConfigurationError(
            "chưa cấu hình hệ thống nhận sự kiện (webhook)",
            hint="đặt MOTCUA_WEBHOOK_URL và MOTCUA_WEBHOOK_SECRET",
        )
    return outbox


def _moment(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise BadArgumentError(
            f"--since {value!r} không phải thời điểm ISO 8601", hint="ví dụ 2026-12-01T08:00"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=VN_TZ)


def _report(app: AppContext, outcome: Round, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(outcome.as_json(), ensure_ascii=False, indent=2))
    else:
        app.out.print(f"đã gửi {len(outcome.delivered)} sự kiện; còn chờ gửi {outcome.waiting}")
    if outcome.busy:
        raise ServiceUnavailableError(
            "một tiến trình khác đang gửi sự kiện", hint="thử lại sau ít phút"
        )
    if not outcome.ok:
        raise ServiceUnavailableError(
            f"sự kiện {outcome.failed} chưa gửi được: {outcome.error}",
            hint="các sự kiện sau nó chờ theo thứ tự; chúng được gửi lại tự động",
        )


@click.group("webhooks")
def webhooks_group() -> None:
    """Events for the e-office system: list, send what is waiting, send again."""


@webhooks_group.command("list")
@click.option("--pending", is_flag=True, help="Only the events not yet delivered.")
@click.option("--since", default=None, help="From this ISO time (Vietnam time when no offset).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def list_events(app: AppContext, pending: bool, since: str | None, as_json: bool) -> None:
    """The stored events, oldest first."""
    events = _outbox(app).events(since=_moment(since), pending=pending, limit=100_000)
    if as_json:
        click.echo(json.dumps([e.as_json() for e in events], ensure_ascii=False, indent=2))
        return
    if not events:
        app.out.print("không có sự kiện")
    for e in events:
        when = e.occurred_at.astimezone(VN_TZ).strftime("%d/%m/%Y %H:%M:%S")
        state = "đã gửi" if e.delivered_at else f"chờ gửi (lần thử {e.rounds})"
        app.out.print(f"{e.id}  {when}  {escape(e.event):<28} {state}")


@webhooks_group.command("deliver")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def deliver_events(app: AppContext, as_json: bool) -> None:
    """Send the events not yet delivered now, oldest first."""
    _report(app, _outbox(app).deliver_pending(now=True), as_json)


@webhooks_group.command("replay")
@click.option("--since", default=None, help="Every event from this ISO time.")
@click.option("--event", "event_id", default=None, help="One event, by its id.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def replay(app: AppContext, since: str | None, event_id: str | None, as_json: bool) -> None:
    """Send chosen events again, delivered or not, in their order and with their own ids."""
    _report(app, _outbox(app).replay(since=_moment(since), event_id=event_id), as_json)


commands: list[click.Command] = [webhooks_group]
