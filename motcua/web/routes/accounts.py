"""Accounts for admins: users (added, disabled, enabled, given a new password or role here or
with `motcua users`) and the e-office API tokens."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel

from motcua.errors import MotcuaError
from motcua.web import access
from motcua.web.auth import Principal, require, services_of
from motcua.web.pages import flash, for_readers, render
from motcua.web.permissions import LEGACY_SCOPES, Permission, Role

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1/accounts", tags=["tài khoản"])

Admin = Annotated[Principal, Depends(require(Permission.accounts_manage))]


class UserOut(BaseModel):
    username: str
    full_name: str | None
    role: str
    active: bool
    created_at: dt.datetime
    last_login_at: dt.datetime | None


class TokenOut(BaseModel):
    name: str
    prefix: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None
    scopes: list[str]
    expires_at: dt.datetime | None


@api.get("/users", response_model=list[UserOut], summary="Local accounts")
def api_users(request: Request, principal: Admin) -> list[UserOut]:
    return [
        UserOut(
            username=u.username,
            full_name=u.full_name,
            role=u.role.value,
            active=u.active,
            created_at=u.created_at,
            last_login_at=u.last_login_at,
        )
        for u in services_of(request).accounts.users()
    ]


@api.get("/tokens", response_model=list[TokenOut], summary="API tokens (never their secret)")
def api_tokens(request: Request, principal: Admin) -> list[TokenOut]:
    return [
        TokenOut(
            name=t.name,
            prefix=t.prefix,
            created_at=t.created_at,
            last_used_at=t.last_used_at,
            revoked_at=t.revoked_at,
            scopes=list(t.scopes),
            expires_at=t.expires_at,
        )
        for t in services_of(request).accounts.tokens()
    ]


@pages.get("/accounts")
def accounts_page(request: Request, principal: Admin) -> Response:
    return _page(request)


def _page(
    request: Request,
    new_token: dict[str, str] | None = None,
    *,
    error: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
) -> Response:
    """The page; after a refused change, `error` {"form", "message"} is shown beside that form
    and `typed` (never a password) fills it again."""
    accounts = services_of(request).accounts
    return render(request, "accounts.html",
                  {"users": accounts.users(), "tokens": accounts.tokens(),
                   "new_token": new_token, "roles": list(Role), "error": error or {},
                   "typed": typed or {}},
                  status=400 if error else 200)  # fmt: skip


def _refused(request: Request, form: str, exc: MotcuaError, typed: dict[str, str]) -> Response:
    return _page(request, error={"form": form, "message": for_readers(exc.message)}, typed=typed)


@pages.post("/accounts/users")
def add_user(
    request: Request,
    principal: Admin,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=200)],
    role: Annotated[str, Form(max_length=20)],
    full_name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    services = services_of(request)
    try:
        user = access.add_user(services.accounts, services.audit, actor=principal.actor,
                               username=username, password=password, role=role,
                               full_name=full_name or None)  # fmt: skip
    except MotcuaError as exc:
        typed = {"username": username, "full_name": full_name, "role": role}
        return _refused(request, "add", exc, typed)
    flash(request, f"Đã tạo tài khoản {user.username} ({user.role.label_vi}).")
    return RedirectResponse("/accounts", status_code=303)


@pages.post("/accounts/users/{name}/active")
def set_active(
    request: Request, principal: Admin, name: str, active: Annotated[str, Form(max_length=1)] = "0"
) -> Response:
    services = services_of(request)
    try:
        user = access.set_active(services.accounts, services.audit, actor=principal.actor,
                                 username=name, active=active == "1")  # fmt: skip
    except MotcuaError as exc:
        return _refused(request, f"user-{name}", exc, {})
    flash(request, f"Đã {'mở khóa' if user.active else 'khóa'} tài khoản {user.username}.")
    return RedirectResponse("/accounts", status_code=303)


@pages.post("/accounts/users/{name}/password")
def set_password(
    request: Request, principal: Admin, name: str, password: Annotated[str, Form(max_length=200)]
) -> Response:
    services = services_of(request)
    try:
        user = access.set_password(services.accounts, services.audit, actor=principal.actor,
                                   username=name, password=password)  # fmt: skip
    except MotcuaError as exc:
        return _refused(request, f"user-{name}", exc, {})
    flash(request, f"Đã đặt lại mật khẩu của {user.username}; các phiên đăng nhập cũ đã kết thúc.")
    return RedirectResponse("/accounts", status_code=303)


@pages.post("/accounts/users/{name}/role")
def set_role(
    request: Request, principal: Admin, name: str, role: Annotated[str, Form(max_length=20)]
) -> Response:
    services = services_of(request)
    try:
        user = access.set_role(services.accounts, services.audit, actor=principal.actor,
                               username=name, role=role)  # fmt: skip
    except MotcuaError as exc:
        return _refused(request, f"user-{name}", exc, {})
    flash(request, f"Tài khoản {user.username} nay có vai trò {user.role.label_vi}.")
    return RedirectResponse("/accounts", status_code=303)


@pages.post("/accounts/tokens")
def create_token(
    request: Request,
    principal: Admin,
    name: Annotated[str, Form(max_length=120)],
    scope: Annotated[list[str] | None, Form()] = None,
    expires_days: Annotated[float | None, Form(gt=0, le=3650)] = None,
) -> Response:
    services = services_of(request)
    try:
        token, secret = access.create_token(services.accounts, services.audit,
                                            actor=principal.actor, name=name.strip(),
                                            scopes=scope or list(LEGACY_SCOPES),
                                            expires_days=expires_days)  # fmt: skip
    except MotcuaError as exc:
        return _refused(request, "token", exc, {"name": name})
    # Shown once, in this response only: the secret is stored nowhere, not even in the session.
    return _page(request, new_token={"name": token.name, "secret": secret})


@pages.post("/accounts/tokens/{name}/revoke")
def revoke_token(request: Request, principal: Admin, name: str) -> Response:
    services = services_of(request)
    access.revoke_token(services.accounts, services.audit, actor=principal.actor, name=name)
    flash(request, f"Đã thu hồi khóa truy cập {name}.")
    return RedirectResponse("/accounts", status_code=303)
