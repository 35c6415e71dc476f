"""Archive benchmark: upload throughput, search latency at 100 000 records, reindex time.

    .venv/bin/python bench/archive.py [--records 100000] [--uploads 12] [--skip-upload]

Baselines measured in the same run: a bare MinIO SDK `put_object` loop over the same files
(target: archive ≥ 0.8× its throughput); for search, the previous search (two passes, exact then
folded, over the bare words: no phrases, no side-by-side tiers, no highlighting) on the same
catalogue and queries, and a sequential `LIKE` scan over the folded text (what search would cost
without a full-text index). Search targets p95 < 50 ms on SQLite and on PostgreSQL (Debian's
server, started here in a temporary folder). Starts its own embedded S3 server in a temporary
folder (and a second one for the replication row: the cost of the second copy); nothing is
downloaded.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import hashlib
import io
import os
import pwd
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from minio.commonconfig import GOVERNANCE
from minio.retention import Retention
from sqlalchemy import Integer, func, literal_column, select, text

from motcua.types import fold, nfc
from storage.archive import Archive, Buckets
from storage.catalogue import Catalogue, CatalogueEntry, SearchQuery, records
from storage.record import RecordInfo
from storage.replica import ReplicaConfig
from storage.server import EmbeddedS3Server

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi",
          "Đỗ", "Hồ", "Ngô", "Dương", "Lý"]  # fmt: skip
MIDDLE = ["Thị", "Văn", "Minh", "Ngọc", "Thanh", "Hữu", "Đức", "Quốc", "Thu", "Xuân"]
GIVEN = ["Hằng", "An", "Bình", "Lan", "Hương", "Thảo", "Dũng", "Hùng", "Linh", "Trang", "Tuấn",
         "Nam", "Hà", "Phương", "Quân", "Yến", "Đạt", "Khoa", "Nhung", "Sơn"]  # fmt: skip
PLACES = ["xã Hòa Tiến", "xã Hòa Châu", "phường Hòa Khánh", "xã Hòa Phong", "thôn Phú Sơn",
          "Đà Nẵng", "Quảng Nam", "Thanh Hóa", "An Giang", "Hà Nội"]  # fmt: skip
PROCEDURES = ["1.001193", "1.004873", "2.000986", "1.001022", "2.000815"]
PHRASES = ["Tờ khai đăng ký khai sinh", "Giấy xác nhận tình trạng hôn nhân",
           "Chứng thực bản sao từ bản chính", "Giấy tiếp nhận hồ sơ và hẹn trả kết quả",
           "Quyết định về việc", "Đơn đề nghị", "Nơi cư trú", "Số định danh cá nhân",
           "Ủy ban nhân dân", "Cộng hòa xã hội chủ nghĩa Việt Nam",
           "Độc lập Tự do Hạnh phúc"]  # fmt: skip
RETENTION = ["5y", "10y", "20y", "70y", "permanent"]


def name(rng: random.Random) -> str:
    return f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"


def synthetic(n: int, seed: int = 6) -> Iterator[CatalogueEntry]:
    rng = random.Random(seed)
    start = dt.date(2020, 1, 1)
    for i in range(n):
        day = start + dt.timedelta(days=rng.randrange(2400))
        person = name(rng)
        id_number = f"0{rng.randrange(1, 96):02d}{rng.choice('0123')}{rng.randrange(100):02d}"
        id_number += f"{rng.randrange(10**6):06d}"
        body = " ".join(rng.choice(PHRASES) for _ in range(6))
        body += f" Họ và tên: {person}. {rng.choice(PLACES)}. " + " ".join(
            rng.choice(PHRASES) for _ in range(4)
        )
        code = f"H40.29.10-{day:%y%m%d}-{i % 10000:04d}"
        yield CatalogueEntry(
            record_id=f"r{i:024x}",
            dossier_code=code,
            title=f"{rng.choice(PHRASES)} cho {person}",
            procedure=rng.choice(PROCEDURES),
            retention_class=rng.choice(RETENTION),
            date_start=day,
            date_end=day,
            archived_at=dt.datetime.combine(day, dt.time(9), tzinfo=dt.UTC),
            id_numbers=(id_number,),
            metadata={"code": code},
            text=body,
        )


def queries(n: int, seed: int = 7) -> list[SearchQuery]:
    rng = random.Random(seed)
    entries = list(synthetic(2000, seed=6))  # the first records: known codes and ID numbers
    out: list[SearchQuery] = []
    for i in range(n):
        kind = i % 7
        if kind == 0:
            out.append(SearchQuery(name(rng)))  # exact Vietnamese name
        elif kind == 1:
            out.append(SearchQuery(fold(name(rng))))  # without diacritics
        elif kind == 5:
            out.append(SearchQuery(f'"{fold(name(rng))}"'))  # a quoted name
        elif kind == 6:
            out.append(SearchQuery(f'"{rng.choice(PHRASES)}" {rng.choice(GIVEN)}'))
        elif kind == 2:
            out.append(SearchQuery(rng.choice(entries).dossier_code))
        elif kind == 3:
            out.append(SearchQuery("", id_number=rng.choice(entries).id_numbers[0]))
        else:
            year = rng.randrange(2020, 2026)
            out.append(
                SearchQuery(
                    rng.choice(GIVEN),
                    date_from=dt.date(year, 1, 1),
                    date_to=dt.date(year, 3, 31),
                    procedure=rng.choice(PROCEDURES),
                )
            )
    return out


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def time_queries(search: Callable[[SearchQuery], object], qs: list[SearchQuery]) -> list[float]:
    for q in qs[:10]:  # warm caches
        search(q)
    timings = []
    for q in qs:
        started = time.perf_counter()
        search(q)
        timings.append((time.perf_counter() - started) * 1000)
    return timings


@contextmanager
def postgres() -> Iterator[str]:
    bindir = Path("/usr/lib/postgresql/15/bin")
    base = Path(tempfile.mkdtemp(prefix="motcua-bench-pg-"))
    wrap: list[str] = []
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(base, user.pw_uid, user.pw_gid)
        wrap = ["runuser", "-u", "postgres", "--"]
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    data = base / "data"
    subprocess.run(
        [*wrap, str(bindir / "initdb"), "-D", str(data), "-U", "motcua", "--auth=trust",
         "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"],
        check=True, capture_output=True,
    )  # fmt: skip
    ctl = [*wrap, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(base / "log")]
    opts = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run([*ctl, "-o", opts, "-w", "start"], check=True, capture_output=True)
    try:
        import psycopg

        with psycopg.connect(
            f"host=127.0.0.1 port={port} user=motcua dbname=postgres", autocommit=True
        ) as conn:
            conn.execute("CREATE DATABASE bench")
        yield f"postgresql+psycopg://motcua@127.0.0.1:{port}/bench"
    finally:
        subprocess.run([*ctl, "-m", "fast", "-w", "stop"], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def previous_search(catalogue: Catalogue, query: SearchQuery) -> list[str]:
    """The search as it was before issue 15 (the baseline): the bare words AND-ed, an exact
    pass then a folded one (SQLite) or one query ordered by exactness (PostgreSQL); the text
    filter only (the benchmark's filters are the same in both), the hit rows fetched."""
    words = [w for w in query.text.split() if any(ch.isalnum() for ch in w)]
    limit = query.limit
    filters = []
    if query.procedure:
        filters.append(records.c.procedure == query.procedure)
    if query.date_from:
        filters.append(records.c.date_end >= query.date_from)
    if query.date_to:
        filters.append(records.c.date_start <= query.date_to)
    if not words:
        return [h.record_id for h in catalogue.search(query)]  # unchanged: filters only
    found: list[int] = []
    with catalogue.engine.connect() as conn:
        if catalogue.dialect == "sqlite":
            for column, spelled in (
                ("exact", [nfc(w).casefold() for w in words]),
                ("folded", [fold(w) for w in words]),
            ):
                phrases = " ".join('"' + w.replace('"', '""') + '"' for w in spelled)
                sub = (
                    text("SELECT rowid AS doc_id, rank FROM archive_fts WHERE archive_fts MATCH :q")
                    .columns(doc_id=Integer, rank=Integer)
                    .subquery("fts")
                )
                stmt = (
                    select(sub.c.doc_id)
                    .join(records, records.c.doc_id == sub.c.doc_id)
                    .where(*filters)
                    .order_by(sub.c.rank)
                    .limit(limit + len(found))
                )
                for (doc_id,) in conn.execute(stmt, {"q": f"{{{column}}} : ({phrases})"}):
                    if doc_id not in found:
                        found.append(doc_id)
                if len(found) >= limit:
                    break
        else:
            simple = literal_column("'simple'::regconfig")
            exact_q = func.plainto_tsquery(simple, " ".join(nfc(w).casefold() for w in words))
            folded_q = func.plainto_tsquery(simple, " ".join(fold(w) for w in words))
            tsv_exact = literal_column("archive_records.tsv_exact")
            tsv_folded = literal_column("archive_records.tsv_folded")
            is_exact = tsv_exact.op("@@")(exact_q)
            stmt = (
                select(records.c.doc_id)
                .where(tsv_folded.op("@@")(folded_q), *filters)
                .order_by(is_exact.desc(), func.ts_rank(tsv_folded, folded_q).desc())
                .limit(limit)
            )
            found = [doc_id for (doc_id,) in conn.execute(stmt)]
        rows = conn.execute(
            select(records.c.record_id, records.c.search_text).where(
                records.c.doc_id.in_(found[:limit])
            )
        ).all()
    return [row.record_id for row in rows]


def bench_search(url: str, records: int, qs: list[SearchQuery]) -> dict[str, float]:
    catalogue = Catalogue(url)
    started = time.perf_counter()
    catalogue.upsert(synthetic(records))
    load = time.perf_counter() - started
    if catalogue.dialect == "postgresql":
        # a settled catalogue, as autovacuum leaves it: statistics, and the GIN indexes' pending
        # lists merged (until then every index scan reads the list of new entries in full)
        with catalogue.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    # interleaved halves, so a load change on the shared machine hits both alike
    half = len(qs) // 2
    timings = time_queries(catalogue.search, qs[:half])
    previous = time_queries(lambda q: previous_search(catalogue, q), qs)
    timings += time_queries(catalogue.search, qs[half:])
    # baseline: a sequential scan for the folded words, no full-text index
    like_timings = []
    with catalogue.engine.connect() as conn:
        for q in [q for q in qs if q.text][:20]:
            pattern = "%" + fold(q.text) + "%"
            started = time.perf_counter()
            conn.execute(
                text("SELECT record_id FROM archive_records WHERE search_folded LIKE :p LIMIT 20"),
                {"p": pattern},
            ).all()
            like_timings.append((time.perf_counter() - started) * 1000)
    catalogue.close()
    return {
        "load_s": load,
        "p50": percentile(timings, 0.5),
        "p95": percentile(timings, 0.95),
        "prev_p50": percentile(previous, 0.5),
        "prev_p95": percentile(previous, 0.95),
        "like_p50": percentile(like_timings, 0.5),
        "like_p95": percentile(like_timings, 0.95),
    }


def bench_uploads(home: Path, uploads: int, file_mib: int, rounds: int) -> dict[str, float]:
    server = EmbeddedS3Server(home / "s3home")
    config = server.up(timeout=180)
    replica_server = EmbeddedS3Server(home / "s3replica")  # the second copy's own server
    replica = replica_server.up(timeout=180)
    try:
        folder = home / "files"
        folder.mkdir()
        sets = []
        for i in range(uploads):
            files = []
            for j, suffix in enumerate(["pdf", "png", "txt"]):
                path = folder / f"rec{i}-{j}.{suffix}"
                path.write_bytes(os.urandom(file_mib * 1024 * 1024))
                files.append(path)
            sets.append(files)
        total_mb = sum(p.stat().st_size for files in sets for p in files) / 1e6
        # the raw server's speed, bucket creation included: the set-up identity
        client = server.setup_config().client()
        client.make_bucket("bare")
        client.make_bucket("bare-worm", object_lock=True)
        until = dt.datetime.now(dt.UTC) + dt.timedelta(days=3650)

        def bare() -> float:
            started = time.perf_counter()
            for i, files in enumerate(sets):
                for path in files:
                    with open(path, "rb") as fh:
                        client.put_object(
                            "bare", f"{time.time_ns()}/{i}/{path.name}", fh, path.stat().st_size
                        )
            return total_mb / (time.perf_counter() - started)

        def bare_worm() -> float:
            """The same loop into an object-lock bucket, with retention and the checksum
            header: what the server's WORM and checksum work costs without motcua."""
            started = time.perf_counter()
            for i, files in enumerate(sets):
                for path in files:
                    data = path.read_bytes()
                    digest = base64.b64encode(hashlib.sha256(data).digest()).decode()
                    client.put_object(
                        "bare-worm",
                        f"{time.time_ns()}/{i}/{path.name}",
                        io.BytesIO(data),
                        len(data),
                        metadata={"x-amz-checksum-sha256": digest},
                        retention=Retention(GOVERNANCE, until),
                        part_size=max(5 * 1024 * 1024, len(data)),  # one PUT, as motcua does
                    )
            return total_mb / (time.perf_counter() - started)

        catalogue = Catalogue(f"sqlite:///{home / 'cat.sqlite3'}")
        archive = Archive(
            config,
            catalogue,
            Buckets("b-orig", "b-archive", "b-quar"),
            setup=server.setup_config(),
        )
        archive.ensure_buckets()
        replicated = Archive(
            config,
            Catalogue(f"sqlite:///{home / 'cat-replicated.sqlite3'}"),
            Buckets("r-orig", "r-archive", "r-quar"),
            setup=server.setup_config(),
            replica=ReplicaConfig(replica, setup=replica_server.setup_config()),
        )
        replicated.ensure_buckets()

        def archived(round_: int, into: Archive = archive, day: str = "261122") -> float:
            started = time.perf_counter()
            for i, files in enumerate(sets):
                into.put(files, RecordInfo(dossier_code=f"H40.29.10-{day}-{round_}{i:03d}"))
            return total_mb / (time.perf_counter() - started)

        # interleaved rounds: the machine is shared, so load changes during the run; each
        # archive round is compared with the bare round just before it
        bare_runs, worm_runs, archive_runs, replicated_runs = [], [], [], []
        for round_ in range(rounds):
            bare_runs.append(bare())
            worm_runs.append(bare_worm())
            archive_runs.append(archived(round_))
            replicated_runs.append(archived(round_, replicated, "261121"))
        assert replicated.replicator is not None and replicated.replicator.queue.count() == 0
        ratios = [a / b for a, b in zip(archive_runs, bare_runs, strict=True)]
        worm_ratios = [a / b for a, b in zip(archive_runs, worm_runs, strict=True)]
        # small records for the reindex: one text file each
        for i in range(200):
            path = folder / f"small{i}.txt"
            path.write_text(f"Tờ khai số {i} của {name(random.Random(i))}", encoding="utf-8")
            archive.put([path], RecordInfo(dossier_code=f"H40.29.10-261123-{i:04d}", text=""))
        records = len(archive.records())
        catalogue.clear()
        started = time.perf_counter()
        indexed = archive.reindex()
        reindex_s = time.perf_counter() - started
        assert indexed == records, (indexed, records)
        catalogue.close()
        return {
            "bare": statistics.median(bare_runs),
            "archive": statistics.median(archive_runs),
            "ratio": statistics.median(ratios),
            "worm": statistics.median(worm_runs),
            "worm_ratio": statistics.median(worm_ratios),
            "replicated": statistics.median(replicated_runs),
            "replicated_ratio": statistics.median(
                [r / b for r, b in zip(replicated_runs, bare_runs, strict=True)]
            ),
            "total_mb": total_mb,
            "reindex_s": reindex_s,
            "reindex_records": records,
        }
    finally:
        server.down(timeout=5)
        replica_server.down(timeout=5)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument(
        "--uploads", type=int, default=12, help="records of 3 files in the upload test"
    )
    parser.add_argument("--file-mib", type=int, default=4)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5, help="interleaved upload rounds")
    parser.add_argument("--skip-search", action="store_true", help="upload and reindex only")
    parser.add_argument("--skip-upload", action="store_true", help="search only")
    parser.add_argument("--skip-postgres", action="store_true", help="search on SQLite only")
    args, _ = parser.parse_known_args()

    with tempfile.TemporaryDirectory(prefix="motcua-bench-archive-") as tmp:
        home = Path(tmp)
        up = (
            None
            if args.skip_upload
            else bench_uploads(home, args.uploads, args.file_mib, args.rounds)
        )
        qs = queries(args.queries)
        searches: dict[str, dict[str, float]] = {}
        if not args.skip_search:
            searches["SQLite FTS5"] = bench_search(
                f"sqlite:///{home / 'search.sqlite3'}", args.records, qs
            )
            if not args.skip_postgres:
                with postgres() as url:
                    searches["PostgreSQL FTS"] = bench_search(url, args.records, qs)

    print(f"\nArchive benchmark ({os.cpu_count()} cores)")
    print(f"{'measure':<52} {'value':>12} {'baseline':>12} {'target':>10}")
    if up is not None:
        print(f"{'upload MB/s (median), archive put vs bare put_object':<52} "
              f"{up['archive']:>12.1f} {up['bare']:>12.1f} {'≥0.8×':>10}")  # fmt: skip
        print(f"{'  ratio (median of paired rounds)':<52} {up['ratio']:>12.2f} {1.0:>12.2f} "
              f"{'≥0.80':>10}")  # fmt: skip
        print(f"{'upload MB/s, archive vs bare put into a WORM bucket':<52} "
              f"{up['archive']:>12.1f} {up['worm']:>12.1f} {'':>10}")  # fmt: skip
        print(f"{'  ratio (retention + checksum in both)':<52} {up['worm_ratio']:>12.2f} "
              f"{1.0:>12.2f} {'':>10}")  # fmt: skip
        print(f"{'upload MB/s, replication on (second server)':<52} "
              f"{up['replicated']:>12.1f} {up['bare']:>12.1f} {'':>10}")  # fmt: skip
        print(f"{'  ratio with replication (its cost)':<52} {up['replicated_ratio']:>12.2f} "
              f"{1.0:>12.2f} {'':>10}")  # fmt: skip
    for label, res in searches.items():
        for q in ("p50", "p95"):
            print(f"{f'search {q} ms, {label}, {args.records} records':<52} {res[q]:>12.1f} "
                  f"{res['prev_' + q]:>12.1f} {'<50' if q == 'p95' else '':>10}")  # fmt: skip
        print(f"{'  LIKE scan p50 / p95 ms (no full-text index)':<52} {res['like_p50']:>12.1f} "
              f"{res['like_p95']:>12.1f} {'':>10}")  # fmt: skip
        print(f"{f'  catalogue load s, {label}':<52} {res['load_s']:>12.1f} {'':>12} {'':>10}")
    if up is not None:
        reindex_label = f"reindex s, {up['reindex_records']:.0f} records from the store"
        print(f"{reindex_label:<52} {up['reindex_s']:>12.2f} {'':>12} {'':>10}")
    print("baselines: bare MinIO put_object loop (upload); the previous search on the same "
          "catalogue and queries (search)")  # fmt: skip
    ok = (up is None or up["ratio"] >= 0.8) and all(res["p95"] < 50 for res in searches.values())
    print("targets met" if ok else "targets NOT met")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
