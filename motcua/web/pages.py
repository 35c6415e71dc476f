"""Rendering server-side pages: templates, filters, the per-page context, flash messages."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from dossiers.calendar import to_local
from motcua.types import vn_date
from motcua.web.auth import current_principal
from motcua.web.csrf import TOKEN_KEY
from motcua.web.permissions import Permission

if TYPE_CHECKING:
    from motcua.web.services import Services

HERE = Path(__file__).parent
LOGIN_PATH = "/login"


class NotFound(Exception):
    """A dossier, entry or page that does not exist: 404."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


def make_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=HERE / "templates")
    env = templates.env
    env.filters["vn_date"] = vn_date
    env.filters["vn_datetime"] = _vn_datetime
    env.globals["Permission"] = Permission
    return templates


def _vn_datetime(value: dt.datetime | str | None) -> str:
    """dd/mm/yyyy hh:mm in office time; ISO strings too, shown as they are if not times."""
    if isinstance(value, str):
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
        return f"{to_local(moment) if moment.tzinfo else moment:%d/%m/%Y %H:%M}"
    return "" if value is None else f"{to_local(value):%d/%m/%Y %H:%M}"


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, status: int = 200
) -> HTMLResponse:
    """Render a page with what every page needs: the user, the CSRF token, flash messages."""
    services: Services = request.app.state.services
    token_getter = request.scope.get(TOKEN_KEY)  # the session's (csrf.CsrfSessionBinding)
    flashes = request.session.pop("flash", [])
    base = {
        "principal": current_principal(request),
        "csrf_token": token_getter() if token_getter else "",
        "flashes": flashes,
        "office_name": services.settings.office_name,
    }
    templates: Jinja2Templates = request.app.state.templates
    response: HTMLResponse = templates.TemplateResponse(
        request, template, {**base, **(context or {})}, status_code=status
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def flash(request: Request, message: str, kind: str = "info") -> None:
    """A message shown once on the next page."""
    request.session.setdefault("flash", []).append({"kind": kind, "message": message})
