"""Taking dossiers in at the desk: upload, the intake flow as a job, field corrections, page
images for review, and accepting the dossier for processing.

API (permission `dossiers.intake` unless said otherwise):
- `POST /api/v1/dossiers` (multipart: `files`, `procedure`, optional `received_at`, ISO; without
  an offset it is Vietnam time): uploads are checked by content and kept under
  `<home>/uploads/<day>-<id>/` (never deleted), the `intake-dossier` flow runs as a job; 202
  with the job and `Location: /api/v1/jobs/<id>` to poll. The completed job carries
  `dossier_code`, links to the dossier and its receipt, and which fields need review.
- `PATCH /api/v1/dossiers/{code}/documents/{position}/fields` `{"fields": {key: value}}`.
- `POST /api/v1/dossiers/{code}/accept`: a `received` dossier goes to `processing`.
- `GET /api/v1/dossiers/{code}/documents/{position}/pages/{n}.png` (`dossiers.read`).

Pages: `/dossiers/new` (form, then `/jobs/<id>` until done), and the forms of the dossier page
(`dossier.html`): `POST /dossiers/{code}/documents/{position}/fields`, `POST /dossiers/{code}/
accept`, and `GET /dossiers/{code}/documents/{position}/pages/{n}.png` for its images.

Stable element ids (each also a `data-testid` of the same value) for browser tests:
- `/dossiers/new`: `intake-form`, `intake-procedure` (select), `intake-drop` (drop zone),
  `intake-files` (file input), `intake-file-list`, `intake-received-at`, `intake-submit`,
  `intake-error` (the refusal message). The menu link is `nav-intake`.
- dossier page: `accept-button`, `receipt-link`; per document `document-<position>` (its
  anchor id is `doc-<position>`, where the form returns to), `page-image-<position>-<n>`,
  `fields-form-<position>`, `fields-submit-<position>`; per field
  the `data-testid` is `field-<position>-<key>` (input or textarea; `id` is the same with the
  key's dots as `--`), `confirm-<position>-<key>` (the "value is right" box of a field that
  needs review) and `field-row-<position>-<key>` (the row, class `needs-review` when flagged).
"""

from __future__ import annotations

import datetime as dt
import io
import os
import shutil
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from dossiers.calendar import VN_TZ, to_local
from dossiers.dossier import field_value
from dossiers.register import DocumentRecord, Dossier, Status
from flows import dossier as ops
from flows.context import office_in_use
from motcua.errors import BadArgumentError, InputFileError, MotcuaError
from motcua.types import nfc
from motcua.web.auth import Principal, require, services_of
from motcua.web.jobs import Job
from motcua.web.pages import NotFound, flash, render
from motcua.web.permissions import Permission
from motcua.web.routes.dossiers import (
    DossierDetail,
    _as_text,
    _get,
    detail,
    original_path,
    shown_value,
    template_fields,
)
from motcua.web.routes.jobs import JobOut, job_out
from motcua.web.services import Services
from motcua.web.uploads import MAX_FILES_PER_REQUEST, CheckedUpload, receive_upload

if TYPE_CHECKING:
    pass

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1/dossiers", tags=["tiếp nhận"])

Taker = Annotated[Principal, Depends(require(Permission.dossiers_intake))]
Reader = Annotated[Principal, Depends(require(Permission.dossiers_read))]

MAX_FILES = MAX_FILES_PER_REQUEST  # the request body limit is sized for this many
PAGE_WIDTH = 1200  # pixels of a page image for review: readable, light on a tablet
FUTURE_SKEW = dt.timedelta(minutes=5)  # a desk PC's clock may run a little ahead
JOB_KIND = "intake"
# Where the intake flow takes the citizen's name from, most specific first (flows.intake).


class _JobId:
    """The id of a job, known once `submit` returned; the work may start before that."""

    def __init__(self) -> None:
        self._known = threading.Event()
        self._value = ""

    def set(self, value: str) -> None:
        self._value = value
        self._known.set()

    def get(self) -> str:
        self._known.wait(60)
        return self._value


def _record_dossier_code(services: Services, job_id: str, code: str) -> None:
    """Name the dossier on the job, so the job page and API link to it."""
    services.jobs.set_dossier_code(job_id, code)


