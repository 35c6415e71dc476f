"""`motcua users`, `motcua tokens` and `motcua serve`, run as the real command."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from web_helpers import make_settings, sign_in

from motcua.web.app import create_app

MOTCUA = [sys.executable, "-m", "motcua"]
PASSWORD = "mat-khau-dai-cua-lan-2026"


def _run(
    home: Path, *args: str, password: str | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOTCUA_")}
    env.update({"MOTCUA_HOME": str(home), "MOTCUA_CONFIG": str(home / "absent.toml")})
    if password is not None:
        env["MOTCUA_USER_PASSWORD"] = password
    return subprocess.run([*MOTCUA, *args], env=env, input=stdin, capture_output=True,
                          text=True, timeout=120)  # fmt: skip


def test_users_and_tokens(tmp_path: Path) -> None:
    home = tmp_path / "home"
    added = _run(home, "users", "add", "lan", "--role", "clerk", "--full-name", "Nguyễn Thị Lan",
                 password=PASSWORD)  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert "user lan added with role clerk" in added.stdout
    assert PASSWORD not in added.stdout + added.stderr
    # From a prompt when the variable is not set (typed twice).
    prompted = _run(home, "users", "add", "minh", "--role", "leader",
                    stdin=f"{PASSWORD}\n{PASSWORD}\n")  # fmt: skip
    assert prompted.returncode == 0, prompted.stderr
    listed = _run(home, "users", "list")
    assert listed.returncode == 0
    assert [line.split()[:3] for line in listed.stdout.splitlines()] == [
        ["lan", "clerk", "active"], ["minh", "leader", "active"]
    ]  # fmt: skip
    with create_engine(f"sqlite:///{home / 'catalog.sqlite3'}").connect() as conn:
        stored = conn.execute(text("SELECT password_hash FROM web_users WHERE username='lan'"))
        digest = stored.scalar_one()
    assert digest.startswith("$argon2id$v=19$m=65536,t=3,p=4$")  # argon2-cffi's defaults

    token = _run(home, "tokens", "add", "ioffice")
    assert token.returncode == 0, token.stderr
    secret = token.stdout.strip()
    assert secret.startswith("mct_") and len(secret) > 40
    tokens = _run(home, "tokens", "list")
    assert "ioffice" in tokens.stdout and secret not in tokens.stdout

    app = create_app(make_settings(home))
    sign_in(app, "lan", PASSWORD)
    me = TestClient(app).get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.json()["name"] == "ioffice"

    revoked = _run(home, "tokens", "revoke", "ioffice")
    assert revoked.returncode == 0
    me = TestClient(app).get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.status_code == 401
    audit = [
        (e.actor.split(":")[0], e.action) for e in reversed(app.state.services.audit.entries())
    ]
    assert audit[:3] == [("cli", "user.created"), ("cli", "user.created"), ("cli", "token.created")]


def test_bad_input_exits_2(tmp_path: Path) -> None:
    home = tmp_path / "home"
    flag = _run(home, "users", "add", "lan", "--role", "clerk", "--password", PASSWORD)
    assert flag.returncode == 2
    assert "No such option" in flag.stderr
    short = _run(home, "users", "add", "lan", "--role", "clerk", password="ngan")
    assert short.returncode == 2
    assert "mật khẩu ngắn hơn 10 ký tự" in short.stderr
    role = _run(home, "users", "add", "lan", "--role", "boss", password=PASSWORD)
    assert role.returncode == 2
    assert _run(home, "users", "add", "lan", "--role", "clerk", password=PASSWORD).returncode == 0
    again = _run(home, "users", "add", "LAN", "--role", "admin", password=PASSWORD)
    assert again.returncode == 2
    assert "tài khoản lan đã có" in again.stderr
    assert "Traceback" not in again.stderr + short.stderr


def test_serve(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOTCUA_")}
    env.update({"MOTCUA_HOME": str(home), "MOTCUA_CONFIG": str(home / "absent.toml")})
    server = subprocess.Popen([*MOTCUA, "serve", "--port", str(port)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, server.stderr.read() if server.stderr else ""
            assert time.monotonic() < deadline, "motcua serve did not answer in 60 s"
            time.sleep(0.3)
        spec = httpx.get(f"{base}/openapi.json").json()
        assert "/api/v1/dossiers/{code}/receipt.pdf" in spec["paths"]
        assert "/login" not in spec["paths"]
        login = httpx.get(f"{base}/login")
        assert "Đăng nhập" in login.text
        assert httpx.get(f"{base}/api/v1/dossiers").status_code == 401
    finally:
        server.terminate()
        server.wait(timeout=30)
    key = home / "web-session.key"
    assert oct(key.stat().st_mode & 0o777) == "0o600"
