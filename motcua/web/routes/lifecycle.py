"""The dossier's lifecycle over the web: components, supplement take-in, refusal, withdrawal,
change of procedure, the upload of a result motcua does not draft. Adapters only: parse, check
permission, call `flows.dossier` (or the `supplement-dossier` flow as a job), render. The rules,
the journal and the webhooks are the operations' own, the same as from the CLI.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from flows import dossier as ops
from motcua.errors import BadArgumentError, InputFileError, MotcuaError
from motcua.web.auth import Principal, require, services_of
from motcua.web.intake_jobs import take_in
from motcua.web.jobs import Job
from motcua.web.pages import flash
from motcua.web.permissions import Permission
from motcua.web.routes.dossiers import DossierDetail, _get, detail
from motcua.web.routes.jobs import JobOut, job_out
from motcua.web.services import Services
from motcua.web.uploads import receive_upload

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1/dossiers", tags=["hồ sơ"])

Taker = Annotated[Principal, Depends(require(Permission.dossiers_intake))]
Updater = Annotated[Principal, Depends(require(Permission.dossiers_update))]
Drafter = Annotated[Principal, Depends(require(Permission.results_draft))]


class RefusalRequest(BaseModel):
    reasons: list[Annotated[str, Field(min_length=1, max_length=500)]] = Field(
        min_length=1, max_length=10, description="why the dossier is refused (Mẫu 03)"
    )


class WithdrawalRequest(BaseModel):
    requested_by: str = Field(min_length=1, max_length=200, description="who asked to withdraw")


class ProcedureChange(BaseModel):
    procedure: str = Field(min_length=1, max_length=120, description="the new procedure key")


class ComponentAssignment(BaseModel):
    components: dict[str, str | None] = Field(
        default_factory=dict,
        max_length=100,
        description="document position → component key (`giay-to-khac` or null: other paper); "
        "positions not named are confirmed as they are",
    )


def _positions(assignment: Mapping[str, str | None]) -> dict[int, str | None]:
    out: dict[int, str | None] = {}
    for position, key in assignment.items():
        if not position.strip().isdigit():
            raise BadArgumentError(f"“{position}” không phải số thứ tự tài liệu")
        out[int(position)] = key or None
    return out


def _detail(services: Services, outcome: ops.Outcome) -> DossierDetail:
    return detail(services, outcome.dossier, reveal=True)


# --- API ------------------------------------------------------------------------------------


@api.post("/{code}/components", response_model=DossierDetail,
          summary="Confirm or change which component each document is")  # fmt: skip
def api_components(
    request: Request, principal: Taker, code: str, body: ComponentAssignment
) -> DossierDetail:
    services = services_of(request)
    _get(services, code)
    outcome = ops.confirm_components(services.core, code, _positions(body.components),
                                     actor=principal.actor)  # fmt: skip
    return _detail(services, outcome)


@api.post("/{code}/refusal", response_model=DossierDetail,
          summary="Refuse the dossier with its reasons (Mẫu 03)")  # fmt: skip
def api_refuse(
    request: Request, principal: Updater, code: str, body: RefusalRequest
) -> DossierDetail:
    services = services_of(request)
    _get(services, code)
    return _detail(services, ops.refuse(services.core, code, body.reasons, actor=principal.actor))


@api.get("/{code}/refusal.pdf", response_class=Response,
         responses={200: {"content": {"application/pdf": {}}}},
         summary="The refusal notice (Mẫu 03) of a refused dossier")  # fmt: skip
def api_refusal_pdf(request: Request, principal: Updater, code: str) -> Response:
    services = services_of(request)
    _get(services, code)
    path = services.core.dossier_dir(code) / ops.REFUSAL_FILE
    if not path.is_file():
        raise BadArgumentError(f"hồ sơ {code} không có phiếu từ chối")
    name = f"phieu-tu-choi-{code}.pdf"
    return Response(path.read_bytes(), media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{name}"',
                             "Cache-Control": "no-store"})  # fmt: skip


@api.post("/{code}/withdrawal", response_model=DossierDetail,
          summary="The citizen withdraws the dossier (rút hồ sơ)")  # fmt: skip
def api_withdraw(
    request: Request, principal: Updater, code: str, body: WithdrawalRequest
) -> DossierDetail:
    services = services_of(request)
    _get(services, code)
    outcome = ops.withdraw(services.core, code, requested_by=body.requested_by,
                           actor=principal.actor)  # fmt: skip
    return _detail(services, outcome)


@api.post("/{code}/procedure", response_model=DossierDetail,
          summary="Move the dossier to another procedure before acceptance")  # fmt: skip
def api_change_procedure(
    request: Request, principal: Taker, code: str, body: ProcedureChange
) -> DossierDetail:
    services = services_of(request)
    _get(services, code)
    outcome = ops.change_procedure(services.core, code, body.procedure, actor=principal.actor)
    return _detail(services, outcome)


async def _take_supplement(
    services: Services,
    principal: Principal,
    code: str,
    uploads: Sequence[UploadFile] | None,
    received_at: str | None,
) -> Job:
    """Check and keep the files, then run the `supplement-dossier` flow as a job."""
    dossier = _get(services, code)
    services.register.check_supplement(code, [])  # refused before any file is kept
    return await take_in(services, principal, uploads, dossier.procedure_key, received_at,
                          supplement_of=code)  # fmt: skip


@api.post("/{code}/supplement", status_code=202, response_model=JobOut,
          summary="Take in the supplement: upload the papers, run the flow as a job")  # fmt: skip
async def api_supplement(
    request: Request,
    principal: Taker,
    code: str,
    files: Annotated[list[UploadFile], File(description="the papers brought back")],
    received_at: Annotated[str | None, Form(max_length=40)] = None,
) -> JSONResponse:
    job = await _take_supplement(services_of(request), principal, code, files, received_at)
    body = job_out(job).model_dump(mode="json")
    return JSONResponse(body, status_code=202, headers={"Location": f"/api/v1/jobs/{job.id}"})


class UploadedResult(BaseModel):
    dossier_code: str
    status: str
    record_id: str
    kind: str = Field(description="`signed` (its signatures verified) or `scan` (a paper result)")
    signatures: int
    timeliness: str | None
    result_number: str | None


@api.post("/{code}/result-file", response_model=UploadedResult,
          summary="Upload a result motcua does not draft (a signed PDF or a scan)")  # fmt: skip
async def api_result_file(
    request: Request,
    principal: Drafter,
    code: str,
    file: Annotated[UploadFile, File(description="the signed PDF, or the scan of the result")],
    number: Annotated[str | None, Form(max_length=80)] = None,
) -> dict[str, Any]:
    from flows.result_upload import record_uploaded_result

    services = services_of(request)
    _get(services, code)
    staging = Path(tempfile.mkdtemp(prefix="result-", dir=services.settings.home))
    try:
        checked = await receive_upload(file, staging, max_bytes=services.upload_max_bytes)
        result: dict[str, Any] = await run_in_threadpool(
            record_uploaded_result, services.core, code, checked.path, number=number,
            actor=principal.actor,
        )  # fmt: skip
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return result


# --- pages ----------------------------------------------------------------------------------


def _back(code: str) -> RedirectResponse:
    return RedirectResponse(f"/dossiers/{code}", status_code=303)


def _refused_message(exc: MotcuaError) -> str:
    return exc.message + (f" — {exc.hint}" if exc.hint else "")


@pages.post("/dossiers/{code}/components")
async def components_form(request: Request, principal: Taker, code: str) -> Response:
    services = services_of(request)
    form = await request.form()
    chosen = {name.removeprefix("component:"): value for name, value in form.multi_items()
              if name.startswith("component:") and isinstance(value, str)}  # fmt: skip
    try:
        outcome = await run_in_threadpool(
            ops.confirm_components, services.core, code, _positions(chosen), actor=principal.actor
        )
    except BadArgumentError as exc:
        flash(request, "Chưa lưu: " + _refused_message(exc), "error")
        return _back(code)
    missing = [services.component_label(outcome.dossier.procedure_key, k)
               for k in outcome.dossier.missing_components]  # fmt: skip
    flash(request, "Đã xác nhận thành phần hồ sơ."
          + (" Còn thiếu: " + ", ".join(missing) + "." if missing else " Hồ sơ đủ thành phần."),
          "ok")  # fmt: skip
    return _back(code)


@pages.post("/dossiers/{code}/refusal")
def refuse_form(
    request: Request, principal: Updater, code: str,
    reasons: Annotated[str, Form(max_length=2000)] = "",
) -> Response:  # fmt: skip
    lines = [line for line in reasons.splitlines() if line.strip()]
    try:
        ops.refuse(services_of(request).core, code, lines, actor=principal.actor)
    except BadArgumentError as exc:
        flash(request, "Chưa từ chối: " + _refused_message(exc), "error")
        return _back(code)
    flash(request, f"Đã từ chối giải quyết hồ sơ {code}; phiếu từ chối (Mẫu 03) đã lập.", "ok")
    return _back(code)


@pages.post("/dossiers/{code}/withdrawal")
def withdraw_form(
    request: Request, principal: Updater, code: str,
    requested_by: Annotated[str, Form(max_length=200)] = "",
) -> Response:  # fmt: skip
    try:
        ops.withdraw(services_of(request).core, code, requested_by=requested_by,
                     actor=principal.actor)  # fmt: skip
    except BadArgumentError as exc:
        flash(request, "Chưa ghi nhận: " + _refused_message(exc), "error")
        return _back(code)
    flash(request, f"Đã ghi nhận công dân rút hồ sơ {code}.", "ok")
    return _back(code)


@pages.post("/dossiers/{code}/supplement")
async def supplement_form(
    request: Request,
    principal: Taker,
    code: str,
    files: Annotated[list[UploadFile] | None, File()] = None,
) -> Response:
    try:
        job = await _take_supplement(services_of(request), principal, code, files, None)
    except (InputFileError, BadArgumentError) as exc:
        flash(request, "Chưa nhận bổ sung: " + _refused_message(exc), "error")
        return _back(code)
    return RedirectResponse(f"/jobs/{job.id}", status_code=303)
