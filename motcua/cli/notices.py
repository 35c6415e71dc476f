"""`motcua notices list|send`: the citizens' notices queue by hand.

Notices go out in the background when a dossier event happens, and the web server retries
them; an office without a web server (or after an SMTP or gateway outage) sends what waits
with `send`. `list` shows the queue with recipients masked (the last three digits of a phone,
the first letter and domain of an e-mail): a recipient is personal data. A round that leaves a
notice unsent exits 3 and says how many.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any

import click
from rich.markup import escape

from motcua.cli import AppContext
from motcua.errors import ConfigurationError, ServiceUnavailableError

if TYPE_CHECKING:
    from dossiers.notify import NoticeQueue
    from dossiers.notify.queue import Notice

VN_TZ = dt.timezone(dt.timedelta(hours=7))

KIND_VI = {
    "received": "tiếp nhận hồ sơ",
    "supplement": "yêu cầu bổ sung",
    "result_ready": "có kết quả",
    "late": "trễ hạn, hẹn lại",
    "refused": "từ chối",
}
CHANNEL_VI = {"email": "thư điện tử", "http": "tin nhắn"}


def _queue(app: AppContext) -> NoticeQueue:
    from motcua.cli.dossier import open_office

    queue = open_office(app).notices
    if queue is None:
        raise ConfigurationError(
            "chưa cấu hình kênh gửi thông báo cho công dân",
            hint="đặt MOTCUA_SMTP_HOST (thư điện tử) hoặc MOTCUA_NOTICE_HTTP_URL (SMS/Zalo)",
        )
    return queue


def _state(n: Notice) -> str:
    if n.sent_at is not None:
        return "sent"
    return "given_up" if n.gave_up_at is not None else "waiting"


def _when(moment: dt.datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(VN_TZ).isoformat(timespec="seconds")


def _as_json(n: Notice) -> dict[str, Any]:
    from dossiers.contact import mask_recipient

    return {
        "id": n.id,
        "dossier_code": n.dossier_code,
        "kind": n.kind,
        "channel": n.channel,
        "recipient": mask_recipient(n.recipient),
        "state": _state(n),
        "rounds": n.rounds,
        "sent_at": _when(n.sent_at),
        "gave_up_at": _when(n.gave_up_at),
        "last_error": n.last_error,
    }


@click.group("notices")
def notices_group() -> None:
    """Notices to citizens (e-mail, SMS/Zalo): list the queue, send what waits."""


@notices_group.command("list")
@click.option("--code", "dossier_code", default=None, help="Only this dossier's notices.")
@click.option("--pending", is_flag=True, help="Only the notices not yet sent.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def list_notices(app: AppContext, dossier_code: str | None, pending: bool, as_json: bool) -> None:
    """The queued notices, oldest first; recipients masked."""
    items = _queue(app).notices(dossier_code)
    if pending:
        items = [n for n in items if _state(n) == "waiting"]
    rows = [_as_json(n) for n in items]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        app.out.print("không có thông báo")
    states = {"sent": "đã gửi", "waiting": "chờ gửi lại", "given_up": "đã ngừng gửi"}
    for row in rows:
        state = states[row["state"]]
        if row["state"] != "sent" and row["last_error"]:
            state += f" (lần thử {row['rounds']}: {row['last_error']})"
        kind = KIND_VI.get(row["kind"], row["kind"])
        channel = CHANNEL_VI.get(row["channel"], row["channel"])
        app.out.print(
            f"{row['id']}  {row['dossier_code']}  {kind}  {channel} {row['recipient']}  "
            f"{escape(state)}"
        )


@notices_group.command("send")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def send_notices(app: AppContext, as_json: bool) -> None:
    """Send every notice still waiting now, without waiting for its next try."""
    queue = _queue(app)
    sent, failed = queue.deliver_pending(now=True)
    waiting = sum(1 for n in queue.notices() if _state(n) == "waiting")
    if as_json:
        click.echo(json.dumps({"sent": sent, "failed": failed, "waiting": waiting}))
    else:
        app.out.print(f"đã gửi {sent} thông báo; chưa gửi được {failed}; còn chờ {waiting}")
    if failed:
        raise ServiceUnavailableError(
            f"{failed} thông báo chưa gửi được",
            hint="kiểm tra máy chủ thư (MOTCUA_SMTP_*) hoặc cổng tin nhắn "
            "(MOTCUA_NOTICE_HTTP_URL); thông báo được thử lại tự động",
        )


commands: list[click.Command] = [notices_group]
