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

import io
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from dossiers.contact import Contact
from dossiers.dossier import field_value
from dossiers.register import DocumentRecord, Dossier
from flows import dossier as ops
from motcua.errors import BadArgumentError, InputFileError, MotcuaError
from motcua.types import nfc
from motcua.web.auth import Principal, require, services_of
from motcua.web.intake_jobs import MAX_FILES, take_in
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
from motcua.web.services import Services

__all__ = ["MAX_FILES", "api", "pages", "take_in"]

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1/dossiers", tags=["tiếp nhận"])

Taker = Annotated[Principal, Depends(require(Permission.dossiers_intake))]
Reader = Annotated[Principal, Depends(require(Permission.dossiers_read))]

PAGE_WIDTH = 1200  # pixels of a page image for review: readable, light on a tablet


@pages.get("/dossiers/new")
def new_page(request: Request, principal: Taker) -> Response:
    return _new_form(request)


def _new_form(
    request: Request,
    *,
    error: str | None = None,
    chosen: str = "",
    status: int = 200,
    contact: dict[str, Any] | None = None,
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
            "contact": contact,
        },
        status=status,
    )


@pages.post("/dossiers/new")
async def new_form(
    request: Request,
    principal: Taker,
    procedure: Annotated[str, Form(max_length=120)] = "",
    received_at: Annotated[str, Form(max_length=40)] = "",
    phone: Annotated[str, Form(max_length=20)] = "",
    email: Annotated[str, Form(max_length=254)] = "",
    notice_consent: Annotated[str, Form(max_length=5)] = "",
    files: Annotated[list[UploadFile] | None, File()] = None,
) -> Response:
    typed = {"phone": phone, "email": email, "consent": bool(notice_consent)}
    if not procedure.strip():
        return _new_form(request, error="Hãy chọn thủ tục hành chính.", status=400, contact=typed)
    try:
        contact = Contact.of(phone, email, bool(notice_consent))
        job = await take_in(services_of(request), principal, files, procedure, received_at,
                            contact=contact)  # fmt: skip
    except (InputFileError, BadArgumentError) as exc:
        message = exc.message + (f" — {exc.hint}" if exc.hint else "")
        return _new_form(request, error=message, chosen=procedure, status=400, contact=typed)
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
