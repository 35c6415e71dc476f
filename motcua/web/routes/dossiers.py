"""Dossiers: list and filter, show, request a supplement, record the return, the receipt PDF.

ID numbers are masked (`motcua.types.mask_id`) in every list; the detail shows them in full
only to roles that act on the dossier (clerk, admin). Taking dossiers in, correcting their
fields and accepting them live in `routes.intake`; the dossier page shows each document's page
images beside its fields and, to the clerk, the correction form (ids listed there).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field

from dossiers.calendar import VN_TZ
from dossiers.register import BEFORE_ACCEPTANCE, CLOSED, RESOLVED, Dossier, ListQuery, Status
from flows import dossier as ops
from motcua.errors import BadArgumentError, MotcuaError
from motcua.types import fold
from motcua.web import saved_views
from motcua.web.auth import Principal, require, services_of
from motcua.web.pages import NotFound, flash, render
from motcua.web.permissions import Permission
from motcua.web.services import Services
from motcua.web.views import (
    MAX_PAGES_SHOWN,
    PAGING_HEADERS,
    DocumentOut,
    DossierDetail,
    DossierSummary,
    FieldRow,
    StatusChangeOut,
    _as_text,
    _mask_text,
    account_names,
    as_instant,
    detail,
    field_rows,
    id_numbers,
    masked_fields,
    original_path,
    shown_value,
    summary,
    template_fields,
)

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1/dossiers", tags=["hồ sơ"])

Reader = Annotated[Principal, Depends(require(Permission.dossiers_read))]
Updater = Annotated[Principal, Depends(require(Permission.dossiers_update))]
ReceiptReader = Annotated[Principal, Depends(require(Permission.receipts_read))]

PAGE_SIZE = 50


class ApologyRequest(BaseModel):
    new_due_date: dt.date = Field(description="the new appointment, after the due date")
    reasons: list[Annotated[str, Field(min_length=1, max_length=500)]] = Field(
        min_length=1, max_length=10, description="why the dossier is late (printed on Mẫu 04)"
    )


class SupplementRequest(BaseModel):
    missing: list[str] = Field(min_length=1, max_length=50, description="component keys")


class ReturnRequest(BaseModel):
    collected_by: str | None = Field(None, max_length=200, description="who collected it")
    method: Literal["truc-tiep", "buu-chinh", "truc-tuyen"] = Field(
        "truc-tiep", description="in person, by post, online"
    )


__all__ = ["DocumentOut", "DossierDetail", "DossierSummary", "FieldRow", "StatusChangeOut",
           "_as_text", "_mask_text", "detail", "id_numbers", "masked_fields", "original_path",
           "shown_value", "summary", "template_fields"]  # fmt: skip


def _today() -> dt.date:
    return dt.datetime.now(VN_TZ).date()


# --- the operations, shared by pages and API --------------------------------------------------


def _get(services: Services, code: str) -> Dossier:
    try:
        return services.register.get(code)
    except BadArgumentError:
        raise NotFound(f"hồ sơ {code}") from None


def _find(
    services: Services,
    *,
    status: Status | None,
    procedure: str | None,
    received_from: dt.date | None,
    received_to: dt.date | None,
    q: str | None,
) -> list[Dossier]:
    """Newest first; `q` matches the code or the citizen's name, with or without diacritics."""
    found = services.register.list(
        statuses=[status] if status else [],
        procedure_key=procedure or None,
        received_from=_bounded(received_from),
        received_to=_bounded(received_to),
    )
    if q and q.strip():
        needle = fold(q)
        found = [
            d for d in found if needle in d.code.casefold() or needle in fold(d.citizen_name or "")
        ]
    return list(reversed(found))


def _request_supplement(
    services: Services, principal: Principal, code: str, missing: Sequence[str]
) -> Dossier:
    _get(services, code)
    return ops.request_supplement(services.core, code, missing, actor=principal.actor).dossier


def _mark_returned(
    services: Services, principal: Principal, code: str, body: ReturnRequest | None = None
) -> Dossier:
    _get(services, code)
    body = body or ReturnRequest(collected_by=None, method="truc-tiep")
    outcome = ops.mark_returned(services.core, code, actor=principal.actor,
                                collected_by=body.collected_by, method=body.method)  # fmt: skip
    return outcome.dossier


def _clerk(principal: Principal) -> str | None:
    return principal.display_name if principal.kind == "user" else None


