"""Who is asking, and may they: the single dependency `require(permission)`.

A request is authenticated by exactly one means: an `Authorization: Bearer` API token (only
under `/api/`; the session is then ignored) or the signed session cookie of a signed-in user.
`require` looks the principal up, checks the role matrix and raises `NotSignedIn` or `Forbidden`;
the app turns these into 401/403 JSON under `/api/` and a redirect to the sign-in page or a 403
page elsewhere. The session secret comes from settings or is generated once under MOTCUA_HOME.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import logging
import os
import secrets
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from fastapi import Request

from motcua.web.permissions import EOFFICE, Permission, Role, allowed, scope_allows

if TYPE_CHECKING:
    from motcua.settings import Settings
    from motcua.web.services import Services

log = logging.getLogger("motcua.web.auth")

SESSION_KEY_FILE = "web-session.key"
API_PREFIX = "/api/"


@dataclass(frozen=True)
class Principal:
    kind: Literal["user", "token"]
    name: str  # user name or token name
    role: str  # a Role value, or "eoffice" for tokens
    display_name: str
    user_id: int | None = None
    scopes: tuple[str, ...] = ()  # a token's scopes (intake, read, results)

    @property
    def actor(self) -> str:
        """How the journal names this principal: `user:<login>`, `eoffice:<token name>`."""
        return f"{'eoffice' if self.kind == 'token' else self.kind}:{self.name}"

    @property
    def role_label(self) -> str:
        return Role(self.role).label_vi if self.role in Role.__members__ else "Hệ thống e-office"

    def can(self, permission: Permission) -> bool:
        """The role holds `permission`, and for a token one of its scopes grants it."""
        if self.kind == "token" and not scope_allows(self.scopes, permission):
            return False
        return allowed(self.role, permission)


class NotSignedIn(Exception):
    """No valid session or token."""


class Forbidden(Exception):
    """Signed in, but the role does not hold the permission."""

    def __init__(self, permission: Permission) -> None:
        super().__init__(permission.value)
        self.permission = permission


def is_api(request: Request) -> bool:
    return request.url.path.startswith(API_PREFIX)


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def current_principal(request: Request) -> Principal | None:
    """The principal behind this request, or None; looked up once per request."""
    if "principal" in request.scope:
        cached: Principal | None = request.scope["principal"]
        return cached
    principal = _lookup(request)
    request.scope["principal"] = principal
    return principal


def _lookup(request: Request) -> Principal | None:
    services = services_of(request)
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, secret = header.partition(" ")
        if not is_api(request) or scheme.lower() != "bearer":
            return None
        token = services.accounts.token_by_secret(secret.strip())
        if token is None:
            return None
        return Principal("token", token.name, EOFFICE, token.name, scopes=token.scopes)
    user_id = request.session.get("uid")
    if not isinstance(user_id, int):
        return None
    user = services.accounts.user_by_id(user_id)
    if user is None or not user.active or request.session.get("epoch") != user.session_epoch:
        request.session.clear()
        return None
    return Principal("user", user.username, user.role.value, user.display_name, user.id)


# Each permission has exactly one dependency object, so a route's permission can be read back
# from its dependencies (the role-matrix test walks every route this way).
PERMISSION_OF: dict[Callable[[Request], Principal], Permission] = {}


@functools.cache
def require(permission: Permission) -> Callable[[Request], Principal]:
    """The FastAPI dependency that admits principals whose role holds `permission`."""

    def dependency(request: Request) -> Principal:
        principal = current_principal(request)
        if principal is None:
            raise NotSignedIn()
        if not principal.can(permission):
            raise Forbidden(permission)
        return principal

    dependency.__name__ = f"require_{permission.name}"
    PERMISSION_OF[dependency] = permission
    return dependency


def session_secret(settings: Settings) -> str:
    """`MOTCUA_WEB_SESSION_SECRET`, else a secret generated once in MOTCUA_HOME (mode 0600)."""
    if settings.web_session_secret is not None and settings.web_session_secret.get_secret_value():
        return settings.web_session_secret.get_secret_value()
    path = settings.home / SESSION_KEY_FILE
    if not path.exists():
        settings.home.mkdir(parents=True, exist_ok=True)
        _create_secret_file(path)
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        log.warning("%s was readable by others (mode %o); setting 0600", path, mode)
        os.chmod(path, 0o600)
    return path.read_text(encoding="ascii").strip()


def _create_secret_file(path: Path) -> None:
    """Write a new secret atomically; if another process won the race, keep theirs."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".web-session-")  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(secrets.token_urlsafe(48) + "\n")
        with contextlib.suppress(FileExistsError):  # another process wrote it first: keep theirs
            os.link(tmp, path)
    finally:
        os.unlink(tmp)


def derived_key(secret: str, purpose: str) -> str:
    """A separate key per purpose (sessions, CSRF) from the one secret."""
    return hmac.new(secret.encode(), purpose.encode(), hashlib.sha256).hexdigest()
