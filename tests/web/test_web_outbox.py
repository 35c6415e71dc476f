"""The webhook outbox: events stored first, delivered in order once the receiver is back, replayed
with their own ids, and not lost when the process that made them ends before they go. Against a
real HTTP receiver on 127.0.0.1 and the real catalogue database (SQLite; PostgreSQL too for the
one-deliverer lease)."""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine
from web_helpers import Receiver, build_world, serve_receiver

from motcua.web import webhooks
from motcua.web.db import open_engine
from motcua.web.outbox import Outbox
from motcua.web.webhooks import WebhookTarget

SECRET = b"khoa-bi-mat-chung-voi-ioffice"
MOTCUA = [sys.executable, "-m", "motcua"]


def _closed_port() -> int:
    """A port nothing listens on (yet): the e-office system is down."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 12, 4, 8, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


def _outbox(engine: Engine, port: int, clock: Clock) -> Outbox:
    target = WebhookTarget(f"http://127.0.0.1:{port}/motcua/events", SECRET, attempts=2,
                           backoff=0.01, max_backoff=0.02, timeout=2)  # fmt: skip
    outbox = Outbox(engine, target, retry_base=30, clock=clock)
    outbox.create_tables()
    return outbox


def _ids(receiver: Receiver) -> list[str]:
    out = []
    for headers, body in receiver.received:
        payload = json.loads(body)
        assert headers["x-motcua-delivery"] == payload["id"]
        assert webhooks.verify(SECRET, headers["x-motcua-timestamp"], body,
                               headers["x-motcua-signature"])  # fmt: skip
        out.append(payload["id"])
    return out


def test_a_receiver_down_for_a_while_gets_every_event_in_order_then_again_on_replay(
    tmp_path: Path,
) -> None:
    engine = open_engine(f"sqlite:///{tmp_path}/catalog.sqlite3")
    port, clock = _closed_port(), Clock()
    outbox = _outbox(engine, port, clock)
    made = [outbox.add(f"dossier.step{i}", {"dossier_code": f"H-{i:04d}"}) for i in range(5)]

    down = outbox.deliver_pending()
    assert (down.delivered, down.failed, down.waiting) == ((), made[0].id, 5)
    assert down.retry_at == clock.now + dt.timedelta(seconds=30)
    [first, *_] = outbox.events(pending=True)
    assert first.rounds == 1 and first.last_error and "127.0.0.1" in first.last_error

    with serve_receiver(port) as receiver:
        # before the back-off has passed nothing is sent, so order cannot be overtaken
        early = outbox.deliver_pending()
        assert (early.delivered, early.waiting, receiver.received) == ((), 5, [])
        clock.now += dt.timedelta(seconds=31)
        back = outbox.deliver_pending()
        assert back.ok and back.delivered == tuple(e.id for e in made) and back.waiting == 0
        assert _ids(receiver) == [e.id for e in made]
        assert [json.loads(b)["event"] for _, b in receiver.received] == [e.event for e in made]
        # the body says when the event happened, not when it was finally delivered
        assert json.loads(receiver.received[0][1])["occurred_at"] == "2026-12-04T08:00:00+00:00"
        assert outbox.events(pending=True) == []

        receiver.received.clear()
        again = outbox.replay(since=made[2].occurred_at)
        assert again.ok and _ids(receiver) == [e.id for e in made]  # all five share the moment
        receiver.received.clear()
        one = outbox.replay(event_id=made[3].id)
        assert one.delivered == (made[3].id,) and _ids(receiver) == [made[3].id]

        # a receiver that fails mid-way: the round stops there; the rest waits its turn
        receiver.received.clear()
        later = [outbox.add("dossier.accepted", {"n": i}) for i in range(3)]
        receiver.script = [503, 503, 200]  # two attempts of the first event fail
        stopped = outbox.deliver_pending()
        assert (stopped.delivered, stopped.failed, stopped.waiting) == ((), later[0].id, 3)
        clock.now += dt.timedelta(seconds=31)
        resumed = outbox.deliver_pending()
        assert resumed.delivered == tuple(e.id for e in later)
        assert _ids(receiver)[-3:] == [e.id for e in later]  # the same id on every attempt
    engine.dispose()


def test_replay_needs_a_choice_and_names_an_unknown_event(tmp_path: Path) -> None:
    from motcua.errors import BadArgumentError

    engine = open_engine(f"sqlite:///{tmp_path}/catalog.sqlite3")
    outbox = _outbox(engine, _closed_port(), Clock())
    with pytest.raises(BadArgumentError, match="chọn sự kiện"):
        outbox.replay()
    with pytest.raises(BadArgumentError, match="không có sự kiện khong-co"):
        outbox.replay(event_id="khong-co")
    engine.dispose()


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_one_deliverer_at_a_time_and_each_event_once(
    database: str, tmp_path: Path, new_postgres_database: Callable[[str], str]
) -> None:
    url = (
        f"sqlite:///{tmp_path}/catalog.sqlite3"
        if database == "sqlite"
        else "postgresql+psycopg://" + new_postgres_database(f"outbox_{os.getpid()}")
    )
    engine = open_engine(url)
    with serve_receiver() as receiver:
        port = int(receiver.url.split(":")[2].split("/")[0])
        boxes = [_outbox(engine, port, Clock()) for _ in range(4)]  # four processes' outboxes
        made = [boxes[0].add("dossier.received", {"n": i}) for i in range(40)]
        start = threading.Barrier(len(boxes))

        def deliver(box: Outbox) -> None:
            start.wait()
            box.deliver_pending()

        threads = [threading.Thread(target=deliver, args=(b,)) for b in boxes]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        while boxes[0].events(pending=True):  # a box that found the lease taken did nothing
            boxes[0].deliver_pending()
        assert _ids(receiver) == [e.id for e in made]  # each once, in order
    engine.dispose()


@pytest.mark.slow
def test_events_left_by_a_command_that_ended_go_out_later_and_on_replay(tmp_path: Path) -> None:
    home = tmp_path / "home"
    port = _closed_port()
    url = f"http://127.0.0.1:{port}/motcua/events"
    world = build_world(home)
    code = world.complete.code
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOTCUA_")}
    env.update(MOTCUA_HOME=str(home), MOTCUA_CONFIG=str(home / "absent.toml"),
               MOTCUA_WEBHOOK_URL=url, MOTCUA_WEBHOOK_SECRET=SECRET.decode(),
               MOTCUA_WEBHOOK_FLUSH_SECONDS="1", MOTCUA_WEBHOOK_ATTEMPTS="2")  # fmt: skip

    def motcua(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*MOTCUA, *args], env=env, capture_output=True, text=True,
                              timeout=120, check=False)  # fmt: skip

    started = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    accepted = motcua("dossier", "accept", code, "--json")
    assert accepted.returncode == 0, accepted.stderr
    # the command has ended with the e-office system down: its event waits in the outbox
    listed = motcua("webhooks", "list", "--pending", "--json")
    assert listed.returncode == 0, listed.stderr
    [waiting] = json.loads(listed.stdout)
    assert (waiting["event"], waiting["data"]["dossier_code"]) == ("dossier.accepted", code)
    still_down = motcua("webhooks", "deliver", "--json")
    assert still_down.returncode == 3 and "chưa gửi được" in still_down.stderr
    assert "Traceback" not in still_down.stderr

    with serve_receiver(port) as receiver:
        sent = motcua("webhooks", "deliver", "--json")
        assert sent.returncode == 0, sent.stderr
        assert json.loads(sent.stdout)["delivered"] == [waiting["id"]]
        assert _ids(receiver) == [waiting["id"]]
        payload = json.loads(receiver.received[0][1])
        assert payload["event"] == "dossier.accepted" and payload["data"]["dossier_code"] == code

        replayed = motcua("webhooks", "replay", "--since", started.isoformat(), "--json")
        assert replayed.returncode == 0, replayed.stderr
        assert _ids(receiver) == [waiting["id"], waiting["id"]]
        assert motcua("webhooks", "list", "--pending", "--json").stdout.strip() == "[]"


def test_the_openapi_document_declares_every_event_with_its_payload(tmp_path: Path) -> None:
    from motcua.web.webhook_docs import EVENTS

    world = build_world(tmp_path / "home")
    spec = world.app.openapi()
    assert set(spec["webhooks"]) == set(EVENTS)
    for name, item in spec["webhooks"].items():
        body = item["post"]["requestBody"]["content"]["application/json"]["schema"]
        assert body == {"$ref": "#/components/schemas/WebhookEvent"}, name
        assert "X-Motcua-Signature" in item["post"]["description"]
    event = spec["components"]["schemas"]["WebhookEvent"]
    assert set(event["required"]) == {"id", "event", "occurred_at", "data"}
    data = spec["components"]["schemas"]["WebhookEventData"]
    assert {"dossier_code", "status", "due_date"} <= set(data["required"])