def public_result(result: Mapping[str, Any]) -> dict[str, Any]:
    """What a job reader may see: codes, dates and links; no paths, no extracted values."""
    code = result["dossier_code"]
    due = result.get("due_date")
    status = result.get("status")
    return {
        "dossier_code": code,
        "created": bool(result.get("created", True)),
        "procedure": result.get("procedure"),
        "status": status,
        "received_at": result.get("received_at"),
        "due_date": due,
        "missing_components": list(result.get("missing_components") or []),
        "record_id": result.get("record_id"),
        "documents": [
            {
                "position": i,
                "kind": doc.get("kind"),
                "needs_review": sorted(
                    key
                    for key, field in (doc.get("fields") or {}).items()
                    if isinstance(field, Mapping) and field.get("needs_review")
                ),
            }
            for i, doc in enumerate(result.get("documents") or [], start=1)
        ],
        "dossier_url": f"/api/v1/dossiers/{code}",
        "page_url": f"/dossiers/{code}",
        "receipt_url": f"/api/v1/dossiers/{code}/receipt.pdf" if due else None,
        "supplement_request_url": (
            f"/api/v1/dossiers/{code}/supplement-request.pdf"
            if status == Status.supplement_requested.value
            else None
        ),
    }


def _intake_work(
    services: Services,
    actor: str,
    files: Sequence[Path],
    procedure: str,
    received_at: str | None,
    job_id: _JobId,
    *,
    components: Mapping[str, str] | None = None,
    supplement_of: str | None = None,
) -> Callable[[], dict[str, Any]]:
    def work() -> dict[str, Any]:
        office = services.flows_office()  # the server's own catalogue, store and home
        from flows.intake import intake_dossier, supplement_dossier

        names = [str(f) for f in files]
        try:
            with office_in_use(office):
                if supplement_of is None:
                    result = intake_dossier(names, procedure, received_at, dict(components or {}),
                                            actor, reference=job_id.get())  # fmt: skip
                else:
                    result = supplement_dossier(supplement_of, names, received_at,
                                                dict(components or {}), actor)  # fmt: skip
        except Exception as exc:
            if isinstance(exc, InputFileError):  # the job's readers see the file, not the server
                exc = InputFileError(Path(exc.path).name, exc.reason, hint=exc.hint)
            raise exc from None
        _record_dossier_code(services, job_id.get(), str(result["dossier_code"]))
        return public_result(result)

    return work


# --- taking a dossier in ----------------------------------------------------------------------


def _received_at(value: str | None) -> str | None:
    """An ISO date-time (Vietnam time when it names no offset), not in the future."""
    if value is None or not value.strip():
        return None
    try:
        moment = to_local(dt.datetime.fromisoformat(value.strip()))
    except ValueError:
        raise BadArgumentError(
            f"received_at {value!r} không phải thời điểm (not an ISO date-time)",
            hint="e.g. 2026-04-24T09:30:00+07:00",
        ) from None
    if moment > dt.datetime.now(VN_TZ) + FUTURE_SKEW:
        raise BadArgumentError(
            f"received_at {moment.isoformat()} ở tương lai (is in the future)",
            hint="để trống để lấy thời điểm hiện tại (leave it empty for now)",
        )
    return moment.isoformat()


def _chosen(uploads: Sequence[UploadFile] | None) -> list[UploadFile]:
    """The files actually chosen: a form sent without one carries an empty, nameless part."""
    chosen = [u for u in uploads or () if u.filename or (u.size or 0) > 0]
    if not chosen:
        raise BadArgumentError(
            "chưa chọn tệp nào (no file uploaded)", hint="chọn hoặc kéo thả các tệp đã quét"
        )
    if len(chosen) > MAX_FILES:
        raise BadArgumentError(
            f"{len(chosen)} tệp, nhiều hơn {MAX_FILES} (too many files in one dossier)",
            hint=f"gộp các trang vào ít tệp PDF hơn (at most {MAX_FILES} files)",
        )
    return chosen


async def _check_all(
    uploads: Sequence[UploadFile], staging: Path, max_bytes: int
) -> list[CheckedUpload]:
    """Check every upload by content (size, type, no file twice) into a staging folder."""
    checked: list[CheckedUpload] = []
    for i, upload in enumerate(uploads, start=1):
        one = await receive_upload(upload, staging / f"{i:02d}", max_bytes=max_bytes)
        twin = next((c for c in checked if c.sha256 == one.sha256), None)
        if twin is not None:
            raise InputFileError(
                one.filename,
                f"trùng nội dung với tệp {twin.filename} (the same file twice)",
                hint="bỏ bản trùng (remove the duplicate)",
            )
        checked.append(one)
    return checked


