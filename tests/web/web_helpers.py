"""Helpers for the web tests: the real app on a real SQLite catalogue, users of every role,
dossiers in the register, signing in through the real form."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import re
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient

from dossiers.calendar import VN_TZ
from dossiers.register import DocumentIn, Dossier
from motcua.settings import Settings, load_settings
from motcua.web.app import create_app
from motcua.web.services import Services
from storage.s3 import S3Config
from tests.s3_identities import setup_identity

PASSWORD = "mat-khau-thu-nghiem-2026"
ROLES = ("clerk", "officer", "leader", "archivist", "admin")
ID_NUMBER = "001203012345"  # 001 Hà Nội, 2 = male born in the 2000s, 03 = 2003
ID_NUMBER_2 = "079185001234"
_CSRF_RE = re.compile(r'name="csrftoken" value="([^"]+)"')


def make_settings(home: Path, **overrides: object) -> Settings:
    """Settings on `home`, ignoring any config file of the developer's machine."""
    return load_settings(home / "absent.toml", home=home, **overrides)


def services(app: FastAPI) -> Services:
    result: Services = app.state.services
    return result


def csrf_from(html: str) -> str:
    match = _CSRF_RE.search(html)
    assert match, "the page has no CSRF field"
    return match.group(1)


def sign_in(
    app: FastAPI,
    username: str,
    password: str = PASSWORD,
    address: tuple[str, int] = ("testclient", 50000),
) -> TestClient:
    """A client (from `address`) that signed in through the real form, CSRF token and all."""
    client = TestClient(app, client=address)
    form = client.get("/login")
    assert form.status_code == 200
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrftoken": csrf_from(form.text),
              "next": "/dossiers"},
        follow_redirects=False,
    )  # fmt: skip
    assert response.status_code == 303, response.text
    return client


def csrf_header(client: TestClient) -> dict[str, str]:
    """The double-submit header for a signed-in client (its csrftoken cookie)."""
    token = client.cookies.get("csrftoken")
    if token is None:
        client.get("/login")
        token = client.cookies.get("csrftoken")
    assert token
    return {"x-csrftoken": token}


def take_in(
    svc: Services,
    *,
    procedure: str = "xac-nhan-tinh-trang-hon-nhan",
    kinds: tuple[str, ...] = ("to-khai-xac-nhan-hon-nhan", "cccd"),
    name: str = "Nguyễn Văn An",
    id_number: str = ID_NUMBER,
    received_at: dt.datetime | None = None,
    salt: str = "",
) -> Dossier:
    """Register a dossier whose CCCD carries `id_number` in its extracted fields."""
    docs = []
    for kind in kinds:
        digest = hashlib.sha256(f"{name}{kind}{salt}".encode()).hexdigest()
        fields: dict[str, object] = {}
        if kind == "cccd":
            fields = {
                "so_dinh_danh": {"value": id_number, "confidence": 0.97, "needs_review": False},
                "ho_ten": {"value": name, "confidence": 0.6, "needs_review": True},
                "ghi_chu": f"CCCD số {id_number}",
            }
        docs.append(DocumentIn(path=f"/scans/{digest[:8]}.pdf", kind=kind, sha256=digest,
                               fields=fields, page_count=1))  # fmt: skip
    at = received_at or dt.datetime(2026, 4, 24, 9, 30, tzinfo=VN_TZ)
    result = svc.register.intake(
        svc.catalogue.get(procedure), docs, received_at=at, citizen_name=name
    )
    return result.dossier


@dataclass
class WebWorld:
    app: FastAPI
    home: Path
    complete: Dossier  # received, due date set
    incomplete: Dossier  # waiting for a supplement
    signed: Dossier  # result signed, ready to hand over
    token: str  # an e-office API token's secret

    @property
    def services(self) -> Services:
        return services(self.app)


def s3_settings(s3: S3Config | None) -> dict[str, object]:
    """The session's S3 server with fresh buckets; without one, an address nobody answers on,
    so that no test starts an embedded object store behind its own back."""
    if s3 is None:
        return {"s3_endpoint": "127.0.0.1:9", "s3_access_key": "none", "s3_secret_key": "none"}
    tag = uuid.uuid4().hex[:10]
    setup = setup_identity(s3)
    return {"s3_endpoint": s3.endpoint, "s3_access_key": s3.access_key,
            "s3_secret_key": s3.secret_key, "s3_setup_access_key": setup.access_key,
            "s3_setup_secret_key": setup.secret_key, "bucket_archive": f"a-{tag}",
            "bucket_originals": f"o-{tag}", "bucket_quarantine": f"q-{tag}"}  # fmt: skip


def build_world(home: Path, s3: S3Config | None = None, **overrides: object) -> WebWorld:
    app = create_app(make_settings(home, **{**s3_settings(s3), **overrides}))
    svc = services(app)
    if s3 is not None:
        svc.archive.ensure_buckets()
    # argon2's defaults take ~0.2 s a hash on the shared CI cores; the tests' own accounts use
    # the cheapest parameters (hashes carry their parameters, so verification follows). The
    # defaults are exercised by `motcua users add` in test_web_cli.py.
    svc.accounts.hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    for role in ROLES:
        svc.accounts.add_user(role, PASSWORD, role, full_name=f"Cán bộ {role}")
    complete = take_in(svc)
    incomplete = take_in(svc, kinds=("to-khai-xac-nhan-hon-nhan",), name="Trần Thị Bình",
                         id_number=ID_NUMBER_2)  # fmt: skip
    signed = take_in(svc, name="Lê Văn Cường", salt="s")
    signed = svc.register.mark_result_signed(
        signed.code, at=dt.datetime(2026, 4, 27, 10, 0, tzinfo=VN_TZ)
    )
    _, token = svc.accounts.add_token("ioffice")
    return WebWorld(app, home, complete, incomplete, signed, token)


@dataclass
class Receiver:
    """A real HTTP server answering each POST with the next status of `script` (then 200)."""

    url: str
    script: list[int]
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)


@contextlib.contextmanager
def serve_receiver(port: int = 0) -> Iterator[Receiver]:
    """An e-office system's event endpoint on 127.0.0.1 (`port` 0: any free port)."""
    state = Receiver(url="", script=[])

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
            status = state.script.pop(0) if state.script else 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()
            if status < 300:
                state.arrived.set()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/motcua/events"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
