"""The leader's signing queue: drafted results waiting for the leader, their previews, and
signing them with the server-side key. Adapters only: parse, check permission, call
`flows.result_requests`, render; the checks, the job and the journal entries are the flow's.
Drafting is `routes.results`; signing on the leader's own device is `routes.device_signing`.

API:
- `GET /api/v1/signing/queue` (`results.sign`): drafted results waiting for the leader.
- `GET /api/v1/signing/{code}/draft.pdf` (`results.sign`): the draft, to read before signing.
- `POST /api/v1/signing/{code}/sign` `{"draft_sha256": hex}`, `POST /api/v1/signing/sign`
  `{"codes": [...], "draft_sha256": {code: hex}}` (`results.sign`): every request names the
  SHA-256 of the draft the leader previewed (the queue's `draft_sha256`); a draft changed since
  is refused, 409, nothing signed. The leader's server-side key (`MOTCUA_SIGNING_LEADER_P12`,
  or a PKCS#11 token `MOTCUA_SIGNING_LEADER_PKCS11_MODULE/_TOKEN/_KEY`; secrets only from the
  environment) signs, then the organisation, verification, the archive: one job (202) for
  one or many.

A leader account with its own key (`motcua signers bind ACCOUNT --p12 FILE`, see
`flows.signing_keys`) signs only with it, and every sign request carries its PIN: the API's
`pin` member, the pages' `pin` field. The PIN opens the key for that one job; it is never
stored, logged nor sent back. A wrong PIN is refused before any job starts (API: 400).

Pages: `/signing` (the leader's queue), `/signing/{code}` (a result's page images, the PIN
field when the account has its own key, and its sign button), `POST /signing/{code}/sign`
(form fields `draft_sha256`, `pin`) and `POST /signing/sign` (`codes` and one
`draft_sha256.<code>` per row): without `confirmed` it shows what will be signed and asks once
for confirmation and the PIN, with `confirmed=1` it signs (then `/jobs/<id>`). A wrong PIN
shows its reason beside the field, the page otherwise as it was. The page images
`/signing/{code}/pages/{n}.png?width=`, `/signing/{code}/draft.pdf`.

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
  `sign-pin` (the PIN field), `pin-error` (its error), `signing-as` (whose key signs),
  `sign-this` (sign it), `device-sign` (the device-signing page).
- confirmation (`POST /signing/sign`): `confirm-list` (the table), `confirm-row` per result
  (`data-code`), `sign-pin`, `pin-error`, `confirm-sign` (the button), `confirm-cancel`.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from dossiers.calendar import VN_TZ
from dossiers.register import Dossier, Status
from flows import result_requests
from flows.result_requests import MAX_BATCH
from flows.signing_keys import PersonalKey, personal_binding
from motcua.errors import BadArgumentError, CheckFailedError, ConfigurationError, WrongPinError
from motcua.web.auth import Principal, require, services_of
from motcua.web.jobs import Job
from motcua.web.pages import NotFound, flash, render
from motcua.web.permissions import Permission
from motcua.web.routes.dossiers import _get
from motcua.web.routes.jobs import JobOut
from motcua.web.routes.results import PDF_RESPONSES, accepted, pdf_response
from motcua.web.services import Services

if TYPE_CHECKING:
    from flows.result import Draft

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["kết quả và ký số"])

Signer = Annotated[Principal, Depends(require(Permission.results_sign))]

THUMB_WIDTH = 240
PAGE_WIDTH = 1000

_Sha256 = Annotated[str, Field(pattern=r"^[0-9a-fA-F]{64}$")]


class SignOneIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    draft_sha256: _Sha256 = Field(description="SHA-256 of the draft the leader previewed")
    pin: str | None = Field(
        default=None, max_length=256, description="the PIN of the account's own key, if it has one"
    )


class SignManyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    codes: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        min_length=1, max_length=MAX_BATCH, description="dossier codes whose drafts to sign"
    )
    draft_sha256: dict[Annotated[str, Field(max_length=64)], _Sha256] = Field(
        max_length=MAX_BATCH, description="for each code, the SHA-256 of the draft previewed"
    )
    pin: str | None = Field(
        default=None, max_length=256, description="the PIN of the account's own key, if it has one"
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


def _today() -> dt.date:
    return dt.datetime.now(VN_TZ).date()


def _queue(services: Services) -> list[QueueItemOut]:
    office = services.flows_office()
    import flows.result as result

    items = []
    for dossier in services.register.list(statuses=[Status.processing]):
        draft = result_requests.current_draft(office, dossier.code)
        if draft is None or not result.waits_for_leader(dossier, draft):
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


def _waiting_draft(services: Services, code: str) -> tuple[Dossier, Draft]:
    dossier = _get(services, code)
    return dossier, result_requests.waiting_draft(services.flows_office(), dossier)


def _submit_sign(
    services: Services,
    principal: Principal,
    codes: Sequence[str],
    previewed: Mapping[str, str],
    pin: str | None = None,
) -> Job:
    unique = list(dict.fromkeys(c.strip() for c in codes if c.strip()))
    if len(unique) > MAX_BATCH:
        raise BadArgumentError(f"at most {MAX_BATCH} results at a time")
    dossiers = [_get(services, code) for code in unique]
    return result_requests.request_signing(
        services.flows_office(), services.jobs, dossiers, previewed, actor=principal.actor,
        pin=pin,
    )  # fmt: skip


def _draft_pdf(services: Services, principal: Principal, code: str) -> Response:
    dossier = _get(services, code)
    content = result_requests.draft_pdf(services.flows_office(), dossier, actor=principal.actor)
    return pdf_response(content, f"du-thao-ket-qua-{code}.pdf", inline=True)


def _page_png(path: Path, number: int, width: int) -> bytes:
    from motcua.pdfium import page_image

    try:
        image, _ = page_image(path, number - 1, dpi=200, width=width)
    except IndexError:
        raise NotFound(f"trang {number}") from None
    out = io.BytesIO()
    image.convert("RGB").save(out, format="PNG", compress_level=3)
    return out.getvalue()


def _key_configured(services: Services, principal: Principal) -> bool:
    s = services.settings
    return s.signing_organization_p12 is not None and (
        s.signing_leader_p12 is not None
        or s.signing_leader_pkcs11_module is not None
        or _own_key(services, principal) is not None
    )


def _own_key(services: Services, principal: Principal) -> PersonalKey | None:
    return personal_binding(services.flows_office(), principal.actor)


def _signing_context(services: Services, principal: Principal) -> dict[str, object]:
    return {
        "key_configured": _key_configured(services, principal),
        "own_key": _own_key(services, principal),
    }


# --- API ------------------------------------------------------------------------------------


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
    responses=PDF_RESPONSES,
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
    services = services_of(request)
    return accepted(_submit_sign(services, principal, body.codes, body.draft_sha256, body.pin))


@api.post(
    "/signing/{code}/sign",
    status_code=202,
    response_model=JobOut,
    summary="Sign a drafted result with the leader's server-side key (a job)",
)
def api_sign(request: Request, principal: Signer, code: str, body: SignOneIn) -> Response:
    previewed = {code: body.draft_sha256}
    return accepted(_submit_sign(services_of(request), principal, [code], previewed, body.pin))


# --- pages ----------------------------------------------------------------------------------


@pages.get("/signing")
def queue_page(request: Request, principal: Signer) -> Response:
    services = services_of(request)
    return render(
        request,
        "signing.html",
        {"rows": _queue(services), "thumb_width": THUMB_WIDTH,
         **_signing_context(services, principal)},
    )  # fmt: skip


@pages.get("/signing/{code}")
def preview_page(request: Request, principal: Signer, code: str) -> Response:
    return _preview(request, principal, code)


def _preview(
    request: Request, principal: Principal, code: str, pin_error: str | None = None
) -> Response:
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
            "pin_error": pin_error,
            **_signing_context(services, principal),
        },
        status=400 if pin_error else 200,
    )


def _confirm(
    request: Request,
    principal: Principal,
    codes: Sequence[str],
    previewed: Mapping[str, str],
    pin_error: str | None = None,
) -> Response:
    """What will be signed, asked once: the ticked results still waiting, the PIN field."""
    services = services_of(request)
    try:  # a draft changed since the preview, or no longer waiting: said now, not at confirm
        for code in dict.fromkeys(codes):
            result_requests.waiting_draft(
                services.flows_office(), _get(services, code), previewed.get(code) or None
            )
    except (BadArgumentError, CheckFailedError) as exc:
        flash(request, exc.message, "error")
        return RedirectResponse("/signing", status_code=303)
    chosen = set(codes)
    rows = [r for r in _queue(services) if r.dossier_code in chosen]
    gone = [c for c in dict.fromkeys(codes) if c not in {r.dossier_code for r in rows}]
    return render(
        request,
        "signing_confirm.html",
        {"rows": rows, "gone": gone, "previewed": previewed, "pin_error": pin_error,
         **_signing_context(services, principal)},
        status=400 if pin_error else 200,
    )  # fmt: skip


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
    if form.get("confirmed") != "1":
        return await run_in_threadpool(_confirm, request, principal, codes, previewed)
    pin = form.get("pin")
    pin = pin[:256] if isinstance(pin, str) else None

    def wrong_pin(message: str) -> Response:
        return _confirm(request, principal, codes, previewed, message)

    return await run_in_threadpool(
        _sign_and_show, request, principal, codes, previewed, pin, wrong_pin
    )


@pages.post("/signing/{code}/sign")
def sign_form(
    request: Request,
    principal: Signer,
    code: str,
    draft_sha256: Annotated[str, Form(max_length=64)] = "",
    pin: Annotated[str | None, Form(max_length=256)] = None,
) -> Response:
    def wrong_pin(message: str) -> Response:
        return _preview(request, principal, code, message)

    return _sign_and_show(request, principal, [code], {code: draft_sha256}, pin, wrong_pin)


def _sign_and_show(
    request: Request,
    principal: Principal,
    codes: Sequence[str],
    previewed: Mapping[str, str],
    pin: str | None,
    wrong_pin: Callable[[str], Response],
) -> Response:
    """The job's page; the form again with the reason beside the PIN field when the PIN does
    not open the key; else back to the queue with the reason it could not start."""
    try:
        job = _submit_sign(services_of(request), principal, codes, previewed, pin)
    except WrongPinError as exc:
        return wrong_pin(exc.message)
    except (BadArgumentError, CheckFailedError, ConfigurationError) as exc:
        flash(request, exc.message, "error")
        return RedirectResponse("/signing", status_code=303)
    return RedirectResponse(f"/jobs/{job.id}", status_code=303)