def _keep(checked: Sequence[CheckedUpload], uploads_root: Path) -> list[Path]:
    """Move checked uploads to a fresh folder named by the day and an id, under the names the
    client gave (with the suffix of their real type); nothing there is ever deleted."""
    folder = uploads_root / f"{dt.datetime.now(VN_TZ):%Y%m%d}-{uuid.uuid4().hex[:12]}"
    folder.mkdir(parents=True)
    kept = []
    for one in checked:
        target = _free_name(folder, Path(one.filename).stem or "tep", one.path.suffix)
        os.replace(one.path, target)
        kept.append(target)
    return kept


def _free_name(folder: Path, stem: str, suffix: str) -> Path:
    """`stem+suffix` in `folder`, numbered when a scanner gave two files the same name."""
    target, n = folder / f"{stem}{suffix}", 1
    while target.exists():
        n += 1
        target = folder / f"{stem}-{n}{suffix}"
    return target


async def _take_in(
    services: Services,
    principal: Principal,
    uploads: Sequence[UploadFile] | None,
    procedure: str,
    received_at: str | None,
    *,
    supplement_of: str | None = None,
) -> Job:
    """Check the request and the files, keep them, and start the intake flow as a job (the
    supplement flow of dossier `supplement_of`, when given).

    All files are kept or none is: a refused file leaves nothing behind.
    """
    proc = services.catalogue.get(procedure.strip())
    when = _received_at(received_at)
    chosen = _chosen(uploads)
    uploads_root = services.settings.home / "uploads"
    staging = uploads_root / f".incoming-{uuid.uuid4().hex}"
    try:
        checked = await _check_all(chosen, staging, services.upload_max_bytes)
        files = _keep(checked, uploads_root)
    finally:
        shutil.rmtree(staging, ignore_errors=True)

    def submit() -> Job:
        job_id = _JobId()
        work = _intake_work(services, principal.actor, files, proc.key, when, job_id,
                            supplement_of=supplement_of)  # fmt: skip
        job = services.jobs.submit(JOB_KIND, work, actor=principal.actor)
        try:  # the submission enters the journal before anything the job records
            ops.note_submission(services.core, principal.actor, job.id, proc.key, when, files)
        finally:
            job_id.set(job.id)
        return job

    return await run_in_threadpool(submit)


@api.post(
    "",
    status_code=202,
    response_model=JobOut,
    responses={202: {"headers": {"Location": {"description": "the job to poll",
                                              "schema": {"type": "string"}}}}},
    summary="Take a dossier in: upload the scans, run the intake flow as a job",
)  # fmt: skip
async def api_take_in(
    request: Request,
    principal: Taker,
    files: Annotated[list[UploadFile], File(description="scans: PDF, JPEG, PNG, TIFF, WebP")],
    procedure: Annotated[str, Form(max_length=120, description="procedure key")],
    received_at: Annotated[
        str | None, Form(max_length=40, description="ISO date-time; default now")
    ] = None,
) -> JSONResponse:
    job = await _take_in(services_of(request), principal, files, procedure, received_at)
    body = job_out(job).model_dump(mode="json")
    return JSONResponse(body, status_code=202, headers={"Location": f"/api/v1/jobs/{job.id}"})


@pages.get("/dossiers/new")
def new_page(request: Request, principal: Taker) -> Response:
    return _new_form(request)


def _new_form(
    request: Request, *, error: str | None = None, chosen: str = "", status: int = 200
) -> Response:
    services = services_of(request)
    return render(
        request,
        "intake_new.html",
        {
            "procedures": list(services.catalogue),
            "chosen": chosen,
            "error": error,
            "max_files": MAX_FILES,
            "max_mb": f"{services.settings.upload_max_mb:g}",
        },
        status=status,
    )


@pages.post("/dossiers/new")
async def new_form(
    request: Request,
    principal: Taker,
    procedure: Annotated[str, Form(max_length=120)] = "",
    received_at: Annotated[str, Form(max_length=40)] = "",
    files: Annotated[list[UploadFile] | None, File()] = None,
) -> Response:
    if not procedure.strip():
        return _new_form(request, error="Hãy chọn thủ tục hành chính.", status=400)
    try:
        job = await _take_in(services_of(request), principal, files, procedure, received_at)
    except (InputFileError, BadArgumentError) as exc:
        message = exc.message + (f" — {exc.hint}" if exc.hint else "")
        return _new_form(request, error=message, chosen=procedure, status=400)
    return RedirectResponse(f"/jobs/{job.id}", status_code=303)


