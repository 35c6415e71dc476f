"""Web benchmark: audit-log appends and verification, the dossier list, sign-in.

    .venv/bin/python bench/web.py [--entries 2000] [--dossiers 1000]

Baselines measured in the same run, on the same SQLite file:
- audit append vs a plain INSERT of the same row in its own transaction (cost of hashing and
  the head-row lock);
- `verify_chain()` vs streaming the same rows without hashing (cost of recomputing the chain);
- `GET /api/v1/dossiers` (and the page) vs `DossierRegister.list()` called directly (cost of the
  web layer: auth, masking, JSON or HTML);
- signing in (argon2id with argon2-cffi's defaults) vs `GET /login`.
Targets: verification of 100 000 entries in under 10 s (0.1 ms/entry); a list of 1 000
dossiers in under 1 s.

Then (`--pg-dossiers`, default 100 000; 0 skips it) `bench/web_postgres.py`: the dossier list API
(filtered and paged in SQL) and the status page on PostgreSQL, p95 beside the old in-memory
filtering measured in the same run; target p95 < 100 ms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fastapi.testclient import TestClient
from sqlalchemy import text

from dossiers.calendar import VN_TZ
from dossiers.register import DocumentIn
from motcua.settings import load_settings
from motcua.web.app import create_app
from motcua.web.audit import AuditLog

PASSWORD = "mat-khau-bench-2026"


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def row(name: str, samples: list[float], baseline: list[float], unit: float = 1.0) -> None:
    med, base = statistics.median(samples) / unit, statistics.median(baseline) / unit
    ratio = med / base if base else float("inf")
    print(f"{name:<44} {med * 1000:>10.3f} {base * 1000:>12.3f} {ratio:>8.1f}×")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=2000)
    parser.add_argument("--dossiers", type=int, default=1000)
    parser.add_argument(
        "--pg-dossiers",
        type=int,
        default=100_000,
        help="dossiers on PostgreSQL for the list/status-page part (0: skip)",
    )
    parser.add_argument("--repeat", type=int, default=60, help="requests per measure (PG)")
    parser.add_argument(
        "--old-repeat",
        type=int,
        default=3,
        help="runs of the old in-memory filtering per measure (PG)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="motcua-bench-web-") as folder:
        run(Path(folder) / "home", args.entries, args.dossiers)
    if args.pg_dossiers:
        from bench.web_postgres import run as run_postgres

        with tempfile.TemporaryDirectory(prefix="motcua-bench-web-pg-") as folder:
            run_postgres(Path(folder) / "home", args.pg_dossiers, args.repeat, args.old_repeat)
    return 0


def run(home: Path, entries: int, dossiers: int) -> None:
    app = create_app(load_settings(home / "absent.toml", home=home))
    svc = app.state.services
    audit: AuditLog = svc.audit

    print(f"{'measure (median)':<44} {'ms':>10} {'baseline ms':>12} {'ratio':>9}")

    # Audit appends vs plain inserts, each in its own transaction.
    with svc.engine.begin() as conn:
        conn.execute(text("CREATE TABLE bench_plain (seq INTEGER PRIMARY KEY, at TEXT, "
                          "actor TEXT, action TEXT, target TEXT, details TEXT)"))  # fmt: skip
    counter = iter(range(1, 10**9))

    def plain_insert() -> None:
        with svc.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO bench_plain VALUES (:s, :a, 'user:lan', 'dossier.returned', "
                    "'H40.29.10-260424-0001', '{}')"
                ),
                {"s": next(counter), "a": dt.datetime.now(dt.UTC).isoformat()},
            )

    def append() -> None:
        audit.append(actor="user:lan", action="dossier.returned", target_kind="dossier",
                     target_id="H40.29.10-260424-0001", details={"n": 1})  # fmt: skip

    base = timed(plain_insert, 300)
    appends = timed(append, 300)
    row("audit append (per entry)", appends, base)
    for _ in range(entries - 300):
        append()

    # Verification vs streaming the rows.
    def stream() -> None:
        with svc.engine.connect() as conn:
            for _ in conn.execute(text("SELECT * FROM web_audit ORDER BY seq")):
                pass

    report = audit.verify_chain()
    assert report.ok and report.entries == entries
    verify = timed(audit.verify_chain, 3)
    read = timed(stream, 3)
    row(f"verify_chain, {entries} entries (per entry)", verify, read, unit=entries)
    row(f"verify_chain, {entries} entries (total)", verify, read)

    # Dossier list: web layer vs register.
    procedure = svc.catalogue.get("xac-nhan-tinh-trang-hon-nhan")
    start = dt.datetime(2026, 4, 1, 8, 0, tzinfo=VN_TZ)
    for i in range(dossiers):
        docs = [
            DocumentIn(path=f"/scans/{i}-{k}.pdf", kind=k,
                       sha256=hashlib.sha256(f"{i}{k}".encode()).hexdigest(),
                       fields={"so_dinh_danh": {"value": f"0012030{i:05d}"}} if k == "cccd" else {})
            for k in ("to-khai-xac-nhan-hon-nhan", "cccd")
        ]  # fmt: skip
        at = start + dt.timedelta(minutes=7 * i)
        svc.register.intake(procedure, docs, received_at=at, citizen_name=f"Nguyễn Văn {i}")
    svc.accounts.add_user("lan", PASSWORD, "clerk")
    client = TestClient(app)
    form = client.get("/login").text
    token = re.search(r'name="csrftoken" value="([^"]+)"', form)
    assert token
    login = {"username": "lan", "password": PASSWORD, "csrftoken": token.group(1)}
    assert client.post("/login", data=login, follow_redirects=False).status_code == 303

    direct = timed(lambda: svc.register.list(), 5)
    api = timed(lambda: client.get("/api/v1/dossiers?limit=1000").raise_for_status(), 5)
    page = timed(lambda: client.get("/dossiers").raise_for_status(), 5)
    row(f"GET /api/v1/dossiers, {dossiers} dossiers", api, direct)
    row(f"GET /dossiers page, {dossiers} dossiers", page, direct)

    # Signing in: argon2id verification vs an unauthenticated page.
    anonymous = TestClient(app)
    anonymous.get("/login")

    def post_login() -> None:
        data = {**login, "csrftoken": anonymous.cookies["csrftoken"]}
        anonymous.post("/login", data=data, follow_redirects=False)

    sign_in = timed(post_login, 5)
    row("POST /login (argon2id defaults)", sign_in, timed(lambda: anonymous.get("/login"), 5))


if __name__ == "__main__":
    raise SystemExit(main())
