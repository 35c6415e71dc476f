"""The citizen's pages, without an account: the dossier status behind the receipt's QR code.

- `GET /tra-cuu`: a form to type the lookup code printed beside the QR (`?ma=` sends it on).
- `GET /tra-cuu/{token}`: the status page (`flows.public.status_by_token`): procedure, status
  in plain Vietnamese, dates, what is missing, where to collect the result, initials only. An
  unknown or revoked token gets the same neutral page (404), never which of the two.

Lookups are limited per client address (`Services.lookup_limit`: every lookup;
`lookup_miss_limit`: unknown tokens, which then stop the address for a while even with a good
one): beyond them a 429 page with `Retry-After`. The pages set no cookie, carry `noindex`, and
are laid out for a phone first.

Stable ids (each also a `data-testid`): `status-procedure`, `status-label`, `status-explanation`,
`status-due`, `status-missing` (the list), `status-collect`, `status-initials`, `status-code`;
`lookup-form`, `lookup-code`, `lookup-submit`; `status-neutral` and `status-limited`.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from dossiers.public import normalise_token
from flows.public import STATUS_PATH, status_by_token
from motcua.web.auth import services_of
from motcua.web.csrf import TOKEN_KEY

pages = APIRouter(include_in_schema=False)
api = APIRouter(include_in_schema=False)  # the public pages have no API: the e-office has its own


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
    return _page(request, "public_status.html", {"s": status})