# --- correcting extracted fields --------------------------------------------------------------


class FieldCorrections(BaseModel):
    fields: dict[
        Annotated[str, Field(min_length=1, max_length=120)],
        Annotated[str, Field(max_length=2000)]
        | Annotated[list[Annotated[str, Field(max_length=500)]], Field(max_length=100)],
    ] = Field(
        min_length=1,
        max_length=100,
        description="field key → corrected value (a list for list fields); keys of the "
        "document, or of its kind's form template",
    )


def _document(dossier: Dossier, position: int) -> DocumentRecord:
    found = next((d for d in dossier.documents if d.position == position), None)
    if found is None:
        raise NotFound(f"tài liệu số {position} của hồ sơ {dossier.code}")
    return found


def _correct(
    services: Services,
    principal: Principal,
    code: str,
    position: int,
    values: Mapping[str, str | list[str]],
) -> tuple[Dossier, list[str]]:
    """Store the clerk's values; returns the dossier and the keys that changed (journaled)."""
    before = _document(_get(services, code), position)
    outcome = ops.correct_fields(services.core, code, position, values, actor=principal.actor,
                                 allowed_new=tuple(template_fields(before.kind)))  # fmt: skip
    return outcome.dossier, list(outcome.changed)


def _typed(
    services: Services, kind: str, values: Mapping[str, str | list[str]]
) -> tuple[dict[str, str | list[str]], list[str]]:
    """The values in the form extraction stores them (ISO dates, bare digits), and a line in
    Vietnamese for each value refused (naming the field, the value and the reason)."""
    from extractors.fields.typed import typed_value

    taken: dict[str, str | list[str]] = {}
    refused: list[str] = []
    for key, value in values.items():
        if not isinstance(value, str):
            taken[key] = value
            continue
        try:
            typed = typed_value(kind, key, value)
        except MotcuaError:  # a broken template file: nothing to check against
            taken[key] = value
            continue
        if typed.problem is None:
            taken[key] = typed.value
        else:
            label = services.field_label(kind, key)
            refused.append(f"{label}: “{value.strip()}” — {typed.problem}")
    return taken, refused


@api.patch(
    "/{code}/documents/{position}/fields",
    response_model=DossierDetail,
    summary="Correct a document's extracted fields (clears needs_review; audited)",
)
def api_correct(
    request: Request, principal: Taker, code: str, position: int, body: FieldCorrections
) -> DossierDetail:
    services = services_of(request)
    kind = _document(_get(services, code), position).kind
    values, refused = _typed(services, kind, body.fields)
    if refused:
        raise BadArgumentError(
            "không lưu trường nào: " + "; ".join(refused),
            hint="dates as dd/mm/yyyy or yyyy-mm-dd; ID numbers as 12 digits",
        )
    updated, _ = _correct(services, principal, code, position, values)
    return detail(services, updated, reveal=principal.can(Permission.dossiers_update))


def _form_values(
    document: DocumentRecord, form: Mapping[str, str], confirmed: set[str]
) -> dict[str, str | list[str]]:
    """What the correction form changes: edited values, values the clerk confirmed as read,
    and template fields filled in that were not read."""
    lists = template_fields(document.kind)
    changes: dict[str, str | list[str]] = {}
    for key, text in form.items():
        present = key in document.fields
        raw = document.fields.get(key)
        current = field_value(raw)
        is_list = isinstance(current, list | tuple) if present else lists.get(key, False)
        new: str | list[str] = (
            [nfc(line.strip()) for line in text.splitlines() if line.strip()]
            if is_list
            else nfc(text.strip())
        )
        if not present:
            if new:
                changes[key] = new
            continue
        shown = list(current) if is_list else ("" if current is None else str(current))
        flagged = isinstance(raw, Mapping) and bool(raw.get("needs_review"))
        if new != shown or (key in confirmed and flagged):
            changes[key] = new
    return changes


