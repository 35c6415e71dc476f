"""The dossier's result for the clerk and the reader: drafting it for the leader to sign, the
signed result PDF, and the result section of the dossier page. Adapters only: parse, check
permission, call `flows.result_requests`, render; the checks, the job and the journal entries
are the flow's.

API:
- `POST /api/v1/dossiers/{code}/result` (`results.draft`) `{"fields": {key: value}}`: checks
  that the result's fields are complete, then the `draft-result` flow renders it as a job (202).
- `GET /api/v1/dossiers/{code}/result.pdf` (`results.read`): the signed result.

Pages: for the clerk `POST /dossiers/{code}/result` and the fragment `_result_actions.html` that
the dossier page includes with `result_actions` = `result_actions(services, principal, dossier)`
in its context. `/dossiers/{code}/result.pdf` serves the signed result to signed-in users.

Stable element ids of `_result_actions.html` (each also a `data-testid`): `result-actions` (the
section), `draft-result-form`, `result-field-<key>` (inputs, `name="field.<key>"`),
`draft-result` (the button), `result-pdf` (the signed result's link), `result-waiting` (the
draft waits for the leader), `result-sign` (the leader's link to sign it).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from dossiers.register import RESOLVED, Dossier, Status
from flows import result_requests
from motcua.errors import BadArgumentError, CheckFailedError, MotcuaError
from motcua.web.auth import Principal, require, services_of
from motcua.web.jobs import Job
from motcua.web.pages import NotFound, flash
from motcua.web.permissions import Permission
from motcua.web.routes.dossiers import _get
from motcua.web.routes.jobs import JobOut, job_out
from motcua.web.services import Services

log = logging.getLogger("motcua.web.results")

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["kết quả và ký số"])

Drafter = Annotated[Principal, Depends(require(Permission.results_draft))]
ResultReader = Annotated[Principal, Depends(require(Permission.results_read))]

JOB_RESPONSES: dict[int | str, dict[str, Any]] = {202: {"description": "the job, to poll"}}
PDF_RESPONSES: dict[int | str, dict[str, Any]] = {200: {"content": {"application/pdf": {}}}}


class DraftIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    fields: dict[
        Annotated[str, Field(min_length=1, max_length=80)], Annotated[str, Field(max_length=2000)]
    ] = Field(
        default_factory=dict,
        max_length=50,
        description="values of the result's fields, over those extracted from the dossier",
    )


def accepted(job: Job) -> Response:
    """202 with the job, and where to poll it."""
    return JSONResponse(
        job_out(job).model_dump(mode="json"),
        status_code=202,
        headers={"Location": f"/api/v1/jobs/{job.id}"},
    )


def pdf_response(content: bytes, filename: str, *, inline: bool) -> Response:
    disposition = "inline" if inline else "attachment"
    return Response(
        content,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'{disposition}; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


def _submit_draft(
    services: Services, principal: Principal, code: str, overrides: Mapping[str, str]
) -> Job:
    dossier = _get(services, code)
    return result_requests.request_draft(
        services.flows_office(),
        services.jobs,
        dossier,
        overrides,
        signer_name=services.settings.signing_leader_name,
        actor=principal.actor,
    )


def _result_pdf(services: Services, principal: Principal, code: str) -> Response:
    dossier = _get(services, code)
    content = result_requests.signed_result(services.flows_office(), dossier, actor=principal.actor)
    if content is None:
        raise NotFound(f"tệp kết quả đã ký của hồ sơ {code}")
    return pdf_response(content, f"ket-qua-{code}.pdf", inline=False)


def result_actions(services: Services, principal: Principal, dossier: Dossier) -> dict[str, Any]:
    """The context of `_result_actions.html` (pass it as `result_actions`)."""
    office = services.flows_office()
    import flows.result as result

    draft = result_requests.current_draft(office, dossier.code)
    waiting = result.waits_for_leader(dossier, draft)
    can_draft = principal.can(Permission.results_draft) and dossier.status in (
        Status.received,
        Status.processing,
    )
    fields: list[dict[str, Any]] = []
    template = None
    if can_draft:
        try:
            inputs = result.result_inputs(services.catalogue, dossier)
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


@api.post(
    "/dossiers/{code}/result",
    status_code=202,
    response_model=JobOut,
    summary="Draft the result for the leader to sign (a job)",
)
def api_draft(request: Request, principal: Drafter, code: str, body: DraftIn) -> Response:
    return accepted(_submit_draft(services_of(request), principal, code, body.fields))


@api.get(
    "/dossiers/{code}/result.pdf",
    response_class=Response,
    responses=PDF_RESPONSES,
    summary="The signed result (leader and organisation)",
)
def api_result_pdf(request: Request, principal: ResultReader, code: str) -> Response:
    return _result_pdf(services_of(request), principal, code)


# --- pages ----------------------------------------------------------------------------------


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
