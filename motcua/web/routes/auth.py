"""Sign-in and sign-out pages; `GET /api/v1/me`."""

from __future__ import annotations

import asyncio
import logging
import math
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from motcua.web import access
from motcua.web.auth import Principal, current_principal, require, services_of
from motcua.web.pages import LOGIN_PATH, flash, render
from motcua.web.permissions import Permission

log = logging.getLogger("motcua.web.auth")

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["tài khoản"])


def _safe_next(target: str | None) -> str:
    """Only a path on this site: no scheme, no host, no `//` (open-redirect guard)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@pages.get("/")
def home(request: Request) -> Response:
    principal = current_principal(request)
    if principal is None:
        return RedirectResponse(LOGIN_PATH, status_code=303)
    return RedirectResponse("/dossiers", status_code=303)


@pages.get(LOGIN_PATH)
def login_form(request: Request, next: str | None = None) -> Response:
    return render(request, "login.html", {"next": _safe_next(next), "error": None})


@pages.post(LOGIN_PATH)
async def login(
    request: Request,
    username: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=1000)],
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    # Held back here, on the event loop, so a guesser's requests occupy no worker thread.
    delay = services_of(request).sign_in_throttle.delay_for(username)
    if delay > 0:
        await asyncio.sleep(delay)
    return await run_in_threadpool(_sign_in, request, username, password, _safe_next(next))


def _sign_in(request: Request, username: str, password: str, next: str) -> Response:
    services = services_of(request)
    throttle = services.sign_in_throttle
    # The client as the proxy middleware left it: X-Forwarded-For counts only from trusted proxies.
    address = request.client.host if request.client else "unknown"
    verdict = throttle.check(username, address)
    if verdict.refused:
        log.warning("sign-in refused: too many failures for this %s",
                    "address" if verdict.by_address else "name from this address")  # fmt: skip
        wait = _vi_wait(verdict.retry_after)
        context = {"next": next, "username": username,
                   "error": f"Đăng nhập sai quá nhiều lần. Hãy thử lại sau {wait}."}  # fmt: skip
        response = render(request, "login.html", context, status=429)
        response.headers["Retry-After"] = str(math.ceil(verdict.retry_after))
        return response
    user = services.accounts.authenticate(username, password)
    if user is None:
        throttle.failed(username, address)
        log.info("failed sign-in")
        context = {"next": next, "error": "Sai tên đăng nhập hoặc mật khẩu.",
                   "username": username}  # fmt: skip
        return render(request, "login.html", context, status=401)
    throttle.succeeded(username, address)
    request.session.clear()  # nothing from before the sign-in survives it, not the CSRF token
    request.session.update({"uid": user.id, "epoch": user.session_epoch})
    request.scope.pop("principal", None)
    access.signed_in(services.audit, user)
    flash(request, f"Xin chào {user.display_name}.")
    return RedirectResponse(next, status_code=303)


def _vi_wait(seconds: float) -> str:
    whole = math.ceil(seconds)
    return f"{whole} giây" if whole < 120 else f"{math.ceil(whole / 60)} phút"


@pages.post("/logout")
def logout(
    request: Request,
    principal: Annotated[Principal, Depends(require(Permission.self_read))],
) -> Response:
    services = services_of(request)
    # Server-side: a copy of this cookie (or any other session of the account) is refused too.
    access.signed_out(services.accounts, services.audit, actor=principal.actor,
                      name=principal.name, user_id=principal.user_id)  # fmt: skip
    request.session.clear()
    return RedirectResponse(LOGIN_PATH, status_code=303)


class Me(BaseModel):
    kind: str
    name: str
    role: str
    display_name: str
    permissions: list[str]


@api.get("/me", response_model=Me, summary="Who is calling")
def me(principal: Annotated[Principal, Depends(require(Permission.self_read))]) -> Me:
    return Me(
        kind=principal.kind,
        name=principal.name,
        role=principal.role,
        display_name=principal.display_name,
        permissions=[p.value for p in Permission if principal.can(p)],
    )
