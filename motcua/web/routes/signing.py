"""Results and the leader's signing queue: drafting a result, previews, signing with the
server-side key or on the leader's own device (two steps), and the signed result PDF.

API:
- `POST /api/v1/dossiers/{code}/result` (`results.draft`) `{"fields": {key: value}}`: checks
  that the result's fields are complete, then the `draft-result` flow renders it as a job (202).
- `GET /api/v1/signing/queue` (`results.sign`): drafted results waiting for the leader.
- `GET /api/v1/signing/{code}/draft.pdf` (`results.sign`): the draft, to read before signing.
- `POST /api/v1/signing/{code}/sign` `{"draft_sha256": hex}`, `POST /api/v1/signing/sign`
  `{"codes": [...], "draft_sha256": {code: hex}}` (`results.sign`): every request names the
  SHA-256 of the draft the leader previewed (the queue's `draft_sha256`); a draft changed since
  is refused, 409, nothing signed. The leader's server-side key (`MOTCUA_SIGNING_LEADER_P12`,
  or a PKCS#11 token `MOTCUA_SIGNING_LEADER_PKCS11_MODULE/_TOKEN/_KEY`; secrets only from the
  environment) signs, then the organisation, verification, the archive: one job (202) for
  one or many.
- Signing on the leader's own device (`results.sign`):
  `POST /api/v1/signing/{code}/prepare` `{"certificate_chain": PEM, "draft_sha256": hex}` returns a
  session id, the digest and signature algorithms, the CMS signed attributes to sign (base64 DER)
  and their SHA-256 (base64, for devices that sign a prehashed value); the certificate must validate
  against the configured trust anchors. `POST /api/v1/signing/{code}/finish` `{"session_id": ...,
  "signature": base64}` checks the value against the certificate (another key is refused, 400),
  embeds it (pyHanko's interrupted signing, `signing.interrupted`), and the organisation's signature
  and the archive follow as a job (202). A session serves once, by the principal that prepared it,
  for `MOTCUA_SIGNING_SESSION_MINUTES` (15): reused is 409, expired 410. Sessions live in the
  `web_signing_sessions` table.
- `GET /api/v1/dossiers/{code}/result.pdf` (`results.read`): the signed result.

Pages: `/signing` (the leader's queue), `/signing/{code}` (a result's page images and its
sign button), `POST /signing/{code}/sign` (form field `draft_sha256`) and `POST /signing/sign`
(`codes` and one `draft_sha256.<code>` per row; then `/jobs/<id>`), the page
images `/signing/{code}/pages/{n}.png?width=`, `/signing/{code}/draft.pdf`; for the clerk
`POST /dossiers/{code}/result` and the fragment `_result_actions.html` that the dossier page
includes with `result_actions` = `result_actions(services, principal, dossier)` in its context.
`/dossiers/{code}/result.pdf` serves the signed result to signed-in users.

The queue is not a table: a dossier waits for the leader when it is `processing` and its folder
holds a draft (`ket-qua.json`, `flows.result.read_draft`) made after any supplement request.

Stable element ids for browser tests (each also a `data-testid` of the same value unless said):
- `/signing`: `signing-queue` (the table), `queue-empty` (no result waits), `sign-selected`
  (the button signing the ticked rows, in the form `sign-selected-form`); per row the
  `data-testid`s `queue-row`, `queue-select` (its checkbox, `name="codes"`), `queue-preview`
  (its first page image, a link to the result's page) and `sign-one` (its own sign button), each
  with `data-code="<dossier code>"`; the row's `id` is `queue-row-<code>` with the code's dots as
  `_`, the checkbox's `queue-select-<code>` likewise.
- `/signing/<code>`: `preview-page-<n>` (page images), `open-pdf` (the draft in a new tab),
  `sign-this` (sign it).
- `_result_actions.html`: `result-actions` (the section), `draft-result-form`,
  `result-field-<key>` (inputs, `name="field.<key>"`), `draft-result` (the button), `result-pdf`
  (the signed result's link), `result-waiting` (the draft waits for the leader), `result-sign`
  (the leader's link to sign it).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import hashlib
import io
import logging
import secrets
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.exceptions import HTTPException
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import JSON, Engine, LargeBinary, String, delete, update
from sqlalchemy.orm import Mapped, Session, mapped_column
from starlette.concurrency import run_in_threadpool

from dossiers.calendar import VN_TZ
from dossiers.models import UtcDateTime
from dossiers.register import RESOLVED, Dossier, Status
from flows.context import office_in_use
from motcua.errors import BadArgumentError, CheckFailedError, ConfigurationError, MotcuaError
from motcua.types import nfc
from motcua.web.auth import Principal, require, services_of
from motcua.web.db import run
from motcua.web.jobs import Job
from motcua.web.models import WebBase, tables_named
from motcua.web.pages import NotFound, flash, render
from motcua.web.permissions import Permission
from motcua.web.routes.jobs import JobOut, job_out
from motcua.web.services import Services, configure_flows

if TYPE_CHECKING:
    from flows.result import Draft
    from flows.signing_keys import SigningSetup

log = logging.getLogger("motcua.web.signing")

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["kết quả và ký số"])

Drafter = Annotated[Principal, Depends(require(Permission.results_draft))]
Signer = Annotated[Principal, Depends(require(Permission.results_sign))]
ResultReader = Annotated[Principal, Depends(require(Permission.results_read))]

MAX_BATCH = 50  # results one job signs
THUMB_WIDTH = 240
PAGE_WIDTH = 1000


# --- the flows, run in this process on the web server's own office ---------------------------


def _flows(services: Services) -> ModuleType:
    """`flows.result`, with Prefect configured first (as `motcua dossier issue` does)."""
    configure_flows(services.settings)
    import flows.result

    return flows.result


def _setup(services: Services) -> SigningSetup:
    setup: SigningSetup = _flows(services).SigningSetup.from_settings(services.settings)
    return setup


# --- sessions of signing on the leader's device ---------------------------------------------


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


# --- API models -----------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DraftIn(_Strict):
    fields: dict[
        Annotated[str, Field(min_length=1, max_length=80)], Annotated[str, Field(max_length=2000)]
    ] = Field(
        default_factory=dict,
        max_length=50,
        description="values of the result's fields, over those extracted from the dossier",
    )


_Sha256 = Annotated[str, Field(pattern=r"^[0-9a-fA-F]{64}$")]


class SignOneIn(_Strict):
    draft_sha256: _Sha256 = Field(description="SHA-256 of the draft the leader previewed")


class SignManyIn(_Strict):
    codes: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        min_length=1, max_length=MAX_BATCH, description="dossier codes whose drafts to sign"
    )
    draft_sha256: dict[Annotated[str, Field(max_length=64)], _Sha256] = Field(
        max_length=MAX_BATCH, description="for each code, the SHA-256 of the draft previewed"
    )


class PrepareIn(_Strict):
    certificate_chain: str = Field(
        min_length=1,
        max_length=100_000,
        description="PEM: the signer's certificate first, then its CA certificates",
    )
    draft_sha256: _Sha256 = Field(description="SHA-256 of the draft the leader previewed")


class FinishIn(_Strict):
    session_id: str = Field(min_length=1, max_length=64)
    signature: str = Field(
        min_length=1,
        max_length=4096,
        description="base64 of the raw signature value over the signed attributes "
        "(RSA PKCS#1 v1.5 or ECDSA, SHA-256)",
    )


class QueueItemOut(BaseModel):
    dossier_code: str
    procedure: str
    procedure_name: str
    citizen_name: str | None
    received_at: dt.datetime
    due_date: dt.date | None
    overdue: bool
    drafted_at: dt.datetime
    pages: int
    template: str
    draft_pdf: str = Field(description="the draft's URL under this API")
    draft_sha256: str = Field(description="the draft's SHA-256: name it in the sign request")


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


# --- the queue and drafts -------------------------------------------------------------------


def _get(services: Services, code: str) -> Dossier:
    try:
        return services.register.get(code)
    except BadArgumentError:
        raise NotFound(f"hồ sơ {code}") from None


def _today() -> dt.date:
    return dt.datetime.now(VN_TZ).date()


def _queue(services: Services) -> list[QueueItemOut]:
    flows = _flows(services)
    items = []
    for dossier in services.register.list(statuses=[Status.processing]):
        draft = flows.read_draft(flows.dossier_folder(services.settings, dossier.code))
        if not flows.waits_for_leader(dossier, draft):
            continue
        items.append(
            QueueItemOut(
                dossier_code=dossier.code,
                procedure=dossier.procedure_key,
                procedure_name=services.procedure_name(dossier.procedure_key),
                citizen_name=dossier.citizen_name,
                received_at=dossier.received_at,
                due_date=dossier.due_date,
                overdue=dossier.is_overdue(_today()),
                drafted_at=draft.drafted_at,
                pages=draft.pages,
                template=draft.template,
                draft_pdf=f"/api/v1/signing/{dossier.code}/draft.pdf",
                draft_sha256=draft.sha256,
            )
        )
    far = dt.date.max
    return sorted(items, key=lambda i: (i.due_date or far, i.drafted_at))


def _waiting_draft(
    services: Services, code: str, previewed_sha256: str | None = None
) -> tuple[Dossier, Draft]:
    """The dossier and its draft, if it waits for the leader; else 404 / 409. With
    `previewed_sha256` (a sign request), a draft other than the one previewed is 409 too."""
    dossier = _get(services, code)
    flows = _flows(services)
    draft: Draft | None = flows.read_draft(flows.dossier_folder(services.settings, code))
    if draft is None or not flows.waits_for_leader(dossier, draft):
        raise CheckFailedError(
            f"hồ sơ {code} không có dự thảo kết quả chờ ký (no draft result waits for signing; "
            f"the dossier is {dossier.status.value})",
            hint="the clerk drafts the result first; a signed result is not signed again",
        )
    if not draft.pdf.is_file():
        raise CheckFailedError(
            f"the draft result of {code} is missing", hint="draft the result again"
        )
    if previewed_sha256 is not None:
        flows.check_previewed(code, draft, previewed_sha256)
    return dossier, draft


def _submit_draft(
    services: Services, principal: Principal, code: str, overrides: Mapping[str, str]
) -> Job:
    dossier = _get(services, code)
    if dossier.status in RESOLVED:
        raise CheckFailedError(
            f"hồ sơ {code} đã có kết quả được ký (already signed)",
            hint="a signed result is not drafted again",
        )
    if dossier.status is Status.supplement_requested:
        raise CheckFailedError(
            f"hồ sơ {code} còn chờ bổ sung (waits for a supplement)",
            hint="take in the supplement first",
        )
    flows = _flows(services)
    clean = {nfc(k.strip()): nfc(v.strip()) for k, v in overrides.items() if v.strip()}
    inputs = flows.result_inputs(services.catalogue, dossier, clean)
    known = {f.key for f in inputs.fields}
    unknown = sorted(k for k in clean if k not in known)
    if unknown:
        raise BadArgumentError(
            f"mẫu kết quả {inputs.template} không có trường {', '.join(unknown)} "
            "(the result has no such field)",
            hint=f"its fields: {', '.join(sorted(known))}",
        )
    if inputs.missing:
        raise BadArgumentError(
            "chưa đủ thông tin để lập kết quả, còn thiếu: "
            + ", ".join(inputs.missing)
            + " (the result lacks these fields)",
            hint="nhập các trường còn thiếu rồi lập dự thảo lại (fill them in and draft again)",
        )
    signer_name = services.settings.signing_leader_name
    actor = principal.actor

    def work() -> dict[str, Any]:
        try:
            with office_in_use(services.flows_office()):
                result: dict[str, Any] = flows.draft_result(code, clean, signer_name, actor)
        except Exception as exc:
            _audit_failure(services, actor, "result.draft_failed", code, exc)
            raise
        return {
            key: result[key]
            for key in ("dossier_code", "status", "template", "pages", "drafted_at", "draft_sha256")
        }

    job = services.jobs.submit("draft-result", work, actor=actor, dossier_code=code)
    services.audit.append(
        actor=actor,
        action="result.draft_requested",
        target_kind="dossier",
        target_id=code,
        details={"job_id": job.id, "fields": sorted(clean)},
    )
    return job


def _audit_failure(services: Services, actor: str, action: str, code: str, exc: Exception) -> None:
    reason = exc.message if isinstance(exc, MotcuaError) else type(exc).__name__
    try:
        services.audit.append(
            actor=actor,
            action=action,
            target_kind="dossier",
            target_id=code,
            details={"error": reason[:500]},
        )
    except MotcuaError as audit_error:  # the job's own failure is what the user must see
        log.warning("audit of %s failed: %s", action, audit_error.message)


def _public(result: Mapping[str, Any]) -> dict[str, Any]:
    """A completed result without server paths."""
    return {k: v for k, v in result.items() if k != "result_pdf"}


def _submit_sign(
    services: Services,
    principal: Principal,
    codes: Sequence[str],
    previewed: Mapping[str, str],
) -> Job:
    """One job signing each waiting draft with the leader's server-side key, each only if it
    is the draft the leader previewed (`previewed`: code → SHA-256)."""
    unique = list(dict.fromkeys(c.strip() for c in codes if c.strip()))
    if not unique:
        raise BadArgumentError("chưa chọn hồ sơ nào để ký (no dossier chosen)")
    if len(unique) > MAX_BATCH:
        raise BadArgumentError(f"at most {MAX_BATCH} results at a time")
    unnamed = [code for code in unique if not previewed.get(code)]
    if unnamed:
        raise BadArgumentError(
            "yêu cầu ký không nêu dự thảo đã xem của hồ sơ "
            + ", ".join(unnamed)
            + " (the request names no previewed draft SHA-256)",
            hint="send draft_sha256 of each draft, as the queue lists it",
        )
    sha = {code: previewed[code].strip().lower() for code in unique}
    for code in unique:
        _waiting_draft(services, code, sha[code])
    setup = _setup(services)
    if setup.leader_key_source is None:
        raise ConfigurationError(
            "máy chủ chưa được cấu hình khóa ký của lãnh đạo (no server-side leader key)",
            hint="set MOTCUA_SIGNING_LEADER_P12 or MOTCUA_SIGNING_LEADER_PKCS11_MODULE/_TOKEN/"
            "_KEY, or sign on the leader's own device (prepare, then finish)",
        )
    flows = _flows(services)
    actor = principal.actor

    def work() -> dict[str, Any]:
        signed: list[dict[str, Any]] = []
        failed: list[dict[str, str]] = []
        with office_in_use(services.flows_office()):
            for code in unique:
                try:
                    result = flows.complete_result(code, setup, None, sha[code], actor)
                except MotcuaError as exc:
                    _audit_failure(services, actor, "result.sign_failed", code, exc)
                    failed.append({"dossier_code": code, "error": exc.message})
                    continue
                signed.append(_public(result))
        if not signed:
            first = failed[0]
            raise CheckFailedError(
                f"không ký được {first['dossier_code']}: {first['error']}"
                + (f" (và {len(failed) - 1} hồ sơ khác)" if len(failed) > 1 else ""),
                hint="xem lỗi rồi ký lại (see the error, then sign again)",
            )
        return {"signed": signed, "failed": failed}

    job = services.jobs.submit(
        "sign-results", work, actor=actor, dossier_code=unique[0] if len(unique) == 1 else None
    )
    for code in unique:
        services.audit.append(
            actor=actor,
            action="result.sign_requested",
            target_kind="dossier",
            target_id=code,
            details={"job_id": job.id, "key": setup.leader_key_source or ""},
        )
    return job


# --- signing on the leader's own device -----------------------------------------------------


def _device_spec(services: Services, setup: SigningSetup, draft: Draft, signer: str) -> Any:
    """The leader's signature as on the server, named from the device's certificate; the
    configured handwritten image only when the certificate is the configured leader's."""
    flows = _flows(services)
    configured = services.settings.signing_leader_name
    own_image = configured is None or nfc(configured).casefold() == nfc(signer).casefold()
    return flows.leader_spec(
        setup, services.flows_office(), draft, signer_name=None, with_signature_image=own_image
    )


