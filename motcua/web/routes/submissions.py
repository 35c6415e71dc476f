"""`POST /api/v1/dossiers` with `Idempotency-Key`: a submission the e-office system may retry.

The upload itself is `intake_jobs.take_in` (checked by content, kept, the intake flow as a
job); this is the only route that answers it. With
an `Idempotency-Key` header the first request reserves the key for its principal
(`web_idempotency`) and records the job it started; the same key again, with the same procedure
and files, answers with that job (202, `Idempotent-Replayed: true`), so a retry never starts a
second intake and the job names the same dossier code. The same key with other files or another
procedure is refused (400); a request refused before its job started frees its key.
Without a key the same files still come back as the existing dossier (`created: false` in the
job's result: "đã tiếp nhận").
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import time
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Header, Request, UploadFile
from fastapi.responses import JSONResponse
from sqlalchemy import String, delete, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column
from starlette.concurrency import run_in_threadpool

from dossiers.contact import Contact
from dossiers.models import UtcDateTime
from motcua.errors import BadArgumentError, ServiceUnavailableError
from motcua.web.auth import Principal, require, services_of
from motcua.web.db import run
from motcua.web.intake_jobs import take_in
from motcua.web.jobs import Job
from motcua.web.models import WebBase, tables_named
from motcua.web.permissions import Permission
from motcua.web.routes.jobs import JobOut, job_out
from motcua.web.services import Services

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1/dossiers", tags=["tiếp nhận"])

Taker = Annotated[Principal, Depends(require(Permission.dossiers_intake))]

_KEY_RE = re.compile(r"^[\x21-\x7e]{1,200}$")  # visible ASCII, as RFC 9110 tokens and UUIDs
RESERVATION_WAIT = 30.0  # seconds a concurrent retry waits for the first request's job


class IdempotencyRow(WebBase):
    __tablename__ = "web_idempotency"

    actor: Mapped[str] = mapped_column(String(160), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64), nullable=False)
    job_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, nullable=False)


def create_tables(services: Services) -> None:
    WebBase.metadata.create_all(services.engine, tables=tables_named("web_idempotency"))


async def _fingerprint(procedure: str, uploads: list[UploadFile]) -> str:
    """SHA-256 over the procedure and the files' SHA-256 (their order does not matter)."""
    digests = []
    for upload in uploads:
        digest = hashlib.sha256()
        while chunk := await upload.read(1 << 20):
            digest.update(chunk)
        await upload.seek(0)
        digests.append(digest.hexdigest())
    material = "\n".join([procedure.strip(), *sorted(digests)])
    return hashlib.sha256(material.encode()).hexdigest()


def _reserve(services: Services, actor: str, key: str, fingerprint: str) -> str | None:
    """Reserve `key` for this request (None), or the job of the request that holds it."""

    def add(session: Session) -> None:
        session.add(IdempotencyRow(actor=actor, key=key, fingerprint=fingerprint,
                                   created_at=dt.datetime.now(dt.UTC)))  # fmt: skip

    try:
        run(services.engine, add, what="idempotency keys")
        return None
    except IntegrityError:
        pass
    deadline = time.monotonic() + RESERVATION_WAIT
    while True:
        row = run(services.engine, lambda s: s.get(IdempotencyRow, (actor, key)),
                  what="idempotency keys")  # fmt: skip
        if row is not None and row.fingerprint != fingerprint:
            raise BadArgumentError(
                f"Idempotency-Key {key!r} đã dùng cho một yêu cầu khác (other files or procedure)",
                hint="dùng một khóa mới cho mỗi hồ sơ (a new key for each submission)",
            )
        if row is not None and row.job_id is not None:
            return row.job_id
        if row is None or time.monotonic() > deadline:
            raise ServiceUnavailableError(
                f"Idempotency-Key {key!r}: yêu cầu đầu tiên chưa xong (the first request with "
                "this key has not started its job)",
                hint="gửi lại sau ít giây (retry in a few seconds)",
            )
        time.sleep(0.2)


def _bind(services: Services, actor: str, key: str, job_id: str | None) -> None:
    """Record the reserved key's job, or free the key when the request was refused."""

    def work(session: Session) -> None:
        where = (IdempotencyRow.actor == actor, IdempotencyRow.key == key)
        if job_id is None:
            session.execute(delete(IdempotencyRow).where(*where))
        else:
            session.execute(update(IdempotencyRow).where(*where).values(job_id=job_id))

    run(services.engine, work, what="idempotency keys")


def _accepted(job: Job, *, replayed: bool) -> JSONResponse:
    headers = {"Location": f"/api/v1/jobs/{job.id}"}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(job_out(job).model_dump(mode="json"), status_code=202, headers=headers)


@api.post(
    "",
    status_code=202,
    response_model=JobOut,
    responses={202: {"headers": {
        "Location": {"description": "the job to poll", "schema": {"type": "string"}},
        "Idempotent-Replayed": {"description": "`true` when the key was seen: the same job",
                                "schema": {"type": "string"}}}}},
    summary="Take a dossier in: upload the scans, run the intake flow as a job; with "
    "Idempotency-Key a retry answers with the same job",
)  # fmt: skip
async def api_take_in(
    request: Request,
    principal: Taker,
    files: Annotated[list[UploadFile], File(description="scans: PDF, JPEG, PNG, TIFF, WebP")],
    procedure: Annotated[str, Form(max_length=120, description="procedure key")],
    received_at: Annotated[
        str | None, Form(max_length=40, description="ISO date-time; default now")
    ] = None,
    phone: Annotated[
        str | None, Form(max_length=20, description="the citizen's phone, for notices")
    ] = None,
    email: Annotated[
        str | None, Form(max_length=254, description="the citizen's e-mail, for notices")
    ] = None,
    notice_consent: Annotated[
        bool, Form(description="the citizen agreed to notices (sent only with a contact)")
    ] = False,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            max_length=200,
            description="any unique string per submission (a UUID): the same key again "
            "gives the same job and dossier",
        ),
    ] = None,
) -> JSONResponse:
    services = services_of(request)
    contact = Contact.of(phone, email, notice_consent)
    if idempotency_key is None:
        job = await take_in(services, principal, files, procedure, received_at, contact=contact)
        return _accepted(job, replayed=False)
    key = idempotency_key.strip()
    if not _KEY_RE.match(key):
        raise BadArgumentError(
            "Idempotency-Key phải là chuỗi ký tự ASCII nhìn thấy được, tối đa 200 ký tự",
            hint="e.g. a UUID",
        )
    fingerprint = await _fingerprint(procedure, files)
    held = await run_in_threadpool(_reserve, services, principal.actor, key, fingerprint)
    if held is not None:
        earlier = services.jobs.get(held)
        if earlier is not None:
            return _accepted(earlier, replayed=True)
    try:
        job = await take_in(services, principal, files, procedure, received_at, contact=contact)
    except BaseException:
        await run_in_threadpool(_bind, services, principal.actor, key, None)
        raise
    await run_in_threadpool(_bind, services, principal.actor, key, job.id)
    return _accepted(job, replayed=False)
