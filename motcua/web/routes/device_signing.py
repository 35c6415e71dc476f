"""Signing on the leader's own device, in two steps (`results.sign`). Adapters only: the
session of each signing is kept here; the checks, the signature, the job and the journal
entries are `flows.result_requests`'s.

- `POST /api/v1/signing/{code}/prepare` `{"certificate_chain": PEM, "draft_sha256": hex}` returns
  a session id, the digest and signature algorithms, the CMS signed attributes to sign (base64
  DER) and their SHA-256 (base64, for devices that sign a prehashed value); the certificate must
  validate against the configured trust anchors.
- `POST /api/v1/signing/{code}/finish` `{"session_id": ..., "signature": base64}` checks the
  value against the certificate (another key is refused, 400), embeds it (pyHanko's interrupted
  signing, `signing.interrupted`), and the organisation's signature and the archive follow as a
  job (202). A session serves once, by the principal that prepared it, for
  `MOTCUA_SIGNING_SESSION_MINUTES` (15): reused is 409, expired 410. Sessions live in the
  `web_signing_sessions` table.

Page: `/signing/{code}/device` explains the two steps and drives them from the browser: the
leader pastes (or loads) the certificate chain, the page calls `prepare` and shows what the
device must sign; the device's signing software signs it and the leader pastes the signature
value back; `finish` starts the job and the page moves to it. A browser cannot reach a USB
token by itself: the signing itself is the device software's. Element ids (and `data-testid`s):
`device-chain`, `device-chain-file`, `device-prepare`, `device-to-sign` (base64 signed
attributes), `device-digest`, `device-signature`, `device-finish`, `device-error`.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import HTTPException
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import JSON, Engine, LargeBinary, String, delete, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from dossiers.models import UtcDateTime
from flows import result_requests
from motcua.errors import BadArgumentError, CheckFailedError, MotcuaError
from motcua.web.auth import Principal, require, services_of
from motcua.web.db import run
from motcua.web.jobs import Job
from motcua.web.models import WebBase, tables_named
from motcua.web.pages import NotFound, render
from motcua.web.permissions import Permission
from motcua.web.routes.dossiers import _get
from motcua.web.routes.jobs import JobOut
from motcua.web.routes.results import accepted
from motcua.web.services import Services

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["kết quả và ký số"])

Signer = Annotated[Principal, Depends(require(Permission.results_sign))]


class SigningSessionRow(WebBase):
    __tablename__ = "web_signing_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    dossier_code: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    actor: Mapped[str] = mapped_column(String(160), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, nullable=False)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, nullable=False, index=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    outcome: Mapped[str | None] = mapped_column(String(16))  # finished | failed
    draft_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    state: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary)


@functools.cache
def _tables(engine: Engine) -> bool:
    WebBase.metadata.create_all(engine, tables=tables_named("web_signing_sessions"))
    return True


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _as_utc(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


_Sha256 = Annotated[str, Field(pattern=r"^[0-9a-fA-F]{64}$")]


class PrepareIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    certificate_chain: str = Field(
        min_length=1,
        max_length=100_000,
        description="PEM: the signer's certificate first, then its CA certificates",
    )
    draft_sha256: _Sha256 = Field(description="SHA-256 of the draft the leader previewed")


class FinishIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    session_id: str = Field(min_length=1, max_length=64)
    signature: str = Field(
        min_length=1,
        max_length=4096,
        description="base64 of the raw signature value over the signed attributes "
        "(RSA PKCS#1 v1.5 or ECDSA, SHA-256)",
    )


class PrepareOut(BaseModel):
    session_id: str
    dossier_code: str
    expires_at: dt.datetime
    signer: str = Field(description="the certificate's common name")
    field: str = Field(description="the PDF signature field being signed")
    digest_algorithm: str = Field(description="sha256")
    signature_algorithm: str = Field(description="rsassa_pkcs1v15 or ecdsa")
    signed_attributes: str = Field(description="base64 DER of the CMS signed attributes: sign it")
    digest: str = Field(description="base64 SHA-256 of signed_attributes, for prehashed signing")


def _prepare(
    services: Services, principal: Principal, code: str, chain_pem: str, previewed_sha256: str
) -> PrepareOut:
    _tables(services.engine)
    office = services.flows_office()
    dossier = _get(services, code)
    draft, pending = result_requests.prepare_on_device(
        office, dossier, chain_pem, previewed_sha256, actor=principal.actor
    )
    now = _now()
    minutes = services.settings.signing_session_minutes
    row = SigningSessionRow(
        id=secrets.token_urlsafe(24),
        dossier_code=code,
        actor=principal.actor,
        created_at=now,
        expires_at=now + dt.timedelta(minutes=minutes),
        draft_sha256=draft.sha256,
        state=pending.to_json(),
        pdf=pending.pdf,
    )

    def add(session: Session) -> None:
        # sessions a day past their end are of no use to anyone
        session.execute(
            delete(SigningSessionRow).where(
                SigningSessionRow.expires_at < now - dt.timedelta(days=1)
            )
        )
        session.add(row)

    run(services.engine, add, what="recording a signing session")
    result_requests.record_prepared(office, code, row.id, pending, actor=principal.actor)
    return PrepareOut(
        session_id=row.id,
        dossier_code=code,
        expires_at=row.expires_at,
        signer=pending.signer,
        field=pending.field,
        digest_algorithm=pending.digest_algorithm,
        signature_algorithm=pending.signature_algorithm,
        signed_attributes=base64.b64encode(pending.signed_attributes).decode("ascii"),
        digest=base64.b64encode(pending.digest).decode("ascii"),
    )


def _reused() -> CheckFailedError:
    return CheckFailedError(
        "phiên ký này đã được dùng (this signing session was used already)",
        hint="prepare again to sign again",
    )


def _finish(
    services: Services, principal: Principal, code: str, session_id: str, signature_b64: str
) -> Job:
    from signing.interrupted import PendingSignature, checked_signature_value

    _tables(services.engine)
    office = services.flows_office()
    actor = principal.actor

    def load(session: Session) -> SigningSessionRow | None:
        row = session.get(SigningSessionRow, session_id)
        if row is None or row.dossier_code != code or row.actor != actor:
            return None
        return row

    row = run(services.engine, load, what="reading a signing session")
    if row is None:
        raise NotFound(f"phiên ký {session_id[:8]}… của hồ sơ {code}")
    if row.finished_at is not None:
        result_requests.refuse_device(office, code, "reused", _reused(), actor=actor)
    if _as_utc(row.expires_at) <= _now():
        expired = HTTPException(
            410, "phiên ký đã hết hạn (the signing session expired); prepare again"
        )
        result_requests.refuse_device(office, code, "expired", expired, actor=actor)
    try:
        value = base64.b64decode(signature_b64, validate=True)
    except (binascii.Error, ValueError):
        raise BadArgumentError(
            "signature is not base64", hint="send the raw value in base64"
        ) from None
    dossier = _get(services, code)
    draft = result_requests.waiting_draft(office, dossier)
    if draft.sha256 != row.draft_sha256:
        changed = CheckFailedError(
            f"the draft result of {code} changed after the signature was prepared",
            hint="prepare again and sign the current draft",
        )
        result_requests.refuse_device(office, code, "draft_changed", changed, actor=actor)
    pending = PendingSignature.from_json(row.state, row.pdf or b"")
    try:
        checked_signature_value(pending, value)
    except BadArgumentError as exc:
        result_requests.refuse_device(office, code, "signature_mismatch", exc, actor=actor)

    def claim(session: Session) -> bool:
        done = session.execute(
            update(SigningSessionRow)
            .where(SigningSessionRow.id == session_id, SigningSessionRow.finished_at.is_(None))
            .values(finished_at=_now())
        )
        return bool(getattr(done, "rowcount", 0))

    if not run(services.engine, claim, what="claiming a signing session"):
        result_requests.refuse_device(office, code, "reused", _reused(), actor=actor)
    try:
        job = result_requests.finish_on_device(
            office, services.jobs, code, pending, value, draft, session_id=session_id, actor=actor
        )
    except MotcuaError:
        _set_outcome(services, session_id, "failed")
        raise
    _set_outcome(services, session_id, "finished")
    return job


def _set_outcome(services: Services, session_id: str, outcome: str) -> None:
    def work(session: Session) -> None:
        session.execute(
            update(SigningSessionRow)
            .where(SigningSessionRow.id == session_id)
            .values(outcome=outcome, pdf=None)
        )

    run(services.engine, work, what="closing a signing session")


@api.post(
    "/signing/{code}/prepare",
    response_model=PrepareOut,
    summary="Signing on the leader's device, step 1: what to sign",
)
def api_prepare(request: Request, principal: Signer, code: str, body: PrepareIn) -> PrepareOut:
    services = services_of(request)
    return _prepare(services, principal, code, body.certificate_chain, body.draft_sha256)


@api.post(
    "/signing/{code}/finish",
    status_code=202,
    response_model=JobOut,
    summary="Signing on the leader's device, step 2: the signature value (then a job)",
)
def api_finish(request: Request, principal: Signer, code: str, body: FinishIn) -> Response:
    services = services_of(request)
    return accepted(_finish(services, principal, code, body.session_id, body.signature))


@pages.get("/signing/{code}/device")
def device_page(request: Request, principal: Signer, code: str) -> Response:
    services = services_of(request)
    dossier = _get(services, code)
    draft = result_requests.waiting_draft(services.flows_office(), dossier)
    return render(
        request,
        "signing_device.html",
        {"d": dossier, "draft": draft, "minutes": services.settings.signing_session_minutes},
    )