def _prepare(
    services: Services, principal: Principal, code: str, chain_pem: str, previewed_sha256: str
) -> PrepareOut:
    from signing.interrupted import certificates_from_pem, prepare_signature

    _tables(services.engine)
    _, draft = _waiting_draft(services, code, previewed_sha256)
    setup = _setup(services)
    certificates = certificates_from_pem(chain_pem)
    leaf = certificates[0]
    signer = nfc(str(leaf.subject.native.get("common_name", "")))
    try:
        pending = prepare_signature(
            draft.pdf, _device_spec(services, setup, draft, signer), certificates
        )
    except CheckFailedError as exc:
        services.audit.append(
            actor=principal.actor,
            action="signing.refused",
            target_kind="dossier",
            target_id=code,
            details={
                "step": "prepare",
                "serial": format(leaf.serial_number, "x"),
                "error": exc.message[:500],
            },
        )
        raise
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
    services.audit.append(
        actor=principal.actor,
        action="signing.prepared",
        target_kind="dossier",
        target_id=code,
        details={
            "session": row.id[:8],
            "serial": format(leaf.serial_number, "x"),
            "certificate_sha256": hashlib.sha256(leaf.dump()).hexdigest(),
            "level": setup.level,
        },
    )
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


def _refuse(
    services: Services, principal: Principal, code: str, reason: str, exc: Exception
) -> NoReturn:
    services.audit.append(
        actor=principal.actor,
        action="signing.refused",
        target_kind="dossier",
        target_id=code,
        details={"step": "finish", "reason": reason},
    )
    raise exc


