"""Webhooks to the e-office system against a real HTTP server on 127.0.0.1 started here."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from web_helpers import Receiver, build_world, csrf_header, serve_receiver, sign_in

from motcua.errors import CheckFailedError, ConfigurationError, ServiceUnavailableError
from motcua.web import webhooks
from motcua.web.webhooks import WebhookTarget, deliver

SECRET = b"khoa-bi-mat-chung-voi-ioffice"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with serve_receiver() as state:
        yield state


def _target(url: str, **kw: object) -> WebhookTarget:
    return WebhookTarget(url, SECRET, backoff=0.01, max_backoff=0.05, **kw)  # type: ignore[arg-type]


def test_event_is_signed_and_verifiable(receiver: Receiver) -> None:
    result = deliver(_target(receiver.url), "dossier.returned", {"dossier_code": "H40-1"})
    assert (result.status, result.attempts) == (200, 1)
    [(headers, body)] = receiver.received
    assert headers["x-motcua-event"] == "dossier.returned"
    assert headers["x-motcua-delivery"] == result.id
    assert headers["content-type"] == "application/json; charset=utf-8"
    payload = json.loads(body)
    assert payload["event"] == "dossier.returned"
    assert payload["data"] == {"dossier_code": "H40-1"}
    ts, sig = headers["x-motcua-timestamp"], headers["x-motcua-signature"]
    assert sig.startswith("sha256=")
    assert webhooks.verify(SECRET, ts, body, sig)
    assert not webhooks.verify(b"another secret", ts, body, sig)
    assert not webhooks.verify(SECRET, ts, body.replace(b"H40-1", b"H40-2"), sig)
    assert not webhooks.verify(SECRET, ts, body, sig, now=int(ts) + 3600)  # a stale replay


def test_server_errors_are_retried_until_accepted(receiver: Receiver) -> None:
    receiver.script = [503, 500]
    result = deliver(_target(receiver.url), "result.signed", {"dossier_code": "H40-2"})
    assert result.attempts == 3
    assert len(receiver.received) == 3
    ids = {h["x-motcua-delivery"] for h, _ in receiver.received}
    assert ids == {result.id}  # one delivery id across retries, for de-duplication
    assert len({b for _, b in receiver.received}) == 1


def test_a_refusal_is_not_retried(receiver: Receiver) -> None:
    receiver.script = [401]
    with pytest.raises(CheckFailedError, match="refused with HTTP 401"):
        deliver(_target(receiver.url), "dossier.received", {"dossier_code": "H40-3"})
    assert len(receiver.received) == 1


def test_giving_up_after_the_attempts(receiver: Receiver) -> None:
    receiver.script = [503] * 10
    with pytest.raises(ServiceUnavailableError, match="failed after 3 attempts: HTTP 503"):
        deliver(_target(receiver.url, attempts=3), "dossier.received", {"dossier_code": "x"})
    assert len(receiver.received) == 3


def test_an_unreachable_server_is_retried_then_reported() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/events"
    with pytest.raises(ServiceUnavailableError, match="failed after 2 attempts"):
        deliver(_target(url, attempts=2), "dossier.received", {"dossier_code": "x"})


def test_target_from_settings(tmp_path: Path) -> None:
    from web_helpers import make_settings

    assert webhooks.target_from_settings(make_settings(tmp_path)) is None
    target = webhooks.target_from_settings(
        make_settings(tmp_path, webhook_url="https://ioffice.example.vn/ev", webhook_secret="k")
    )
    assert target is not None and (target.host, target.secret) == ("ioffice.example.vn", b"k")
    with pytest.raises(ConfigurationError, match="without a secret"):
        webhooks.target_from_settings(make_settings(tmp_path, webhook_url="https://x.vn/ev"))


def test_configuration_is_checked() -> None:
    with pytest.raises(ConfigurationError, match="not an http"):
        WebhookTarget("ftp://ioffice/", SECRET)
    with pytest.raises(ConfigurationError, match="without a secret"):
        WebhookTarget("https://ioffice.example.vn/events", b"")


def test_returning_a_dossier_notifies_the_e_office_system(
    receiver: Receiver, tmp_path: Path
) -> None:
    world = build_world(tmp_path / "home", webhook_url=receiver.url, webhook_secret=SECRET.decode())
    clerk = sign_in(world.app, "clerk")
    r = clerk.post(f"/api/v1/dossiers/{world.signed.code}/returned", headers=csrf_header(clerk))
    assert r.status_code == 200
    assert receiver.arrived.wait(10)
    [(headers, body)] = receiver.received
    payload = json.loads(body)
    assert payload["event"] == "dossier.returned"
    assert payload["data"]["dossier_code"] == world.signed.code
    assert "Lê Văn Cường" not in body.decode()  # codes, not personal data
    assert webhooks.verify(SECRET, headers["x-motcua-timestamp"], body,
                           headers["x-motcua-signature"], now=time.time())  # fmt: skip