def _notice_pdf(services: Services, principal: Principal, code: str, which: str) -> Response:
    """Mẫu 01 (`receipt`) or Mẫu 02 (`supplement`), printed again for the counter."""
    _get(services, code)
    content = ops.printed_notice(services.core, code, which, actor=principal.actor,
                                 clerk_name=_clerk(principal))  # fmt: skip
    name = "phieu-tiep-nhan" if which == "receipt" else "phieu-yeu-cau-bo-sung"
    return _pdf_response(content, f"{name}-{code}.pdf")


def _apology(
    services: Services,
    principal: Principal,
    code: str,
    new_due_date: dt.date,
    reasons: Sequence[str],
) -> Response:
    """Record a late dossier's apology and new date, and return Mẫu 04 to print and sign."""
    _get(services, code)
    outcome = ops.apologise(services.core, code, new_due_date, reasons, actor=principal.actor)
    content = outcome.forms["apology_pdf"].read_bytes()
    return _pdf_response(content, f"phieu-xin-loi-{code}.pdf")


def _pdf_response(content: bytes, filename: str) -> Response:
    return Response(
        content,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


def _parse_day(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise BadArgumentError(
            f"{value!r} không phải ngày (not a date)", hint="YYYY-MM-DD"
        ) from None


# The register turns a day into a UTC instant (the next day's for the end of a range), which
# overflows on the first and last days a `date` can hold; no dossier is that old or that late.
_FIRST_DAY = dt.date.min + dt.timedelta(days=1)
_LAST_DAY = dt.date.max - dt.timedelta(days=1)


def _bounded(day: dt.date | None) -> dt.date | None:
    return None if day is None else min(max(day, _FIRST_DAY), _LAST_DAY)


# --- API ------------------------------------------------------------------------------------


@api.get(
    "",
    response_model=list[DossierSummary],
    responses={200: {"headers": PAGING_HEADERS}},
    summary="List and filter dossiers (filtered and paged in SQL; total and next page in headers)",
)
def api_list(
    request: Request,
    response: Response,
    principal: Reader,
    status: Status | None = None,
    procedure: Annotated[str | None, Query(max_length=120)] = None,
    received_from: dt.date | None = None,
    received_to: dt.date | None = None,
    q: Annotated[str | None, Query(max_length=200, description="code or name")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Annotated[int, Query(ge=0, description="ignored with `cursor`")] = 0,
    cursor: Annotated[
        str | None, Query(max_length=200, description="the previous page's X-Next-Cursor")
    ] = None,
    updated_since: Annotated[
        dt.datetime | None, Query(description="changed at or after (ISO 8601 with offset)")
    ] = None,
    sort: Annotated[
        Literal["received", "received_asc", "due", "updated"],
        Query(
            description="received: newest first; due: earliest due date first, none last; "
            "updated: least recently changed first"
        ),
    ] = "received",
) -> list[DossierSummary]:
    services = services_of(request)
    query = ListQuery(
        statuses=(status,) if status else (),
        procedure_key=procedure or None,
        received_from=_bounded(received_from),
        received_to=_bounded(received_to),
        q=q,
        updated_since=as_instant(updated_since),
        sort=sort,
    )
    found = services.register.page(query, limit=limit, cursor=cursor or None, offset=offset)
    response.headers["X-Total-Count"] = str(found.total)
    if found.next_cursor is not None:
        response.headers["X-Next-Cursor"] = found.next_cursor
        after = request.url.remove_query_params(["cursor", "offset"])
        after = after.include_query_params(cursor=found.next_cursor)
        response.headers["Link"] = f'<{after}>; rel="next"'
    return [summary(services, d) for d in found.items]


@api.get("/{code}", response_model=DossierDetail, summary="One dossier")
def api_show(request: Request, principal: Reader, code: str) -> DossierDetail:
    services = services_of(request)
    return detail(services, _get(services, code), reveal=principal.can(Permission.dossiers_update))


@api.post(
    "/{code}/supplement-request",
    response_model=DossierDetail,
    summary="Ask the citizen for missing components (Mẫu 02)",
)
def api_request_supplement(
    request: Request, principal: Updater, code: str, body: SupplementRequest
) -> DossierDetail:
    services = services_of(request)
    updated = _request_supplement(services, principal, code, body.missing)
    return detail(services, updated, reveal=True)


@api.post("/{code}/returned", response_model=DossierDetail, summary="Result handed to the citizen")
def api_mark_returned(
    request: Request, principal: Updater, code: str, body: ReturnRequest | None = None
) -> DossierDetail:
    services = services_of(request)
    return detail(services, _mark_returned(services, principal, code, body), reveal=True)


@api.get(
    "/{code}/receipt.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
    summary="The receipt and appointment (Mẫu 01)",
)
def api_receipt(request: Request, principal: ReceiptReader, code: str) -> Response:
    return _notice_pdf(services_of(request), principal, code, "receipt")


@api.get(
    "/{code}/supplement-request.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
    summary="The request to supplement the dossier (Mẫu 02)",
)
def api_supplement_pdf(request: Request, principal: ReceiptReader, code: str) -> Response:
    return _notice_pdf(services_of(request), principal, code, "supplement")


@api.post(
    "/{code}/apology",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
    summary="Record a late dossier's new date; returns the apology letter (Mẫu 04)",
)
def api_apology(request: Request, principal: Updater, code: str, body: ApologyRequest) -> Response:
    return _apology(services_of(request), principal, code, body.new_due_date, body.reasons)


# --- pages ----------------------------------------------------------------------------------


@pages.get("/dossiers")
def list_page(
    request: Request,
    principal: Reader,
    status: str | None = None,
    procedure: str | None = None,
    received_from: str | None = None,
    received_to: str | None = None,
    q: str | None = None,
    view: Annotated[str | None, Query(max_length=40)] = None,
    sort: Annotated[str | None, Query(max_length=20)] = None,
    assignee: Annotated[str | None, Query(max_length=64)] = None,
    page: Annotated[int, Query(ge=1)] = 1,
) -> Response:
    services = services_of(request)
    chosen_status = Status(status) if status and status in Status.__members__ else None
    found = _find(services, status=chosen_status, procedure=procedure,
                  received_from=_parse_day(received_from), received_to=_parse_day(received_to),
                  q=q)  # fmt: skip
    chosen_view = saved_views.BY_KEY.get(view or "")
    if chosen_view is not None:
        today = dt.datetime.now(VN_TZ).date()
        waits = _waits_for_leader(services)
        found = [d for d in found if chosen_view.test(d, today, waits)]
    if assignee:
        found = [d for d in found if d.assignee == assignee.strip().lower()]
    chosen_sort = sort if sort in saved_views.SORTS else "moi-nhat"
    if chosen_sort == "han-tra":
        found = saved_views.by_due_date(found)
    pages_total = max(1, -(-len(found) // PAGE_SIZE))
    shown = found[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    return render(
        request,
        "dossiers.html",
        {
            "rows": [summary(services, d) for d in shown],
            "total": len(found),
            "page": page,
            "pages_total": pages_total,
            "statuses": list(Status),
            "procedures": list(services.catalogue),
            "views": saved_views.VIEWS,
            "view": chosen_view.key if chosen_view else "",
            "sorts": saved_views.SORTS,
            "sort": chosen_sort,
            "filters": {
                "status": chosen_status.value if chosen_status else "",
                "procedure": procedure or "",
                "received_from": received_from or "",
                "received_to": received_to or "",
                "q": q or "",
                "assignee": assignee or "",
            },
        },
    )


def _waits_for_leader(services: Services) -> Callable[[Dossier], bool]:
    def waits(dossier: Dossier) -> bool:
        office = services.flows_office()  # Prefect configured before flows.result imports it
        from flows import result_requests
        from flows.result import waits_for_leader

        return waits_for_leader(dossier, result_requests.current_draft(office, dossier.code))

    return waits


@pages.get("/dossiers/{code}")
def show_page(request: Request, principal: Reader, code: str) -> Response:
    services = services_of(request)
    dossier = _get(services, code)
    view = detail(services, dossier, reveal=principal.can(Permission.dossiers_update))
    try:
        procedure = services.catalogue.get(dossier.procedure_key)
        components = list(procedure.components)
        states = dossier.components(procedure)
    except MotcuaError:
        components, states = [], []
    names = account_names(services)
    review = {
        doc.position: {
            "rows": field_rows(services, doc, names),
            "pages": range(1, min(doc.page_count or 1, MAX_PAGES_SHOWN) + 1),
            "more_pages": (doc.page_count or 1) > MAX_PAGES_SHOWN,
            "has_original": original_path(services.settings, dossier.code, raw.position, raw.path)
            is not None,
        }
        for doc, raw in zip(view.documents, dossier.documents, strict=True)
    }
    return render(
        request,
        "dossier.html",
        {
            "d": view,
            "components": components,
            "procedure_components": components,
            "component_states": states,
            "missing_labels": [
                services.component_label(dossier.procedure_key, k)
                for k in dossier.missing_components
            ],
            "can_confirm_components": dossier.status in BEFORE_ACCEPTANCE,
            "can_take_supplement": dossier.status is Status.supplement_requested,
            "can_close": dossier.status not in RESOLVED | CLOSED,
            "review": review,
            # the form shows the values in full: only to who sees them in full and may correct
            "can_correct": principal.can(Permission.dossiers_update)
            and principal.can(Permission.dossiers_intake)
            and dossier.status not in RESOLVED | CLOSED,
            "can_accept": dossier.status is Status.received,
            "can_request_supplement": dossier.status in (Status.received, Status.processing),
            "can_return": dossier.status is Status.result_signed,
            "can_print_receipt": dossier.due_date is not None,
            "can_print_supplement": dossier.status is Status.supplement_requested,
            "can_apologise": dossier.due_date is not None
            and dossier.status not in RESOLVED | CLOSED,
            "result_actions": _result_actions(services, principal, dossier),
            # the citizen's rating at hand-over (routes.public), once the result was returned
            "rating": services.core.ratings.get(dossier.code)
            if dossier.status is Status.returned
            else None,
            **_desk(request, services, principal, dossier),
        },
    )


def _desk(
    request: Request, services: Services, principal: Principal, dossier: Dossier
) -> dict[str, Any]:
    """The timeline, the note form (with a draft that was refused) and the assignment."""
    from motcua.web.routes.desk import officers
    from motcua.web.timeline import timeline

    draft = request.session.pop("note_draft", None)
    names = {u.username: u.display_name for u in services.accounts.users()}
    return {
        "timeline": timeline(services, dossier.code),
        "note_draft": draft["text"] if draft and draft.get("code") == dossier.code else "",
        "can_note": principal.can(Permission.dossiers_note),
        "can_assign": principal.can(Permission.dossiers_assign)
        and dossier.status not in RESOLVED | CLOSED,
        "officers": officers(services),
        "assignee_login": dossier.assignee,
        "assignee_name": names.get(dossier.assignee, dossier.assignee)
        if dossier.assignee
        else None,
    }


def _result_actions(services: Services, principal: Principal, dossier: Dossier) -> dict[str, Any]:
    """Drafting and signing the result, for the dossier page (imported on use: it needs flows)."""
    from motcua.web.routes.results import result_actions

    return result_actions(services, principal, dossier)


@pages.post("/dossiers/{code}/supplement-request")
def supplement_form(
    request: Request,
    principal: Updater,
    code: str,
    missing: Annotated[list[str] | None, Form(max_length=50)] = None,
) -> Response:
    if not missing:
        flash(request, "Hãy chọn ít nhất một thành phần hồ sơ còn thiếu.", "error")
        return RedirectResponse(f"/dossiers/{code}", status_code=303)
    _request_supplement(services_of(request), principal, code, missing)
    flash(request, f"Đã ghi nhận yêu cầu bổ sung hồ sơ {code}.")
    return RedirectResponse(f"/dossiers/{code}", status_code=303)


@pages.post("/dossiers/{code}/returned")
def returned_form(
    request: Request,
    principal: Updater,
    code: str,
    collected_by: Annotated[str, Form(max_length=200)] = "",
    method: Annotated[str, Form(max_length=20)] = "truc-tiep",
) -> Response:
    if method not in ops.RETURN_METHODS:
        method = "truc-tiep"
    body = ReturnRequest(collected_by=collected_by or None, method=method)  # type: ignore[arg-type]
    _mark_returned(services_of(request), principal, code, body)
    flash(request, f"Đã ghi nhận trả kết quả hồ sơ {code}.")
    return RedirectResponse(f"/dossiers/{code}", status_code=303)


@pages.get("/dossiers/{code}/receipt.pdf")
def receipt_page(request: Request, principal: ReceiptReader, code: str) -> Response:
    return _notice_pdf(services_of(request), principal, code, "receipt")


@pages.get("/dossiers/{code}/supplement-request.pdf")
def supplement_pdf_page(request: Request, principal: ReceiptReader, code: str) -> Response:
    return _notice_pdf(services_of(request), principal, code, "supplement")


@pages.post("/dossiers/{code}/apology")
def apology_form(
    request: Request,
    principal: Updater,
    code: str,
    new_due_date: Annotated[str, Form(max_length=20)],
    reasons: Annotated[str, Form(max_length=2000)],
) -> Response:
    day = _parse_day(new_due_date)
    if day is None or not reasons.strip():
        flash(request, "Hãy nhập ngày hẹn mới và lý do chậm trả kết quả.", "error")
        return RedirectResponse(f"/dossiers/{code}", status_code=303)
    lines = [line for line in reasons.splitlines() if line.strip()]
    return _apology(services_of(request), principal, code, day, lines)