def _finish(
    services: Services, principal: Principal, code: str, session_id: str, signature_b64: str
) -> Job:
    from signing.interrupted import PendingSignature, checked_signature_value, finish_signature
    from signing.sign import write_atomically

    _tables(services.engine)

    def load(session: Session) -> SigningSessionRow | None:
        row = session.get(SigningSessionRow, session_id)
        if row is None or row.dossier_code != code or row.actor != principal.actor:
            return None
        return row

    row = run(services.engine, load, what="reading a signing session")
    if row is None:
        raise NotFound(f"phiên ký {session_id[:8]}… của hồ sơ {code}")
    if row.finished_at is not None:
        _refuse(
            services,
            principal,
            code,
            "reused",
            CheckFailedError(
                "phiên ký này đã được dùng (this signing session was used already)",
                hint="prepare again to sign again",
            ),
        )
    if _as_utc(row.expires_at) <= _now():
        _refuse(
            services,
            principal,
            code,
            "expired",
            HTTPException(410, "phiên ký đã hết hạn (the signing session expired); prepare again"),
        )
    try:
        value = base64.b64decode(signature_b64, validate=True)
    except (binascii.Error, ValueError):
        raise BadArgumentError(
            "signature is not base64", hint="send the raw value in base64"
        ) from None
    _, draft = _waiting_draft(services, code)
    if draft.sha256 != row.draft_sha256:
        _refuse(
            services,
            principal,
            code,
            "draft_changed",
            CheckFailedError(
                f"the draft result of {code} changed after the signature was prepared",
                hint="prepare again and sign the current draft",
            ),
        )
    pending = PendingSignature.from_json(row.state, row.pdf or b"")
    try:
        checked_signature_value(pending, value)
    except BadArgumentError as exc:
        _refuse(services, principal, code, "signature_mismatch", exc)
    setup = _setup(services)

    def claim(session: Session) -> bool:
        done = session.execute(
            update(SigningSessionRow)
            .where(SigningSessionRow.id == session_id, SigningSessionRow.finished_at.is_(None))
            .values(finished_at=_now())
        )
        return bool(getattr(done, "rowcount", 0))

    if not run(services.engine, claim, what="claiming a signing session"):
        _refuse(
            services,
            principal,
            code,
            "reused",
            CheckFailedError(
                "phiên ký này đã được dùng (this signing session was used already)",
                hint="prepare again to sign again",
            ),
        )
    flows = _flows(services)
    try:
        signed = finish_signature(
            pending, value, _device_spec(services, setup, draft, pending.signer)
        )
        target = draft.pdf.with_name(flows.LEADER_SIGNED_PDF)
        write_atomically(target, signed)
    except MotcuaError as exc:
        _set_outcome(services, session_id, "failed")
        _audit_failure(services, principal.actor, "result.leader_sign_failed", code, exc)
        raise
    _set_outcome(services, session_id, "finished")
    services.audit.append(
        actor=principal.actor,
        action="result.leader_signed",
        target_kind="dossier",
        target_id=code,
        details={"session": session_id[:8], "method": "device", "level": setup.level},
    )
    actor = principal.actor

    def work() -> dict[str, Any]:
        try:
            with office_in_use(services.flows_office()):
                result: dict[str, Any] = flows.complete_result(
                    code, setup, str(target), row.draft_sha256, actor
                )
        except Exception as exc:
            _audit_failure(services, actor, "result.sign_failed", code, exc)
            raise
        return {"signed": [_public(result)], "failed": []}

    return services.jobs.submit("sign-results", work, actor=actor, dossier_code=code)


