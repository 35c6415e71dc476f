"""`check_services`: a small flow proving the machinery works end to end.

It runs through the real Prefect API (embedded or a server), writes a sample object to the object
store with a SHA-256 checksum, reads it back, and reports the OCR engine's languages. The demo
runs it until the full dossier lifecycle is available.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
from dataclasses import dataclass

from prefect import flow, task

from storage.s3 import S3Config

SAMPLE = "Giấy tiếp nhận hồ sơ và hẹn trả kết quả — bản thử".encode()


@dataclass(frozen=True)
class HealthReport:
    object_store: str
    sha256: str
    round_trip_ok: bool
    tesseract: str
    vietnamese_ocr: bool


@task(retries=3, retry_delay_seconds=[1, 2, 4])
def store_round_trip(config: S3Config, bucket: str) -> tuple[str, bool]:
    client = config.client()
    if not client.bucket_exists(bucket):
        client.make_bucket(bucket)
    digest = hashlib.sha256(SAMPLE).hexdigest()
    client.put_object(
        bucket,
        "health/sample.txt",
        io.BytesIO(SAMPLE),
        len(SAMPLE),
        metadata={"x-amz-meta-sha256": digest},
    )
    response = client.get_object(bucket, "health/sample.txt")
    try:
        back = response.read()
    finally:
        response.close()
        response.release_conn()
    return digest, hashlib.sha256(back).hexdigest() == digest


@task
def tesseract_languages() -> tuple[str, bool]:
    exe = shutil.which("tesseract")
    if exe is None:
        return "missing", False
    version = subprocess.run([exe, "--version"], capture_output=True, text=True, check=False)
    langs = subprocess.run([exe, "--list-langs"], capture_output=True, text=True, check=False)
    first = (
        (version.stdout or version.stderr).splitlines()[0]
        if version.stdout or version.stderr
        else "?"
    )
    return first, "vie" in langs.stdout.split()


@flow(name="check-services", log_prints=False)
def check_services(config: S3Config, bucket: str) -> HealthReport:
    round_trip = store_round_trip.submit(config, bucket)
    ocr = tesseract_languages.submit()
    digest, ok = round_trip.result()
    version, vie = ocr.result()
    return HealthReport(config.endpoint, digest, ok, version, vie)
