"""Rendering server-side pages: templates, filters, the per-page context, flash messages."""

from __future__ import annotations

import datetime as dt
import re
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
    env.filters["for_readers"] = for_readers
    env.filters["hint_for_readers"] = hint_for_readers
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
        "journal": services.journal_labels(),
    }
    templates: Jinja2Templates = request.app.state.templates
    response: HTMLResponse = templates.TemplateResponse(
        request, template, {**base, **(context or {})}, status_code=status
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def flash(request: Request, message: str, kind: str = "info") -> None:
    """A message shown once on the next page (as `for_readers` words it). The list is set
    anew, not appended to: the session notices only assignments, and a message added to one
    still waiting would be lost."""
    waiting = list(request.session.get("flash", []))
    request.session["flash"] = [*waiting, {"kind": kind, "message": for_readers(message)}]


# An English gloss in brackets, as many domain messages carry for the logs and the API:
# "hồ sơ … đã có kết quả được ký (already signed)". No Vietnamese letter inside.
_ENGLISH_GLOSS = re.compile(r"\s*\((?=[^()]*[a-z]{3})[\x20-\x27\x2a-\x7e]*\)")
_SERVER_PATH = re.compile(r"(?<![\w.])/(?:[\w.@+-]+/)+([\w.@+-]+)")


def for_readers(message: str) -> str:
    """A domain message as an officer reads it: English glosses in brackets dropped (the log
    and the API keep them), a server path shortened to its file name."""
    text = _ENGLISH_GLOSS.sub("", message)
    text = _SERVER_PATH.sub(lambda m: m.group(1), text)
    return text.strip() or message


def hint_for_readers(hint: str | None) -> str:
    """A hint worth showing an officer: Vietnamese (one written only in English is dropped)."""
    text = for_readers(hint or "")
    return text if any(ord(c) > 127 for c in text) else ""
