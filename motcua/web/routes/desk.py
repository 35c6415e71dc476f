"""Notes on a dossier and its assignment to an officer (chuyên viên xử lý), from the dossier page.

The door checks who may be assigned (an active account of the officer role: the accounts live
here); `flows.desk` does the work and journals it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from dossiers.notes import MAX_NOTE
from flows import desk
from motcua.errors import BadArgumentError, MotcuaError
from motcua.web.accounts import User
from motcua.web.auth import Principal, require, services_of
from motcua.web.pages import flash
from motcua.web.permissions import Permission, Role
from motcua.web.services import Services

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1/dossiers", tags=["hồ sơ"])

NoteWriter = Annotated[Principal, Depends(require(Permission.dossiers_note))]
Assigner = Annotated[Principal, Depends(require(Permission.dossiers_assign))]

NOTES_ANCHOR = "#ghi-chu"


def officers(services: Services) -> list[User]:
    """Who a dossier may be assigned to: active accounts of the officer role, by name."""
    chosen = [u for u in services.accounts.users() if u.active and u.role is Role.officer]
    return sorted(chosen, key=lambda u: u.display_name)


@pages.post("/dossiers/{code}/notes")
def add_note(
    request: Request,
    principal: NoteWriter,
    code: str,
    text: Annotated[str, Form(max_length=MAX_NOTE * 2)] = "",
) -> Response:
    services = services_of(request)
    try:
        desk.add_note(services.core, code, text, actor=principal.actor)
    except BadArgumentError as exc:
        # keep what was typed: the form shows it again under the message
        request.session["note_draft"] = {"code": code, "text": text[: MAX_NOTE * 2]}
        flash(request, f"Chưa lưu ghi chú: {exc.message}.", "error")
    else:
        request.session.pop("note_draft", None)
        flash(request, "Đã lưu ghi chú.")
    return RedirectResponse(f"/dossiers/{code}{NOTES_ANCHOR}", status_code=303)


@pages.post("/dossiers/{code}/assignee")
def assign(
    request: Request,
    principal: Assigner,
    code: str,
    assignee: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    services = services_of(request)
    login = assignee.strip().lower()
    chosen = {u.username: u for u in officers(services)}
    if login and login not in chosen:
        flash(request, "Chỉ giao hồ sơ cho tài khoản chuyên viên xử lý đang hoạt động.", "error")
        return RedirectResponse(f"/dossiers/{code}{NOTES_ANCHOR}", status_code=303)
    try:
        desk.assign(services.core, code, login or None, actor=principal.actor)
    except MotcuaError as exc:
        flash(request, f"Chưa phân công: {exc.message}.", "error")
    else:
        who = chosen[login].display_name if login else None
        flash(request, f"Đã giao hồ sơ {code} cho {who}." if who else f"Hồ sơ {code} chưa giao ai.")
    return RedirectResponse(f"/dossiers/{code}{NOTES_ANCHOR}", status_code=303)
