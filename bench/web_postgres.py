"""bench/web.py's PostgreSQL part: the dossier list and the status page at 100 000 dossiers.

A throw-away cluster (Debian's PostgreSQL, as tests/conftest.py starts it) is filled in bulk
(plain INSERTs: taking 100 000 dossiers in one by one would measure intake, not the list), then
the real app runs on it. Each `GET /api/v1/dossiers` variant (filtered and paged in SQL) is timed
beside the filtering it replaced, measured in the same run: `DossierRegister.list()` over every
matching row, the `q` test in Python, and the slice (what the route did before issue 17).
Target: p95 under 100 ms for the list and the status page.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import pwd
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import insert, text

from dossiers.calendar import VN_TZ
from dossiers.models import DocumentRow, DossierRow, StatusChangeRow
from dossiers.register import DossierRegister, Status
from motcua.types import fold

PG_BIN = Path("/usr/lib/postgresql/15/bin")
BATCH = 5000


def _as_postgres(argv: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


@contextlib.contextmanager
def postgres() -> Iterator[str]:
    """A PostgreSQL cluster on a free port; yields an SQLAlchemy URL of a fresh database."""
    base = Path(tempfile.mkdtemp(prefix="motcua-bench-pg-"))
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(base, user.pw_uid, user.pw_gid)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    data = base / "data"
    subprocess.run(_as_postgres([str(PG_BIN / "initdb"), "-D", str(data), "-U", "motcua",
                                 "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8",
                                 "--no-sync"]), check=True, capture_output=True)  # fmt: skip
    pg_ctl = [str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(base / "server.log")]
    options = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(_as_postgres([*pg_ctl, "-o", options, "-w", "-t", "60", "start"]),
                   check=True, capture_output=True)  # fmt: skip
    try:
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={port} user=motcua dbname=postgres",
                             autocommit=True) as conn:  # fmt: skip
            conn.execute('CREATE DATABASE "bench"')
        yield f"postgresql+psycopg://motcua@127.0.0.1:{port}/bench"
    finally:
        subprocess.run(_as_postgres([*pg_ctl, "-m", "fast", "-w", "stop"]), capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


STATUSES = [Status.received, Status.processing, Status.processing, Status.supplement_requested,
            Status.result_signed, Status.returned, Status.returned, Status.refused]  # fmt: skip


def fill(url: str, unit: str, count: int) -> float:
    """`count` dossiers (one CCCD each, one status change) received 1000 a day; seconds taken."""
    started = time.perf_counter()
    register = DossierRegister(url, unit_code=unit)
    register.create_tables()
    engine = register.engine
    first = dt.datetime(2026, 1, 5, 7, 30, tzinfo=VN_TZ)
    for lo in range(0, count, BATCH):
        dossiers, documents, history = [], [], []
        for i in range(lo, min(count, lo + BATCH)):
            day, n = divmod(i, 1000)
            at = (first + dt.timedelta(days=day, seconds=28 * n)).astimezone(dt.UTC)
            status = STATUSES[i % len(STATUSES)]
            name = f"Nguyễn Văn {i}"
            dossiers.append({
                "id": i + 1, "code": f"{unit}-{at.astimezone(VN_TZ):%y%m%d}-{n + 1:04d}",
                "unit_code": unit, "procedure_key": "xac-nhan-tinh-trang-hon-nhan",
                "idempotency_key": hashlib.sha256(str(i).encode()).hexdigest(),
                "citizen_name": name, "citizen_name_folded": fold(name), "status": status.value,
                "received_at": at, "updated_at": at,
                "due_date": None if status is Status.supplement_requested
                else (at + dt.timedelta(days=3 + i % 5)).date(),
                "missing_components": ["cccd"] if status is Status.supplement_requested else [],
                "notice_consent": False,
            })  # fmt: skip
            documents.append({
                "dossier_id": i + 1, "position": 1, "path": f"/scans/{i}.pdf", "kind": "cccd",
                "sha256": hashlib.sha256(f"d{i}".encode()).hexdigest(), "page_count": 1,
                "fields": {"so_dinh_danh": {"value": f"001203{i:06d}"}}, "component": "cccd",
                "component_confirmed": True,
            })  # fmt: skip
            history.append({"dossier_id": i + 1, "status": status.value, "at": at})
        with engine.begin() as conn:
            conn.execute(insert(DossierRow), dossiers)
            conn.execute(insert(DocumentRow), documents)
            conn.execute(insert(StatusChangeRow), history)
    with engine.begin() as conn:
        conn.execute(text("SELECT setval(pg_get_serial_sequence('dossier_dossiers', 'id'), "
                          "(SELECT max(id) FROM dossier_dossiers))"))  # fmt: skip
        conn.execute(text("ANALYZE"))
    engine.dispose()
    return time.perf_counter() - started


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def line(name: str, samples: list[float], baseline: list[float] | None) -> None:
    ms, med = p95(samples) * 1000, statistics.median(samples) * 1000
    if baseline:
        base = p95(baseline) * 1000
        print(f"{name:<46} {med:>9.1f} {ms:>9.1f} {base:>12.1f} {base / ms:>8.0f}×  "
              f"{'ok' if ms < 100 else 'SLOW'}")  # fmt: skip
    else:
        print(f"{name:<46} {med:>9.1f} {ms:>9.1f} {'—':>12} {'':>9}  "
              f"{'ok' if ms < 100 else 'SLOW'}")  # fmt: skip


def run(home: Path, count: int, repeat: int, old_repeat: int) -> None:
    from motcua.settings import load_settings
    from motcua.web.app import create_app
    from motcua.web.routes.dossiers import _find

    with postgres() as url:
        settings = load_settings(home / "absent.toml", home=home, catalog_url=url)
        seconds = fill(url, settings.unit_code, count)
        print(f"\nPostgreSQL, {count} dossiers (filled in {seconds:.0f} s); "
              f"{repeat} requests each, old way {old_repeat}×")  # fmt: skip
        app = create_app(settings)
        svc = app.state.services
        _, secret = svc.accounts.add_token("bench", ["read"])
        client = TestClient(app, headers={"Authorization": f"Bearer {secret}"})
        print(f"{'measure':<46} {'median ms':>9} {'p95 ms':>9} {'old p95 ms':>12} "
              f"{'speed-up':>9}  <100ms")  # fmt: skip

        def old(status: Status | None = None, q: str | None = None) -> Callable[[], object]:
            # What GET /api/v1/dossiers did before: every matching row, then Python, then a slice.
            def work() -> object:
                found = _find(svc, status=status, procedure=None, received_from=None,
                              received_to=None, q=q)  # fmt: skip
                return found[:50]

            return work

        def get(url: str) -> Callable[[], object]:
            return lambda: client.get(url).raise_for_status()

        cursor = client.get("/api/v1/dossiers?limit=50").headers["X-Next-Cursor"]
        cases = [
            ("list, newest first, 50", "/api/v1/dossiers?limit=50", old()),
            ("list, next page (cursor)", f"/api/v1/dossiers?limit=50&cursor={cursor}", None),
            ("list, status=processing", "/api/v1/dossiers?limit=50&status=processing",
             old(Status.processing)),
            ("list, q=nguyen van 4242 (no diacritics)",
             "/api/v1/dossiers?limit=50&q=nguyen%20van%204242", old(q="nguyen van 4242")),
            ("list, sort=due", "/api/v1/dossiers?limit=50&sort=due", None),
            ("list, updated_since (last day)",
             "/api/v1/dossiers?limit=50&sort=updated&updated_since=2026-04-14T00:00:00%2B07:00",
             None),
        ]  # fmt: skip
        for name, url_, baseline in cases:
            got = client.get(url_)
            assert got.status_code == 200, (url_, got.text[:200])
            new = timed(get(url_), repeat)
            line(name, new, timed(baseline, old_repeat) if baseline else None)

        codes = [f"{settings.unit_code}-260105-{n:04d}" for n in (1, 250, 500)]
        tokens = [svc.core.links.ensure(c) for c in codes]
        pages = [f"/tra-cuu/{t}" for t in tokens if t]
        # Lookups are rate-limited per address: each request comes from an address of its own.
        visitors = iter(TestClient(app, client=(f"10.1.{i // 250}.{i % 250}", 40000))
                        for i in range(10**6))  # fmt: skip
        samples = []
        for i in range(repeat):
            visitor = next(visitors)
            start = time.perf_counter()
            visitor.get(pages[i % len(pages)]).raise_for_status()
            samples.append(time.perf_counter() - start)
        line("status page /tra-cuu/{token}", samples, None)
        svc.engine.dispose()
