"""Sessions that end on the server, CSRF bound to the session, sign-in throttling that slows a
guesser without locking the user out, X-Forwarded-* from trusted proxies only, Secure cookies,
and no-store on personal data (issue 14)."""

from __future__ import annotations

import time
from pathlib import Path

from fastapi.testclient import TestClient
from web_helpers import PASSWORD, WebWorld, build_world, csrf_from, sign_in

from motcua.web.app import SESSION_COOKIE
from motcua.web.throttle import SignInThrottle

ATTACKER = ("198.51.100.7", 40000)
CLERK_DESK = ("192.0.2.10", 50000)
PROXY = ("10.1.2.3", 443)


class Clock:
    """Time the test moves by hand (the throttle's windows and waits read it)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def attempt(client: TestClient, username: str, password: str, **headers: str) -> int:
    token = csrf_from(client.get("/login").text)
    data = {"username": username, "password": password, "csrftoken": token}
    r = client.post("/login", data=data, headers=headers, follow_redirects=False)
    return r.status_code


# --- sessions end on the server --------------------------------------------------------------


def test_a_cookie_replayed_after_logout_is_refused(world: WebWorld) -> None:
    clerk = sign_in(world.app, "clerk")
    other_desk = sign_in(world.app, "clerk")  # the same account signed in elsewhere
    stolen = dict(clerk.cookies)
    page = clerk.get("/dossiers")
    assert page.status_code == 200
    r = clerk.post("/logout", data={"csrftoken": csrf_from(page.text)}, follow_redirects=False)
    assert r.status_code == 303

    replayed = TestClient(world.app, cookies=stolen)
    r = replayed.get("/dossiers", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/login")
    assert replayed.get("/api/v1/me").status_code == 401
    # Sign-out ends every session of the account, not only this browser's.
    assert other_desk.get("/dossiers", follow_redirects=False).status_code == 303
    # Signing in again works, and the old cookie stays dead.
    again = sign_in(world.app, "clerk")
    assert again.get("/dossiers").status_code == 200
    assert TestClient(world.app, cookies=stolen).get("/api/v1/me").status_code == 401


def test_a_cookie_replayed_after_a_password_change_or_disabling_is_refused(
    world: WebWorld,
) -> None:
    leader, clerk = sign_in(world.app, "leader"), sign_in(world.app, "clerk")
    leader_copy, clerk_copy = dict(leader.cookies), dict(clerk.cookies)
    world.services.accounts.set_password("leader", "mat-khau-moi-2026-y")
    world.services.accounts.set_active("clerk", False)
    assert TestClient(world.app, cookies=leader_copy).get("/api/v1/me").status_code == 401
    assert TestClient(world.app, cookies=clerk_copy).get("/api/v1/me").status_code == 401


# --- CSRF bound to the session ---------------------------------------------------------------


def test_a_csrf_token_from_another_session_is_refused(world: WebWorld) -> None:
    code = world.complete.code
    url = f"/dossiers/{code}/supplement-request"
    mine, theirs = sign_in(world.app, "clerk"), sign_in(world.app, "clerk")
    their_token = csrf_from(theirs.get(f"/dossiers/{code}").text)
    my_token = csrf_from(mine.get(f"/dossiers/{code}").text)
    assert my_token != their_token

    r = mine.post(url, data={"missing": "cccd", "csrftoken": their_token}, follow_redirects=False)
    assert r.status_code == 403
    r = mine.post(f"/api/v1/dossiers/{code}/supplement-request", json={"missing": ["cccd"]},
                  headers={"x-csrftoken": their_token})  # fmt: skip
    assert r.status_code == 403
    # A double-submit check alone lets this through: the other session's token planted as the
    # csrftoken cookie (from a sibling subdomain, say) and submitted with the form.
    planted = TestClient(
        world.app, cookies={SESSION_COOKIE: mine.cookies[SESSION_COOKIE], "csrftoken": their_token}
    )
    r = planted.post(url, data={"missing": "cccd", "csrftoken": their_token},
                     follow_redirects=False)  # fmt: skip
    assert r.status_code == 403
    assert world.services.register.get(code).status.value == "received"

    r = mine.post(url, data={"missing": "cccd", "csrftoken": my_token}, follow_redirects=False)
    assert r.status_code == 303
    assert world.services.register.get(code).status.value == "supplement_requested"


def test_signing_in_renews_the_csrf_token(world: WebWorld) -> None:
    client = TestClient(world.app)
    before = csrf_from(client.get("/login").text)
    r = client.post("/login", data={"username": "clerk", "password": PASSWORD,
                                    "csrftoken": before}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    assert client.cookies["csrftoken"] != before
    r = client.post("/logout", data={"csrftoken": before}, follow_redirects=False)
    assert r.status_code == 403
    after = csrf_from(client.get("/dossiers").text)
    assert after == client.cookies["csrftoken"]
    assert client.post("/logout", data={"csrftoken": after}, follow_redirects=False).status_code \
        == 303  # fmt: skip


# --- throttling --------------------------------------------------------------------------------


def test_the_right_password_works_after_five_wrong_ones_from_another_address(
    world: WebWorld,
) -> None:
    clock = Clock()
    throttle = world.services.sign_in_throttle = SignInThrottle(clock=clock)
    attacker = TestClient(world.app, client=ATTACKER)
    statuses = []
    for i in range(5):
        statuses.append(attempt(attacker, "clerk", f"sai-{i}-mat-khau"))
        clock.now += 60  # past each growing wait, still inside the 15-minute window
    assert statuses == [401] * 5
    # The guesser is slowed down: its address must wait 4 s after the fifth failure ...
    clock.now -= 60
    token = csrf_from(attacker.get("/login").text)
    r = attacker.post("/login", data={"username": "clerk", "password": PASSWORD,
                                      "csrftoken": token}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 429
    assert r.headers["retry-after"] == "4"
    assert "Đăng nhập sai quá nhiều lần. Hãy thử lại sau 4 giây." in r.text
    # ... and every attempt at the name is answered late, from any address ...
    assert throttle.delay_for("clerk") == 0.25
    # ... but the clerk at her own desk signs in with the right password.
    desk = TestClient(world.app, client=CLERK_DESK)
    started = time.monotonic()
    assert attempt(desk, "Clerk", PASSWORD) == 303
    assert time.monotonic() - started >= 0.25
    assert desk.get("/dossiers").status_code == 200
    assert throttle.delay_for("clerk") == 0.0


def test_the_wait_grows_with_each_failure_and_the_address_has_a_limit() -> None:
    clock = Clock()
    throttle = SignInThrottle(clock=clock)
    waits = []
    for _ in range(12):
        throttle.failed("leader", "198.51.100.7")
        waits.append(throttle.check("leader", "198.51.100.7").retry_after)
        clock.now += 1
    assert waits[:3] == [0.0, 0.0, 1.0]
    assert waits[3:9] == [2.0, 4.0, 8.0, 16.0, 32.0, 64.0]
    assert waits[9:] == [128.0, 256.0, 300.0]  # at most five minutes
    assert not throttle.check("leader", "192.0.2.10").refused  # other addresses go on
    assert throttle.delay_for("leader") == 2.0  # at most 2 s
    clock.now += 15 * 60  # the window has moved past every failure
    assert throttle.check("leader", "198.51.100.7") == throttle.check("leader", "192.0.2.10")
    assert throttle.delay_for("leader") == 0.0

    # An address spraying names: 30 failures in the window, then it is refused whatever the name.
    for i in range(30):
        throttle.failed(f"user{i}", "203.0.113.1")
    verdict = throttle.check("someone-new", "203.0.113.1")
    assert verdict.refused and verdict.by_address
    assert 0 < verdict.retry_after <= 15 * 60
    assert not throttle.check("someone-new", "203.0.113.2").refused


# --- X-Forwarded-For only from trusted proxies -------------------------------------------------


def test_a_spoofed_x_forwarded_for_from_an_untrusted_client_is_ignored(world: WebWorld) -> None:
    world.services.sign_in_throttle = SignInThrottle(clock=Clock())
    attacker = TestClient(world.app, client=ATTACKER)
    statuses = [attempt(attacker, "clerk", "sai-mat-khau-x", **{"x-forwarded-for": f"10.9.0.{i}"})
                for i in range(4)]  # fmt: skip
    # Counted against the address the connection came from: the fourth attempt must wait.
    assert statuses == [401, 401, 401, 429]


def test_x_forwarded_for_from_a_trusted_proxy_names_the_client(tmp_path: Path) -> None:
    world = build_world(tmp_path / "home", web_trusted_proxies="10.1.2.0/24")
    world.services.sign_in_throttle = SignInThrottle(clock=Clock())
    proxy = TestClient(world.app, client=PROXY)
    statuses = [attempt(proxy, "clerk", "sai-mat-khau-x", **{"x-forwarded-for": f"192.0.2.{i}"})
                for i in range(4)]  # fmt: skip
    assert statuses == [401] * 4  # four clients behind the proxy, one failure each
    same = [attempt(proxy, "leader", "sai-mat-khau-y", **{"x-forwarded-for": "198.51.100.7"})
            for _ in range(4)]  # fmt: skip
    assert same == [401, 401, 401, 429]


# --- Secure cookies ----------------------------------------------------------------------------


def _set_cookies(client: TestClient, **headers: str) -> list[str]:
    r = client.get("/login", headers=headers)
    cookies = r.headers.get_list("set-cookie")
    assert {c.split("=", 1)[0] for c in cookies} == {SESSION_COOKIE, "csrftoken"}
    return cookies


def _secure(cookie: str) -> bool:
    return "secure" in [part.strip().lower() for part in cookie.split(";")[1:]]


def test_cookies_are_secure_over_https_only_by_default(world: WebWorld) -> None:
    assert not any(_secure(c) for c in _set_cookies(TestClient(world.app)))
    https = TestClient(world.app, base_url="https://testserver")
    assert all(_secure(c) for c in _set_cookies(https))
    # An untrusted client cannot claim HTTPS for itself.
    spoofing = TestClient(world.app, client=ATTACKER)
    assert not any(_secure(c) for c in _set_cookies(spoofing, **{"x-forwarded-proto": "https"}))


def test_cookies_are_secure_behind_a_tls_proxy_and_with_an_https_public_url(
    tmp_path: Path,
) -> None:
    behind = build_world(tmp_path / "proxied", web_trusted_proxies="10.1.2.3")
    proxy = TestClient(behind.app, client=PROXY)
    assert all(_secure(c) for c in _set_cookies(proxy, **{"x-forwarded-proto": "https"}))
    assert not any(_secure(c) for c in _set_cookies(proxy, **{"x-forwarded-proto": "http"}))

    public = build_world(tmp_path / "public", web_public_url="https://motcua.xa.gov.vn/")
    assert all(_secure(c) for c in _set_cookies(TestClient(public.app)))
    # The explicit setting wins over the public URL (a test bench on plain HTTP).
    bench = build_world(tmp_path / "bench", web_public_url="https://motcua.xa.gov.vn/",
                        web_secure_cookies=False)  # fmt: skip
    assert not any(_secure(c) for c in _set_cookies(TestClient(bench.app)))


# --- no-store on personal data -----------------------------------------------------------------


def test_personal_data_is_never_stored_in_caches(world: WebWorld) -> None:
    clerk = sign_in(world.app, "clerk")
    admin = sign_in(world.app, "admin")
    code = world.complete.code
    bearer = {"Authorization": f"Bearer {world.token}"}
    responses = {
        "page": clerk.get(f"/dossiers/{code}"),
        "list page": clerk.get("/dossiers?q=Nguyễn"),
        "API list": clerk.get("/api/v1/dossiers"),
        "API dossier (token)": TestClient(world.app).get(
            f"/api/v1/dossiers/{code}", headers=bearer
        ),
        "API users": admin.get("/api/v1/accounts/users"),
        "API audit": admin.get("/api/v1/audit"),
        "download": clerk.get(f"/dossiers/{code}/receipt.pdf"),
        "refusal": TestClient(world.app).get("/api/v1/dossiers"),
    }
    for what, r in responses.items():
        assert r.status_code == (401 if what == "refusal" else 200), what
        assert r.headers.get("cache-control") == "no-store", what
    assert "Nguyễn Văn An" in responses["page"].text  # these do carry personal data
    assert "no-store" not in clerk.get("/static/style.css").headers.get("cache-control", "")
