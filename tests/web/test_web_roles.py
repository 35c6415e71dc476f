"""The role matrix: every route declares one permission, and every role is refused where it
does not belong (401/403 under /api/, sign-in redirect or 403 page elsewhere)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from web_helpers import ROLES, WebWorld, csrf_header

from motcua.web.auth import PERMISSION_OF
from motcua.web.permissions import (
    ALL_ROLES,
    EOFFICE,
    LEGACY_SCOPES,
    ROLE_MATRIX,
    Permission,
    Role,
    scope_allows,
)

# Routes anyone may reach: the sign-in form and the liveness probe.
PUBLIC = {("GET", "/"), ("GET", "/login"), ("POST", "/login"), ("GET", "/healthz"),
          # the citizen's status page behind the receipt's QR (routes/public.py): no account
          ("GET", "/tra-cuu"), ("GET", "/tra-cuu/{token}"),
          ("POST", "/tra-cuu/{token}/danh-gia")}  # fmt: skip


def _flat(routes: list[Any]) -> list[Any]:
    """Routes of included routers too (FastAPI 0.149 keeps them behind `_IncludedRouter`)."""
    out: list[Any] = []
    for route in routes:
        inner = getattr(route, "original_router", None)
        out.extend(_flat(inner.routes) if inner is not None else [route])
    return out


def _routes(world: WebWorld) -> list[tuple[str, str, Permission | None]]:
    out = []
    for route in _flat(world.app.routes):
        if not isinstance(route, APIRoute):
            continue
        permissions = [
            PERMISSION_OF[d.call] for d in route.dependant.dependencies if d.call in PERMISSION_OF
        ]
        assert len(permissions) <= 1, f"{route.path} names several permissions"
        for method in sorted(route.methods):
            out.append((method, route.path, permissions[0] if permissions else None))
    return out


def test_every_route_but_sign_in_declares_a_permission(shared_world: WebWorld) -> None:
    routes = _routes(shared_world)
    assert len(routes) >= 20
    missing = [(m, p) for m, p, perm in routes if perm is None and (m, p) not in PUBLIC]
    assert missing == []
    declared = {perm for _, _, perm in routes if perm is not None}
    assert declared == set(Permission), "a permission in the matrix guards no route"


def test_every_permission_refuses_some_role() -> None:
    assert set(ROLE_MATRIX) == set(Permission)
    for permission, roles in ROLE_MATRIX.items():
        if permission in (Permission.self_read, Permission.dossiers_read):
            assert set(roles) == set(ALL_ROLES)  # every signed-in principal; anonymous refused
            continue
        assert set(ALL_ROLES) - set(roles), f"{permission} refuses nobody"
    assert ROLE_MATRIX[Permission.accounts_manage] == {Role.admin.value}
    assert ROLE_MATRIX[Permission.audit_read] == {Role.admin.value, Role.archivist.value}


def _concrete(path: str, world: WebWorld) -> str:
    return (
        path.replace("{code}", world.complete.code)
        .replace("{name}", "no-such-token")
        .replace("{record_id}", "no-such-record")
    )


def _call(client: TestClient, method: str, url: str, headers: dict[str, str]) -> int:
    body = {"json": {"missing": ["cccd"]}} if url.startswith("/api/") else {}
    if method == "POST" and not url.startswith("/api/"):
        body = {"data": {"missing": "cccd", "name": "x-role-test"}}
    response = client.request(method, url, headers=headers, follow_redirects=False, **body)
    if response.status_code == 303:
        location = response.headers["location"]
        return 401 if location.startswith("/login?") else 303
    return response.status_code


@pytest.mark.parametrize("who", [*ROLES, EOFFICE, "anonymous"])
def test_role_matrix(who: str, shared_world: WebWorld, clients: dict[str, TestClient]) -> None:
    """Each (route, principal) pair: refused exactly when the matrix says so.

    Refusal is 401 (API) or a redirect to /login (page) without credentials, 403 with the wrong
    role. API tokens count only under /api/: on pages they are as good as no credentials.
    """
    anonymous = TestClient(shared_world.app)
    checked = 0
    for method, path, permission in _routes(shared_world):
        if permission is None or path == "/logout":
            continue  # signing out would end the shared clients' sessions
        url = _concrete(path, shared_world)
        api = path.startswith("/api/")
        if who == "anonymous" or (who == EOFFICE and not api):
            client, headers = anonymous, {}
            expected_refusal: int | None = 401
        elif who == EOFFICE:
            client = anonymous
            headers = {"Authorization": f"Bearer {shared_world.token}"}
            # the world's token is one from before scopes: it reads and fetches results
            held = EOFFICE in ROLE_MATRIX[permission] and scope_allows(LEGACY_SCOPES, permission)
            expected_refusal = None if held else 403
        else:
            client, headers = clients[who], csrf_header(clients[who])
            expected_refusal = None if who in ROLE_MATRIX[permission] else 403
        status = _call(client, method, url, headers)
        if expected_refusal is None:
            assert status not in (401, 403), f"{who} refused on {method} {path}: {status}"
            assert status < 500, f"{who} on {method} {path}: server error {status}"
        else:
            assert status == expected_refusal, f"{who} on {method} {path}: {status}"
        checked += 1
    assert checked >= 18


def test_api_refusals_are_json_and_pages_redirect(
    shared_world: WebWorld, clients: dict[str, TestClient]
) -> None:
    anonymous = TestClient(shared_world.app)
    r = anonymous.get("/api/v1/audit")
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"
    assert r.json()["detail"] == "not authenticated"
    r = anonymous.get("/audit?target_id=x", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=/audit%3Ftarget_id%3Dx"
    r = clients["clerk"].get("/api/v1/audit")
    assert r.status_code == 403
    assert "audit.read" in r.json()["detail"]
    r = clients["clerk"].get("/audit")
    assert r.status_code == 403
    assert "Không có quyền truy cập" in r.text
    r = anonymous.get("/api/v1/me", headers={"Authorization": f"Bearer {shared_world.token}"})
    assert r.status_code == 200
    assert r.json()["role"] == EOFFICE
    assert "dossiers.update" not in r.json()["permissions"]


def test_navigation_shows_only_what_the_role_may_open(
    shared_world: WebWorld, clients: dict[str, TestClient]
) -> None:
    pages = {role: clients[role].get("/dossiers").text for role in ROLES}
    assert 'href="/audit"' not in pages["clerk"]
    assert 'href="/audit"' in pages["archivist"]
    assert 'href="/reports/on-time"' in pages["leader"]
    assert 'href="/reports/on-time"' not in pages["archivist"]
    assert 'href="/accounts"' in pages["admin"]
    assert all('href="/accounts"' not in pages[r] for r in ("clerk", "leader", "archivist"))


def test_security_headers_and_openapi_auth(shared_world: WebWorld) -> None:
    client = TestClient(shared_world.app)
    for url in ("/login", "/api/v1/dossiers", "/openapi.json"):
        headers = client.get(url).headers
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"
    spec = client.get("/openapi.json").json()
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert {"bearerAuth": []} in spec["security"]
    assert all(path.startswith("/api/v1/") for path in spec["paths"])
    assert client.get("/api/docs").status_code == 404  # no CDN-hosted Swagger UI