@pages.post("/dossiers/{code}/documents/{position}/fields")
async def correct_form(request: Request, principal: Taker, code: str, position: int) -> Response:
    services = services_of(request)
    form = await request.form()
    values: dict[str, str] = {}
    confirmed: set[str] = set()
    for name, value in form.multi_items():
        if not isinstance(value, str):
            continue
        if name.startswith("field:"):
            values[name.removeprefix("field:")] = value
        elif name.startswith("confirm:"):
            confirmed.add(name.removeprefix("confirm:"))

    def save() -> tuple[int, list[str]]:
        document = _document(_get(services, code), position)
        # What the clerk left as shown stays as stored; the rest is checked as typed.
        untouched = {
            key: _as_text(field_value(document.fields.get(key)))
            for key, text in values.items()
            if key not in confirmed
            and key in document.fields
            and nfc(text.strip())
            == shown_value(document.kind, key, field_value(document.fields[key]))
        }
        touched = {key: text for key, text in values.items() if key not in untouched}
        typed, refused = _typed(services, document.kind, touched)
        checked = {k: v for k, v in typed.items() if isinstance(v, str)}
        changes = _form_values(document, checked | untouched, confirmed)
        if not changes:
            return 0, refused
        return len(_correct(services, principal, code, position, changes)[1]), refused

    count, refused = await run_in_threadpool(save)
    if count:
        flash(request, f"Đã lưu {count} trường đã sửa hoặc xác nhận của tài liệu số {position}.",
              "ok")  # fmt: skip
    elif not refused:
        flash(request, "Không có thay đổi nào để lưu.")
    if refused:
        flash(request, "Chưa lưu: " + "; ".join(refused) + ". Hãy sửa lại rồi lưu.", "error")
    return RedirectResponse(f"/dossiers/{code}#doc-{position}", status_code=303)


# --- accepting a dossier for processing -------------------------------------------------------


def _accept(services: Services, principal: Principal, code: str) -> Dossier:
    _get(services, code)
    return ops.accept(services.core, code, actor=principal.actor).dossier


@api.post(
    "/{code}/accept",
    response_model=DossierDetail,
    summary="Accept a received dossier for processing (received → processing)",
)
def api_accept(request: Request, principal: Taker, code: str) -> DossierDetail:
    services = services_of(request)
    updated = _accept(services, principal, code)
    return detail(services, updated, reveal=principal.can(Permission.dossiers_update))


@pages.post("/dossiers/{code}/accept")
def accept_form(request: Request, principal: Taker, code: str) -> Response:
    _accept(services_of(request), principal, code)
    flash(request, f"Đã tiếp nhận hồ sơ {code}; hồ sơ chuyển sang giải quyết.", "ok")
    return RedirectResponse(f"/dossiers/{code}", status_code=303)


# --- page images for review -------------------------------------------------------------------


def render_page_png(path: Path, number: int, width: int = PAGE_WIDTH) -> bytes:
    """Page `number` (1-based) of a scan or PDF as a PNG about `width` pixels wide.

    `InputFileError` names the file only, not where it is on the server.
    """
    try:
        return _render_page_png(path, number, width)
    except InputFileError as exc:
        raise InputFileError(path.name, exc.reason, hint=exc.hint) from None


def _render_page_png(path: Path, number: int, width: int) -> bytes:
    from extractors.ocr.sources import preview_image

    if number < 1:
        raise NotFound(f"trang {number}")
    try:
        image = preview_image(path, number - 1, width)
    except IndexError:
        raise NotFound(f"trang {number}") from None
    if image.mode not in ("L", "RGB"):
        image = image.convert("RGB")
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=3)
    return out.getvalue()


def _page_image(services: Services, code: str, position: int, number: int) -> Response:
    dossier = _get(services, code)
    document = _document(dossier, position)
    if number < 1 or (document.page_count is not None and number > document.page_count):
        raise NotFound(f"trang {number} của tài liệu số {position}")
    path = original_path(services.settings, code, position, document.path)
    if path is None:
        raise NotFound(f"bản quét của tài liệu số {position} (không còn trên máy chủ)")
    content = render_page_png(path, number)
    return Response(content, media_type="image/png", headers={"Cache-Control": "no-store"})


@api.get(
    "/{code}/documents/{position}/pages/{number}.png",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}},
    summary="One page of a document's original, about 1200 px wide, for review",
)
def api_page_image(
    request: Request, principal: Reader, code: str, position: int, number: int
) -> Response:
    return _page_image(services_of(request), code, position, number)


@pages.get("/dossiers/{code}/documents/{position}/pages/{number}.png")
def page_image(
    request: Request, principal: Reader, code: str, position: int, number: int
) -> Response:
    return _page_image(services_of(request), code, position, number)
