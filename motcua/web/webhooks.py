"""Events for the e-office system: a JSON POST signed with HMAC-SHA256, retried with tenacity.

The body is `{"id", "event", "occurred_at", "data"}`. Headers: `X-Motcua-Event`,
`X-Motcua-Delivery` (the id, for de-duplication on the receiver), `X-Motcua-Timestamp` (Unix
seconds) and `X-Motcua-Signature: sha256=<hex>` over `<timestamp>.<body>`, so a receiver can
refuse replays of old deliveries. Connection failures, timeouts, 408, 429 and 5xx are retried
with exponential back-off; other 4xx are final. Events carry codes, not personal data.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
from tenacity import (
    RetryError,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from motcua.errors import CheckFailedError, ConfigurationError, ServiceUnavailableError

if TYPE_CHECKING:
    from motcua.settings import Settings

log = logging.getLogger("motcua.web.webhooks")

SIGNATURE_HEADER = "X-Motcua-Signature"
TIMESTAMP_HEADER = "X-Motcua-Timestamp"
EVENT_HEADER = "X-Motcua-Event"
DELIVERY_HEADER = "X-Motcua-Delivery"
_RETRY_STATUSES = frozenset({408, 425, 429})


@dataclass(frozen=True)
class WebhookTarget:
    url: str
    secret: bytes
    attempts: int = 5
    backoff: float = 1.0  # seconds before the second attempt; doubles up to `max_backoff`
    max_backoff: float = 60.0
    timeout: float = 10.0

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ConfigurationError(
                f"webhook URL {self.url!r} is not an http(s) URL",
                hint="set MOTCUA_WEBHOOK_URL to e.g. https://ioffice.example.vn/motcua/events",
            )
        if not self.secret:
            raise ConfigurationError(
                "a webhook URL is set without a secret", hint="set MOTCUA_WEBHOOK_SECRET"
            )

    @property
    def host(self) -> str:
        return urlsplit(self.url).netloc


@dataclass(frozen=True)
class Delivery:
    id: str
    event: str
    status: int
    attempts: int


class _Retryable(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status


def target_from_settings(settings: Settings) -> WebhookTarget | None:
    """The e-office system's endpoint from `MOTCUA_WEBHOOK_URL`/`_SECRET`, or None if unset.

    For other layers (the flows) that announce `dossier.received` and `result.signed`.
    """
    if not settings.webhook_url:
        return None
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""
    return WebhookTarget(
        settings.webhook_url, secret.encode("utf-8"), attempts=settings.webhook_attempts
    )


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """The signature header value: `sha256=` and the HMAC of `<timestamp>.<body>`."""
    mac = hmac.new(secret, timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(
    secret: bytes,
    timestamp: str,
    body: bytes,
    signature: str,
    *,
    tolerance: float = 300.0,
    now: float | None = None,
) -> bool:
    """What a receiver checks: the signature matches and the timestamp is recent."""
    try:
        age = abs((time.time() if now is None else now) - int(timestamp))
    except ValueError:
        return False
    return age <= tolerance and hmac.compare_digest(sign(secret, timestamp, body), signature)


def event_body(
    event: str,
    data: Mapping[str, Any],
    *,
    delivery_id: str,
    occurred_at: dt.datetime | None = None,
) -> bytes:
    moment = occurred_at or dt.datetime.now(dt.UTC)
    payload = {
        "id": delivery_id,
        "event": event,
        "occurred_at": moment.astimezone(dt.UTC).isoformat(timespec="seconds"),
        "data": dict(data),
    }
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def deliver(
    target: WebhookTarget,
    event: str,
    data: Mapping[str, Any],
    *,
    client: httpx.Client | None = None,
    delivery_id: str | None = None,
    occurred_at: dt.datetime | None = None,
) -> Delivery:
    """POST one event; retried; `ServiceUnavailableError` when every attempt failed.

    The outbox passes the event's own `delivery_id` and `occurred_at`, so a retry or a replay
    carries the same id (the receiver de-duplicates on it) and the time the event happened.
    """
    delivery_id = delivery_id or str(uuid.uuid4())
    body = event_body(event, data, delivery_id=delivery_id, occurred_at=occurred_at)
    own_client = client is None
    http = client or httpx.Client(timeout=target.timeout)
    attempts = 0

    def attempt() -> int:
        nonlocal attempts
        attempts += 1
        timestamp = str(int(time.time()))  # signed per attempt so a late retry is not stale
        response = http.post(
            target.url,
            content=body,
            headers={
                "Content-Type": "application/json; charset=utf-8",
                EVENT_HEADER: event,
                DELIVERY_HEADER: delivery_id,
                TIMESTAMP_HEADER: timestamp,
                SIGNATURE_HEADER: sign(target.secret, timestamp, body),
            },
        )
        if response.status_code >= 500 or response.status_code in _RETRY_STATUSES:
            raise _Retryable(response.status_code)
        return response.status_code

    retrying = Retrying(
        retry=retry_if_exception_type((_Retryable, httpx.TransportError)),
        stop=stop_after_attempt(target.attempts),
        wait=wait_exponential(multiplier=target.backoff, max=target.max_backoff),
    )
    try:
        status = retrying(attempt)
    except RetryError as exc:
        last = exc.last_attempt.exception()
        reason = str(last) if last is not None else "no answer"
        raise ServiceUnavailableError(
            f"webhook {event} to {target.host} failed after {attempts} attempts: {reason}",
            hint="check that the e-office system is reachable; the event is logged here",
        ) from None
    finally:
        if own_client:
            http.close()
    if status >= 400:
        raise CheckFailedError(
            f"webhook {event} to {target.host} was refused with HTTP {status}",
            hint="check the URL and the shared secret with the e-office system",
        )
    log.info("webhook %s delivered to %s after %d attempt(s)", event, target.host, attempts)
    return Delivery(delivery_id, event, status, attempts)
