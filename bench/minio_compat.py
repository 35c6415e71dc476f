"""Run the MinIO Python SDK's own functional tests against the embedded S3 server, one at a time.

The tests live in the `minio` source distribution (`tests/functional/tests.py`), which motcua does
not vendor and never downloads at run time. Fetch and unpack it once yourself:

    .venv/bin/pip download --no-deps --no-binary :all: minio==7.2.20 -d /tmp/minio-sdist
    tar xzf /tmp/minio-sdist/minio-7.2.20.tar.gz -C /tmp/minio-sdist

then run

    .venv/bin/python bench/minio_compat.py /tmp/minio-sdist/minio-7.2.20 [--out results.json]

Each test runs in its own process (a hang or crash affects only that test, 180 s limit) against a
fresh embedded server in a temporary folder (or the server given by SERVER_ENDPOINT, ACCESS_KEY,
SECRET_KEY). Prints a PASS/FAIL/NA table and writes it as JSON. Without a path it explains how to
get one and exits 0, so `bench/run_all.py` can include it.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# The "full" (MINT_MODE=full) list of minio-py 7.2.x `main()`, then the removal tests it appends.
TESTS = [
    "test_make_bucket_default_region", "test_make_bucket_with_region",
    "test_negative_make_bucket_invalid_name", "test_list_buckets",
    "test_fput_object_small_file", "test_fput_object_large_file",
    "test_fput_object_with_content_type", "test_copy_object_no_copy_condition",
    "test_copy_object_etag_match", "test_copy_object_with_metadata",
    "test_copy_object_negative_etag_match", "test_copy_object_modified_since",
    "test_copy_object_unmodified_since", "test_put_object",
    "test_negative_put_object_with_path_segment", "test_stat_object",
    "test_stat_object_version", "test_get_object", "test_get_object_version",
    "test_fget_object", "test_fget_object_version", "test_get_object_with_default_length",
    "test_get_partial_object", "test_list_objects_v1", "test_list_object_v1_versions",
    "test_list_objects_with_prefix", "test_list_objects_with_1001_files", "test_list_objects",
    "test_list_object_versions", "test_presigned_get_object_default_expiry",
    "test_presigned_get_object_expiry", "test_presigned_get_object_response_headers",
    "test_presigned_get_object_version", "test_presigned_put_object_default_expiry",
    "test_presigned_put_object_expiry", "test_presigned_post_policy", "test_thread_safe",
    "test_set_get_bucket_versioning", "test_get_bucket_policy",
    "test_set_bucket_policy_readonly", "test_set_bucket_policy_readwrite",
    "test_get_bucket_notification", "test_select_object_content",
    "test_upload_snowball_objects", "test_upload_snowball_objects_with_staging",
    "test_remove_object", "test_remove_object_version", "test_remove_objects",
    "test_remove_object_versions", "test_remove_bucket",
]  # fmt: skip


def run_one(sdist: Path, name: str) -> int:
    """Child mode: set up the SDK test module as its `main()` does, run one test."""
    path = sdist / "tests" / "functional" / "tests.py"
    spec = importlib.util.spec_from_file_location("minio_functional_tests", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    from minio import Minio

    module._client = Minio(
        os.environ["SERVER_ENDPOINT"],
        os.environ["ACCESS_KEY"],
        os.environ["SECRET_KEY"],
        secure=os.environ.get("ENABLE_HTTPS", "0") == "1",
    )
    module._is_aws = False
    data_dir = Path(os.environ["DATA_DIR"])
    module._test_file = str(data_dir / "datafile-1-MB")
    module._large_file = str(data_dir / "datafile-11-MB")
    try:
        module._call_test(getattr(module, name))
    except module.TestFailed:
        return 1
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sdist", nargs="?", type=Path, help="the unpacked minio-7.2.x folder")
    parser.add_argument("--out", type=Path, default=Path("minio_compat_results.json"))
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args, _ = parser.parse_known_args()
    if args.sdist is None or not (args.sdist / "tests" / "functional" / "tests.py").is_file():
        print("minio_compat: no unpacked minio sdist given; see the module docstring:")
        print(__doc__.split("\n\n")[1])
        return 0
    if args.one:
        return run_one(args.sdist, args.one)

    from storage.server import EmbeddedS3Server

    with tempfile.TemporaryDirectory(prefix="motcua-minio-compat-") as tmp:
        server = None
        env = dict(os.environ)
        if "SERVER_ENDPOINT" not in env:
            server = EmbeddedS3Server(Path(tmp) / "s3home")
            server.up(timeout=180)
            config = server.setup_config()  # the SDK's suite creates and configures buckets
            env.update(
                SERVER_ENDPOINT=config.endpoint,
                ACCESS_KEY=config.access_key,
                SECRET_KEY=config.secret_key,
            )
        env.setdefault("ENABLE_HTTPS", "0")
        data_dir = Path(tmp) / "data"
        data_dir.mkdir()
        for label, size in (("datafile-1-MB", 1), ("datafile-11-MB", 11)):
            (data_dir / label).write_bytes(os.urandom(size * 1024 * 1024))
        env["DATA_DIR"] = str(data_dir)
        results: list[dict[str, Any]] = []
        try:
            for name in TESTS:
                started = time.monotonic()
                try:
                    proc = subprocess.run(
                        [sys.executable, __file__, str(args.sdist), "--one", name],
                        env=env,
                        capture_output=True,
                        text=True,
                        timeout=180,
                        cwd=tmp,
                    )
                    entry = _last_json(proc.stdout) or {}
                    status = entry.get("status") or ("PASS" if proc.returncode == 0 else "FAIL")
                    message = entry.get("message") or proc.stderr.strip().splitlines()[-1:]
                except subprocess.TimeoutExpired:
                    status, message = "FAIL", "timed out after 180 s"
                seconds = time.monotonic() - started
                results.append(
                    {"test": name, "status": status, "seconds": round(seconds, 1),
                     "message": message if status != "PASS" else ""}
                )  # fmt: skip
                print(f"{status:<5} {seconds:6.1f}s  {name}  {results[-1]['message'] or ''}"[:200])
        finally:
            if server is not None:
                server.down(timeout=5)
    counts = {s: sum(r["status"] == s for r in results) for s in ("PASS", "FAIL", "NA")}
    print(f"\n{counts['PASS']} pass, {counts['FAIL']} fail, {counts['NA']} not implemented "
          f"of {len(results)}")  # fmt: skip
    args.out.write_text(json.dumps({"counts": counts, "results": results}, indent=2) + "\n")
    print(f"results written to {args.out}")
    return 0


def _last_json(stdout: str) -> dict[str, Any] | None:
    for line in reversed(stdout.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                data: dict[str, Any] = json.loads(line)
                return data
            except ValueError:
                continue
    return None


if __name__ == "__main__":
    raise SystemExit(main())