def _set_outcome(services: Services, session_id: str, outcome: str) -> None:
    def work(session: Session) -> None:
        session.execute(
            update(SigningSessionRow)
            .where(SigningSessionRow.id == session_id)
            .values(outcome=outcome, pdf=None)
        )

    run(services.engine, work, what="closing a signing session")


# --- files ----------------------------------------------------------------------------------


def _pdf(content: bytes, filename: str, *, inline: bool) -> Response:
    disposition = "inline" if inline else "attachment"
    return Response(
        content,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'{disposition}; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


def _draft_pdf(services: Services, principal: Principal, code: str) -> Response:
    _, draft = _waiting_draft(services, code)
    services.audit.append(
        actor=principal.actor, action="result.draft_viewed", target_kind="dossier", target_id=code
    )
    return _pdf(draft.pdf.read_bytes(), f"du-thao-ket-qua-{code}.pdf", inline=True)


def _result_pdf(services: Services, principal: Principal, code: str) -> Response:
    """The signed result: the office's copy, else the archived one (checked against its bag)."""
    dossier = _get(services, code)
    if dossier.status not in RESOLVED:
        raise CheckFailedError(
            f"hồ sơ {code} chưa có kết quả được ký (no signed result yet)",
            hint="the leader signs the drafted result first",
        )
    flows = _flows(services)
    draft = flows.read_draft(flows.dossier_folder(services.settings, code))
    if draft is None or draft.signed_pdf is None:
        raise NotFound(f"tệp kết quả đã ký của hồ sơ {code}")
    if draft.signed_pdf.is_file():
        content = draft.signed_pdf.read_bytes()
    elif draft.record_id:
        with tempfile.TemporaryDirectory(prefix="motcua-result-") as folder:
            bag = services.archive.get(draft.record_id, Path(folder))
            content = (bag / "data" / draft.signed_pdf.name).read_bytes()
    else:
        raise NotFound(f"tệp kết quả đã ký của hồ sơ {code}")
    services.audit.append(
        actor=principal.actor, action="result.downloaded", target_kind="dossier", target_id=code
    )
    return _pdf(content, f"ket-qua-{code}.pdf", inline=False)


def _page_png(path: Path, number: int, width: int) -> bytes:
    from motcua.pdfium import page_image

    try:
        image, _ = page_image(path, number - 1, dpi=200, width=width)
    except IndexError:
        raise NotFound(f"trang {number}") from None
    out = io.BytesIO()
    image.convert("RGB").save(out, format="PNG", compress_level=3)
    return out.getvalue()


# --- the fragment of the dossier page -------------------------------------------------------


def result_actions(services: Services, principal: Principal, dossier: Dossier) -> dict[str, Any]:
    """The context of `_result_actions.html` (pass it as `result_actions`)."""
    flows = _flows(services)
    draft = flows.read_draft(flows.dossier_folder(services.settings, dossier.code))
    waiting = flows.waits_for_leader(dossier, draft)
    can_draft = principal.can(Permission.results_draft) and dossier.status in (
        Status.received,
        Status.processing,
    )
    fields: list[dict[str, Any]] = []
    template = None
    if can_draft:
        try:
            inputs = flows.result_inputs(services.catalogue, dossier)
        except MotcuaError as exc:  # an unknown procedure or a broken template: say so, no form
            log.warning("result fields of %s: %s", dossier.code, exc.message)
            can_draft = False
        else:
            template = inputs.template
            fields = [
                {
                    "key": f.key,
                    "label": f.label,
                    "required": f.required,
                    "value": "" if f.value is None else str(f.value),
                    "missing": f.required and f.value is None,
                }
                for f in inputs.fields
            ]
    return {
        "code": dossier.code,
        "can_draft": can_draft,
        "template": template,
        "fields": fields,
        "waiting": waiting,
        "drafted_at": draft.drafted_at if draft is not None and waiting else None,
        "can_sign": waiting and principal.can(Permission.results_sign),
        "signed": dossier.status in RESOLVED and draft is not None and draft.signed,
        "can_read_result": principal.can(Permission.results_read),
    }


# --- API ------------------------------------------------------------------------------------

_JOB_RESPONSES: dict[int | str, dict[str, Any]] = {202: {"description": "the job, to poll"}}
_PDF_RESPONSES: dict[int | str, dict[str, Any]] = {200: {"content": {"application/pdf": {}}}}


def _accepted(job: Job) -> Response:
    from fastapi.responses import JSONResponse

    return JSONResponse(
        job_out(job).model_dump(mode="json"),
        status_code=202,
        headers={"Location": f"/api/v1/jobs/{job.id}"},
    )


@api.post(
    "/dossiers/{code}/result",
    status_code=202,
    response_model=JobOut,
    summary="Draft the result for the leader to sign (a job)",
)
def api_draft(request: Request, principal: Drafter, code: str, body: DraftIn) -> Response:
    return _accepted(_submit_draft(services_of(request), principal, code, body.fields))


@api.get(
    "/dossiers/{code}/result.pdf",
    response_class=Response,
    responses=_PDF_RESPONSES,
    summary="The signed result (leader and organisation)",
)
def api_result_pdf(request: Request, principal: ResultReader, code: str) -> Response:
    return _result_pdf(services_of(request), principal, code)


@api.get(
    "/signing/queue",
    response_model=list[QueueItemOut],
    summary="Drafted results waiting for the leader's signature",
)
def api_queue(request: Request, principal: Signer) -> list[QueueItemOut]:
    return _queue(services_of(request))


@api.get(
    "/signing/{code}/draft.pdf",
    response_class=Response,
    responses=_PDF_RESPONSES,
    summary="The draft result, to read before signing",
)
def api_draft_pdf(request: Request, principal: Signer, code: str) -> Response:
    return _draft_pdf(services_of(request), principal, code)


@api.post(
    "/signing/sign",
    status_code=202,
    response_model=JobOut,
    summary="Sign several drafted results with the leader's server-side key (a job)",
)
def api_sign_many(request: Request, principal: Signer, body: SignManyIn) -> Response:
    return _accepted(_submit_sign(services_of(request), principal, body.codes, body.draft_sha256))


@api.post(
    "/signing/{code}/sign",
    status_code=202,
    response_model=JobOut,
    summary="Sign a drafted result with the leader's server-side key (a job)",
)
def api_sign(request: Request, principal: Signer, code: str, body: SignOneIn) -> Response:
    previewed = {code: body.draft_sha256}
    return _accepted(_submit_sign(services_of(request), principal, [code], previewed))


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
    return _accepted(_finish(services, principal, code, body.session_id, body.signature))


# --- pages ----------------------------------------------------------------------------------


@pages.get("/signing")
def queue_page(request: Request, principal: Signer) -> Response:
    services = services_of(request)
    return render(
        request,
        "signing.html",
        {
            "rows": _queue(services),
            "key_configured": _key_configured(services),
            "thumb_width": THUMB_WIDTH,
        },
    )


def _key_configured(services: Services) -> bool:
    s = services.settings
    return s.signing_organization_p12 is not None and (
        s.signing_leader_p12 is not None or s.signing_leader_pkcs11_module is not None
    )


@pages.get("/signing/{code}")
def preview_page(request: Request, principal: Signer, code: str) -> Response:
    services = services_of(request)
    dossier, draft = _waiting_draft(services, code)
    return render(
        request,
        "signing_preview.html",
        {
            "d": dossier,
            "draft": draft,
            "procedure_name": services.procedure_name(dossier.procedure_key),
            "page_width": PAGE_WIDTH,
            "key_configured": _key_configured(services),
        },
    )


@pages.get("/signing/{code}/pages/{number}.png")
def page_image(
    request: Request,
    principal: Signer,
    code: str,
    number: int,
    width: Annotated[int, Query(ge=100, le=2000)] = PAGE_WIDTH,
) -> Response:
    _, draft = _waiting_draft(services_of(request), code)
    content = _page_png(draft.pdf, number, width)
    return Response(content, media_type="image/png", headers={"Cache-Control": "no-store"})


@pages.get("/signing/{code}/draft.pdf")
def draft_pdf_page(request: Request, principal: Signer, code: str) -> Response:
    return _draft_pdf(services_of(request), principal, code)


@pages.post("/signing/sign")
async def sign_many_form(request: Request, principal: Signer) -> Response:
    """Ticked `codes`, each with the `draft_sha256.<code>` of the row the leader saw."""
    form = await request.form()
    codes = [str(v) for v in form.getlist("codes") if isinstance(v, str)][: MAX_BATCH + 1]
    if not codes:
        flash(request, "Hãy chọn ít nhất một kết quả để ký.", "error")
        return RedirectResponse("/signing", status_code=303)
    previewed = {
        str(key)[len("draft_sha256.") :]: str(value)
        for key, value in form.multi_items()
        if str(key).startswith("draft_sha256.") and isinstance(value, str)
    }
    return await run_in_threadpool(_sign_and_show, request, principal, codes, previewed)


@pages.post("/signing/{code}/sign")
def sign_form(
    request: Request,
    principal: Signer,
    code: str,
    draft_sha256: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    return _sign_and_show(request, principal, [code], {code: draft_sha256})


def _sign_and_show(
    request: Request, principal: Principal, codes: Sequence[str], previewed: Mapping[str, str]
) -> Response:
    """The job's page, or back to the queue with the reason it could not start."""
    try:
        job = _submit_sign(services_of(request), principal, codes, previewed)
    except (BadArgumentError, CheckFailedError, ConfigurationError) as exc:
        flash(request, exc.message, "error")
        return RedirectResponse("/signing", status_code=303)
    return RedirectResponse(f"/jobs/{job.id}", status_code=303)


@pages.post("/dossiers/{code}/result")
async def draft_form(request: Request, principal: Drafter, code: str) -> Response:
    """The clerk's form: `field.<key>` inputs of the result, then the draft job's page."""
    form = await request.form()
    overrides = {
        str(key)[len("field.") :]: str(value)
        for key, value in form.multi_items()
        if str(key).startswith("field.") and isinstance(value, str)
    }
    services = services_of(request)
    try:
        job = await run_in_threadpool(_submit_draft, services, principal, code, overrides)
    except (BadArgumentError, CheckFailedError) as exc:
        flash(request, exc.message, "error")
        return RedirectResponse(f"/dossiers/{code}#result-actions", status_code=303)
    return RedirectResponse(f"/jobs/{job.id}", status_code=303)


@pages.get("/dossiers/{code}/result.pdf")
def result_pdf_page(request: Request, principal: ResultReader, code: str) -> Response:
    return _result_pdf(services_of(request), principal, code)
