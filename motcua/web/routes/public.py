"""The citizen's pages, without an account: the dossier status behind the receipt's QR code.

- `GET /tra-cuu`: a form to type the lookup code printed beside the QR (`?ma=` sends it on).
- `GET /tra-cuu/{token}`: the status page (`flows.public.status_by_token`): procedure, status
  in plain Vietnamese, dates, what is missing, where to collect the result, initials only. An
  unknown or revoked token gets the same neutral page (404), never which of the two.

Lookups are limited per client address (`Services.lookup_limit`: every lookup;
`lookup_miss_limit`: unknown tokens, which then stop the address for a while even with a good
one): beyond them a 429 page with `Retry-After`. The pages set no cookie, carry `noindex`, and
are laid out for a phone first.

- `POST /tra-cuu/{token}/danh-gia` (`score` 1-5, `comment`): the citizen's satisfaction, once
  the result was returned, once per dossier (rate-limited like the lookups).
- At hand-over (permission `dossiers.update`): `POST /dossiers/{code}/satisfaction` (the form
  on the dossier page, `rating-form`) and `POST /api/v1/dossiers/{code}/satisfaction`.

Stable ids (each also a `data-testid`): `status-procedure`, `status-label`, `status-explanation`,
`status-due`, `status-missing` (the list), `status-collect`, `status-initials`, `status-code`;
`lookup-form`, `lookup-code`, `lookup-submit`; `status-neutral` and `status-limited`;
`rating-form`, `rating-1` … `rating-5`, `rating-comment`, `rating-submit`, `rating-done`.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from dossiers.public import PublicStatus, normalise_token
from dossiers.satisfaction import MAX_COMMENT, SCORE_VI, Rating
from flows.public import STATUS_PATH, rate, rate_by_token, status_by_token
from motcua.errors import BadArgumentError, CheckFailedError
from motcua.web.auth import Principal, require, services_of
from motcua.web.csrf import TOKEN_KEY
from motcua.web.pages import NotFound, flash
from motcua.web.permissions import Permission
from motcua.web.services import Services

pages = APIRouter(include_in_schema=False)
api = APIRouter()  # the hand-over rating; the status page itself has no API

Updater = Annotated[Principal, Depends(require(Permission.dossiers_update))]


def status_token(token: str) -> str:
    """The token as the page's own links carry it (normalised; the route checked it opens)."""
    return normalise_token(token) or ""


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _page(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status: int = 200,
    with_form: bool = False,
) -> HTMLResponse:
    """A public page: the office's name, and a CSRF token only where a form posts back (the
    token lives in the session cookie: a page without a form sets no cookie)."""
    services = services_of(request)
    token_getter = request.scope.get(TOKEN_KEY) if with_form else None
    base = {
        "office_name": services.settings.office_name,
        "csrf_token": token_getter() if token_getter else "",
        "lookup_path": STATUS_PATH,
    }
    templates: Jinja2Templates = request.app.state.templates
    response: HTMLResponse = templates.TemplateResponse(
        request, template, {**base, **(context or {})}, status_code=status
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _limited(request: Request, wait: float) -> Response:
    response = _page(request, "public_limited.html",
                     {"minutes": max(1, math.ceil(wait / 60))}, status=429)  # fmt: skip
    response.headers["Retry-After"] = str(max(1, math.ceil(wait)))
    return response


def _neutral(request: Request) -> Response:
    return _page(request, "public_neutral.html", status=404)


@pages.get(STATUS_PATH)
def lookup_page(
    request: Request, ma: Annotated[str | None, Query(max_length=64)] = None
) -> Response:
    """The lookup form; with `ma` (the code typed in), on to its status page."""
    if ma is None or not ma.strip():
        return _page(request, "public_lookup.html")
    token = normalise_token(ma)
    if token is None:
        return _page(request, "public_lookup.html",
                     {"error": "Mã tra cứu gồm 16 chữ và số, in bên dưới mã QR trên giấy tiếp "
                               "nhận hồ sơ. Hãy kiểm tra lại.", "typed": ma[:64]},
                     status=400)  # fmt: skip
    return RedirectResponse(f"{STATUS_PATH}/{token}", status_code=303)


@pages.get(STATUS_PATH + "/{token}")
async def status_page(request: Request, token: str) -> Response:
    services = services_of(request)
    address = _address(request)
    wait = max(services.lookup_miss_limit.blocked(address), services.lookup_limit.hit(address))
    if wait > 0:
        return _limited(request, wait)
    status = await run_in_threadpool(status_by_token, services.core, token)
    if status is None:
        services.lookup_miss_limit.hit(address)
        return _neutral(request)
    return _status(request, token, status, thanked="da-danh-gia" in request.query_params)


def _status(
    request: Request,
    token: str,
    status: PublicStatus,
    *,
    thanked: bool = False,
    error: str | None = None,
    code: int = 200,
) -> Response:
    return _page(request, "public_status.html",
                 {"s": status, "token": status_token(token), "thanked": thanked,
                  "rating_error": error, "score_labels": SCORE_VI},
                 status=code, with_form=status.can_rate)  # fmt: skip


@pages.post(STATUS_PATH + "/{token}/danh-gia")
async def rate_page(
    request: Request,
    token: str,
    score: Annotated[int, Form(ge=1, le=5)],
    comment: Annotated[str, Form(max_length=MAX_COMMENT)] = "",
) -> Response:
    """The citizen's rating from the status page, once the result was returned; once."""
    services = services_of(request)
    address = _address(request)
    wait = max(services.lookup_miss_limit.blocked(address), services.lookup_limit.hit(address))
    if wait > 0:
        return _limited(request, wait)

    def record() -> PublicStatus | str | None:
        try:
            if rate_by_token(services.core, token, score, comment) is None:
                return None
        except CheckFailedError as exc:
            return exc.message
        return status_by_token(services.core, token)

    outcome = await run_in_threadpool(record)
    if outcome is None:
        services.lookup_miss_limit.hit(address)
        return _neutral(request)
    if isinstance(outcome, str):
        status = await run_in_threadpool(status_by_token, services.core, token)
        if status is None:
            return _neutral(request)
        return _status(request, token, status, error=outcome, code=409)
    return RedirectResponse(f"{STATUS_PATH}/{status_token(token)}?da-danh-gia=1", status_code=303)


# --- at the desk: the clerk's tablet turned to the citizen at hand-over -----------------------


class RatingIn(BaseModel):
    score: int = Field(ge=1, le=5, description="1 very dissatisfied … 5 very satisfied")
    comment: str | None = Field(None, max_length=MAX_COMMENT, description="the citizen's words")


class RatingOut(BaseModel):
    dossier_code: str
    score: int
    via: str
    at: dt.datetime


def _rate_at_desk(services: Services, principal: Principal, code: str, body: RatingIn) -> Rating:
    try:
        services.register.get(code)
    except BadArgumentError:
        raise NotFound(f"hồ sơ {code}") from None
    return rate(services.core, code, body.score, body.comment, actor=principal.actor, via="desk")


@api.post(
    "/api/v1/dossiers/{code}/satisfaction",
    status_code=201,
    response_model=RatingOut,
    summary="The citizen's satisfaction at hand-over (1-5, once, after the return)",
    tags=["hồ sơ"],
    include_in_schema=True,
)
def api_rate(request: Request, principal: Updater, code: str, body: RatingIn) -> RatingOut:
    r = _rate_at_desk(services_of(request), principal, code, body)
    return RatingOut(dossier_code=r.dossier_code, score=r.score, via=r.via, at=r.at)


@pages.post("/dossiers/{code}/satisfaction")
def rate_form(
    request: Request,
    principal: Updater,
    code: str,
    score: Annotated[int, Form(ge=1, le=5)],
    comment: Annotated[str, Form(max_length=MAX_COMMENT)] = "",
) -> Response:
    services = services_of(request)
    try:
        _rate_at_desk(services, principal, code, RatingIn(score=score, comment=comment))
    except CheckFailedError as exc:
        flash(request, exc.message, "error")
    else:
        flash(request, f"Đã ghi đánh giá {score}/5 của người dân.", "ok")
    return RedirectResponse(f"/dossiers/{code}", status_code=303)
