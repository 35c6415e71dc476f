"""The citizen's status page (`GET /tra-cuu/<token>`) at many dossiers.

    .venv/bin/python bench/status_page.py [--dossiers 100000] [--lookups 200] [--postgres]

Seeds the register with `--dossiers` dossiers and their status links by bulk insert (SQLite in a
temporary folder; with `--postgres` also Debian's PostgreSQL, started in a temporary folder as
bench/archive.py does),
then times random lookups through the real app (rate limits lifted for the run). Baseline in
the same run, on the same database: the in-memory way, `DossierRegister.list()` and a Python
filter for the dossier (what a lookup would cost without the indexed token), timed on a few
lookups only. Target: status page p95 under 100 ms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fastapi.testclient import TestClient
from sqlalchemy import insert

from dossiers.models import DossierRow, PublicLinkRow
from dossiers.public import new_token
from motcua.settings import load_settings
from motcua.web.app import create_app
from motcua.web.throttle import RateLimit

BATCH = 5000


def seed(app_services: object, count: int) -> list[str]:
    from motcua.web.services import Services

    assert isinstance(app_services, Services)
    engine = app_services.engine
    unit = app_services.settings.unit_code
    start = dt.datetime(2025, 1, 1, 1, tzinfo=dt.UTC)
    tokens: list[str] = []
    per_day: dict[dt.date, int] = {}
    with engine.begin() as connection:
        for first in range(0, count, BATCH):
            dossiers, links = [], []
            for i in range(first, min(first + BATCH, count)):
                at = start + dt.timedelta(minutes=7 * i)
                number = per_day[at.date()] = per_day.get(at.date(), 0) + 1
                code = f"{unit}-{at:%y%m%d}-{number:04d}"
                token = new_token()
                tokens.append(token)
                dossiers.append({
                    "code": code, "unit_code": unit, "procedure_key": "dang-ky-khai-sinh",
                    "idempotency_key": f"{i:064d}", "citizen_name": "Nguyễn Văn An",
                    "status": "processing", "received_at": at,
                    "due_date": (at + dt.timedelta(days=3)).date(), "missing_components": [],
                })  # fmt: skip
                links.append({"dossier_code": code, "token": token, "created_at": at})
            connection.execute(insert(DossierRow), dossiers)
            connection.execute(insert(PublicLinkRow), links)
    return tokens


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run(label: str, home: Path, count: int, lookups: int, catalog_url: str | None) -> None:
    overrides: dict[str, object] = {"home": home, "s3_endpoint": "127.0.0.1:9",
                                    "s3_access_key": "none", "s3_secret_key": "none"}  # fmt: skip
    if catalog_url:
        overrides["catalog_url"] = catalog_url
    app = create_app(load_settings(home / "absent.toml", **overrides))
    services = app.state.services
    services.lookup_limit = RateLimit(10**9, 60.0)
    services.lookup_miss_limit = RateLimit(10**9, 60.0)
    began = time.perf_counter()
    tokens = seed(services, count)
    seeded = time.perf_counter() - began
    client = TestClient(app)
    rng = random.Random(17)
    samples = []
    for _ in range(lookups):
        token = rng.choice(tokens)
        t0 = time.perf_counter()
        response = client.get(f"/tra-cuu/{token}")
        samples.append(time.perf_counter() - t0)
        assert response.status_code == 200, response.text[:300]
    baseline = []
    codes = [c for c in (services.core.links.code_of(t) for t in tokens[:3]) if c]
    for code in codes:
        t0 = time.perf_counter()
        found = [d for d in services.register.list() if d.code == code]
        baseline.append(time.perf_counter() - t0)
        assert len(found) == 1
    print(f"{label}: {count} dossiers seeded in {seeded:.1f} s")
    print(f"{'':<36} {'p50 ms':>10} {'p95 ms':>10} {'n':>6}")
    print(f"{'GET /tra-cuu/<token>':<36} {1000 * statistics.median(samples):>10.2f} "
          f"{1000 * percentile(samples, 0.95):>10.2f} {len(samples):>6}")  # fmt: skip
    print(f"{'baseline: list() + filter':<36} {1000 * statistics.median(baseline):>10.2f} "
          f"{1000 * percentile(baseline, 0.95):>10.2f} {len(baseline):>6}")  # fmt: skip
    services.engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dossiers", type=int, default=100_000)
    parser.add_argument("--lookups", type=int, default=200)
    parser.add_argument("--postgres", action="store_true", help="also on PostgreSQL")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="motcua-bench-status-") as folder:
        run("SQLite", Path(folder) / "sqlite", args.dossiers, args.lookups, None)
        if args.postgres:
            from bench.archive import postgres

            with postgres() as url:
                run("PostgreSQL", Path(folder) / "pg", args.dossiers, args.lookups, url)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
