"""Sign-in and sign-out, sessions, CSRF refusals, API tokens, the session secret file."""

from __future__ import annotations

import stat

from fastapi.testclient import TestClient
from sqlalchemy import text
from web_helpers import PASSWORD, WebWorld, csrf_from, csrf_header, make_settings, sign_in

from motcua.web.app import create_app
from motcua.web.auth import SESSION_KEY_FILE


def test_sign_in_and_out(world: WebWorld) -> None:
    client = TestClient(world.app)
    assert client.get("/dossiers", follow_redirects=False).status_code == 303
    form = client.get("/login?next=/dossiers/" + world.complete.code)
    assert "Đăng nhập" in form.text
    r = client.post(
        "/login",
        data={"username": "clerk", "password": PASSWORD, "csrftoken": csrf_from(form.text),
              "next": "/dossiers/" + world.complete.code},
        follow_redirects=False,
    )  # fmt: skip
    assert r.status_code == 303
    assert r.headers["location"] == "/dossiers/" + world.complete.code
    page = client.get(r.headers["location"])
    assert page.status_code == 200
    assert "Xin chào Cán bộ clerk." in page.text
    r = client.post("/logout", data={"csrftoken": csrf_from(page.text)}, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/login"
    assert client.get("/dossiers", follow_redirects=False).status_code == 303
    actions = [e.action for e in world.services.audit.entries(actor="user:clerk")]
    assert actions == ["auth.logout", "auth.login"]


def test_wrong_password_and_unknown_user_are_refused_alike(world: WebWorld) -> None:
    client = TestClient(world.app)
    token = csrf_from(client.get("/login").text)
    for username, password in [("clerk", "not-the-password"), ("nobody", PASSWORD)]:
        r = client.post("/login", data={"username": username, "password": password,
                                        "csrftoken": token}, follow_redirects=False)  # fmt: skip
        assert r.status_code == 401
        assert "Sai tên đăng nhập hoặc mật khẩu." in r.text
    assert client.get("/dossiers", follow_redirects=False).status_code == 303


def test_next_cannot_leave_the_site(world: WebWorld) -> None:
    for target in ["//evil.example/x", "https://evil.example/", "/\\evil.example"]:
        client = TestClient(world.app)  # each sign-in renews the CSRF token: one client each
        token = csrf_from(client.get("/login").text)
        r = client.post("/login", data={"username": "leader", "password": PASSWORD,
                                        "csrftoken": token, "next": target},
                        follow_redirects=False)  # fmt: skip
        assert r.headers["location"] == "/"


def test_disabling_a_user_or_changing_the_password_ends_their_sessions(world: WebWorld) -> None:
    clerk, leader = sign_in(world.app, "clerk"), sign_in(world.app, "leader")
    assert clerk.get("/dossiers").status_code == 200
    world.services.accounts.set_active("clerk", False)
    assert clerk.get("/dossiers", follow_redirects=False).status_code == 303
    world.services.accounts.set_password("leader", "mat-khau-moi-2026-x")
    assert leader.get("/dossiers", follow_redirects=False).status_code == 303
    sign_in(world.app, "leader", "mat-khau-moi-2026-x")


def test_csrf_refusals(world: WebWorld) -> None:
    code = world.complete.code
    # The sign-in form is protected even before any cookie exists.
    fresh = TestClient(world.app)
    r = fresh.post("/login", data={"username": "clerk", "password": PASSWORD})
    assert r.status_code == 403
    assert "CSRF" in r.text

    clerk = sign_in(world.app, "clerk")
    url = f"/dossiers/{code}/supplement-request"
    r = clerk.post(url, data={"missing": "cccd"}, follow_redirects=False)
    assert r.status_code == 403
    r = clerk.post(url, data={"missing": "cccd", "csrftoken": "forged"}, follow_redirects=False)
    assert r.status_code == 403
    r = clerk.post(f"/api/v1/dossiers/{code}/supplement-request", json={"missing": ["cccd"]})
    assert r.status_code == 403
    assert world.services.register.get(code).status.value == "received"
    r = clerk.post("/logout", follow_redirects=False)
    assert r.status_code == 403
    assert clerk.get("/dossiers").status_code == 200  # still signed in

    page = clerk.get(f"/dossiers/{code}")
    r = clerk.post(url, data={"csrftoken": csrf_from(page.text), "missing": "cccd"},
                   follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    assert world.services.register.get(code).status.value == "supplement_requested"


def test_api_tokens(world: WebWorld) -> None:
    client = TestClient(world.app)
    bearer = {"Authorization": f"Bearer {world.token}"}
    me = client.get("/api/v1/me", headers=bearer)
    assert me.status_code == 200
    assert me.json()["kind"] == "token"
    assert me.json()["name"] == "ioffice"
    listing = client.get("/api/v1/dossiers", headers=bearer)
    assert listing.status_code == 200
    assert {d["code"] for d in listing.json()} == {
        world.complete.code, world.incomplete.code, world.signed.code
    }  # fmt: skip
    wrong = {"Authorization": "Bearer " + world.token[:-2] + "xx"}
    assert client.get("/api/v1/me", headers=wrong).status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": "Basic abc"}).status_code == 401
    # Tokens open the API only, never the pages.
    assert client.get("/dossiers", headers=bearer, follow_redirects=False).status_code == 303
    # Only a hash is stored.
    with world.services.engine.connect() as conn:
        stored = conn.execute(text("SELECT token_hash, prefix FROM web_tokens")).one()
    assert world.token not in stored
    assert stored.prefix == world.token[:10]
    world.services.accounts.revoke_token("ioffice")
    assert client.get("/api/v1/me", headers=bearer).status_code == 401


def test_a_bearer_header_replaces_the_session(world: WebWorld) -> None:
    """A request carrying a bad token is not rescued by a valid session cookie."""
    admin = sign_in(world.app, "admin")
    assert admin.get("/api/v1/me").json()["role"] == "admin"
    r = admin.get("/api/v1/me", headers={"Authorization": "Bearer mct_forged"})
    assert r.status_code == 401


def test_admin_creates_a_token_shown_once(world: WebWorld) -> None:
    admin = sign_in(world.app, "admin")
    page = admin.get("/accounts")
    r = admin.post("/accounts/tokens", data={"name": "qoffice", "csrftoken": csrf_from(page.text)})
    assert r.status_code == 200
    secret = r.text.split('class="mono secret">')[1].split("<")[0]
    assert secret.startswith("mct_")
    assert secret not in admin.get("/accounts").text
    assert TestClient(world.app).get(
        "/api/v1/me", headers={"Authorization": f"Bearer {secret}"}
    ).json()["name"] == "qoffice"  # fmt: skip
    r = admin.post("/accounts/tokens/qoffice/revoke", headers=csrf_header(admin),
                   follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    actions = [e.action for e in world.services.audit.entries(target_kind="token")]
    assert actions == ["token.revoked", "token.created"]


def test_session_secret_is_generated_once_private_and_reused(world: WebWorld) -> None:
    key = world.home / SESSION_KEY_FILE
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    first = key.read_text()
    clerk = sign_in(world.app, "clerk")
    # A second app on the same home (a restart) keeps the secret, so sessions survive.
    restarted = create_app(make_settings(world.home))
    assert key.read_text() == first
    survivor = TestClient(restarted, cookies=clerk.cookies)
    assert survivor.get("/dossiers").status_code == 200
    other = create_app(make_settings(world.home, web_session_secret="configured-secret-xyz"))
    assert TestClient(other, cookies=clerk.cookies).get(
        "/dossiers", follow_redirects=False
    ).status_code == 303  # fmt: skip


def test_repeated_failures_make_that_address_wait_without_locking_the_name(
    world: WebWorld,
) -> None:
    """Issue 14: the old lockout (five failures refused even the right password from anywhere)
    let anyone keep an account locked; now the failing address waits, growing each time."""
    client = TestClient(world.app)
    token = csrf_from(client.get("/login").text)

    def attempt(username: str, password: str) -> int:
        data = {"username": username, "password": password, "csrftoken": token}
        return client.post("/login", data=data, follow_redirects=False).status_code

    assert [attempt("Clerk", f"sai-{i}-mat-khau") for i in range(3)] == [401] * 3
    assert attempt("clerk", PASSWORD) == 429  # from this address, even the right one, for now
    r = client.post("/login", data={"username": "clerk", "password": PASSWORD,
                                    "csrftoken": token})  # fmt: skip
    assert "Đăng nhập sai quá nhiều lần" in r.text
    assert r.headers["retry-after"] == "1"
    assert attempt("leader", PASSWORD) == 303  # other accounts are not held back
    sign_in(world.app, "clerk", address=("192.0.2.10", 50000))  # nor this one from elsewhere
