"""The events motcua sends the e-office system, declared as OpenAPI `webhooks` with their payload.

Each event is a POST of `WebhookEvent` to `MOTCUA_WEBHOOK_URL`, signed as `motcua.web.webhooks`
describes; the list below is the contract (`README`, section "Events for the e-office system").
"""

from __future__ import annotations

from fastapi import FastAPI
from pydantic import BaseModel, Field

# event → when it is sent (every status change, and the signed result)
EVENTS: dict[str, str] = {
    "dossier.received": "a dossier was taken in (complete, or with a supplement asked for)",
    "dossier.supplement_requested": "the clerk asked for a supplement (Mẫu 02)",
    "dossier.supplement_received": "the supplement was taken in under the same code; the time "
    "limit restarts and a new Mẫu 01 is issued",
    "dossier.components_confirmed": "the clerk's component assignment changed the status",
    "dossier.accepted": "the dossier moved on to processing",
    "dossier.procedure_changed": "the procedure was changed before acceptance",
    "dossier.refused": "the dossier was refused (Mẫu 03, with reasons)",
    "dossier.withdrawn": "the citizen withdrew the dossier",
    "dossier.apology_issued": "the dossier is late: apology letter (Mẫu 04) with a new date",
    "result.signed": "the result was signed (or a result signed elsewhere was uploaded) and "
    "archived",
    "dossier.returned": "the result was handed over",
}

_HEADERS = (
    "Headers: `X-Motcua-Event` (the event), `X-Motcua-Delivery` (the event's id, the same on "
    "every retry and replay: de-duplicate on it), `X-Motcua-Timestamp` (Unix seconds) and "
    "`X-Motcua-Signature: sha256=<HMAC-SHA256 of '<timestamp>.<body>' with the shared secret>`. "
    "Answer 2xx to take it; 408, 425, 429, 5xx and no answer are retried with back-off, later "
    "events wait so that order is kept; other 4xx are recorded and retried later too. "
    "`motcua webhooks replay --since ISO | --event ID` sends events again."
)


class WebhookEventData(BaseModel):
    """Codes, status and dates only: events carry no personal data."""

    dossier_code: str = Field(examples=["000.00.01.H40-261204-0001"])
    procedure: str = Field(examples=["dang-ky-khai-sinh"])
    status: str = Field(examples=["received"])
    received_at: str = Field(description="ISO 8601, with offset")
    due_date: str | None = Field(description="ISO date; null when no time limit runs")
    missing_components: list[str] = Field(description="component keys still missing")
    record_id: str | None = Field(default=None, description="result.signed: archive record")
    level: str | None = Field(default=None, description="result.signed: PAdES level")
    timeliness: str | None = Field(default=None, description="result.signed: early/on time/late")
    result_number: str | None = Field(default=None, description="result.signed: e.g. 12/TLKS")
    result_pdf: str | None = Field(default=None, description="result.signed: API path of the PDF")


class WebhookEvent(BaseModel):
    id: str = Field(description="the event's id (UUID), also in X-Motcua-Delivery")
    event: str = Field(examples=list(EVENTS))
    occurred_at: str = Field(description="when it happened (ISO 8601, UTC), not when delivered")
    data: WebhookEventData


def declare_webhooks(app: FastAPI) -> None:
    """Add every event to the app's OpenAPI document under `webhooks`."""
    for name, when in EVENTS.items():

        def event(body: WebhookEvent) -> None:
            """What the e-office system receives."""

        app.webhooks.post(name, summary=when, description=_HEADERS, operation_id=name,
                          status_code=204)(event)  # fmt: skip
