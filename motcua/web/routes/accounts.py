"""Accounts for admins: users (created with `motcua users add`) and the e-office API tokens."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel

from motcua.web import access
from motcua.web.auth import Principal, require, services_of
from motcua.web.pages import flash, render
from motcua.web.permissions import LEGACY_SCOPES, Permission

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


def _page(request: Request, new_token: dict[str, str] | None = None) -> Response:
    accounts = services_of(request).accounts
    return render(request, "accounts.html",
                  {"users": accounts.users(), "tokens": accounts.tokens(),
                   "new_token": new_token})  # fmt: skip


@pages.post("/accounts/tokens")
def create_token(
    request: Request,
    principal: Admin,
    name: Annotated[str, Form(max_length=120)],
    scope: Annotated[list[str] | None, Form()] = None,
    expires_days: Annotated[float | None, Form(gt=0, le=3650)] = None,
) -> Response:
    services = services_of(request)
    token, secret = access.create_token(services.accounts, services.audit,
                                        actor=principal.actor, name=name.strip(),
                                        scopes=scope or list(LEGACY_SCOPES),
                                        expires_days=expires_days)  # fmt: skip
    # Shown once, in this response only: the secret is stored nowhere, not even in the session.
    return _page(request, new_token={"name": token.name, "secret": secret})


@pages.post("/accounts/tokens/{name}/revoke")
def revoke_token(request: Request, principal: Admin, name: str) -> Response:
    services = services_of(request)
    access.revoke_token(services.accounts, services.audit, actor=principal.actor, name=name)
    flash(request, f"Đã thu hồi khóa truy cập {name}.")
    return RedirectResponse("/accounts", status_code=303)
