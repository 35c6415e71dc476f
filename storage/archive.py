"""The write-once archive: records as BagIt packages in an object-lock bucket, a catalogue beside.

Three buckets, created on first use: originals as received (versioned), the archive (object lock
and versioning, default retention from the retention policy), and a quarantine for inputs that
failed. A record's payload is uploaded first, its tag files next and `manifest-sha256.txt` last;
a prefix without a manifest is a leftover that `sweep` reports and no listing shows. Every
object's SHA-256 is computed while uploading, sent as `x-amz-checksum-sha256` for the server to
check, and compared with what the server echoes (or re-read when it echoes nothing). Transient
server failures are retried with exponential backoff (tenacity), then reported as
`ServiceUnavailableError`. The catalogue is a cache: `reindex` rebuilds it from the store alone.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import functools
import hashlib
import io
import itertools
import json
import logging
import mimetypes
import shutil
import tempfile
import urllib.parse
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

import urllib3
from minio import Minio
from minio.commonconfig import ENABLED
from minio.error import S3Error, ServerError
from minio.objectlockconfig import YEARS, ObjectLockConfig
from minio.retention import Retention
from minio.versioningconfig import VersioningConfig
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

from motcua.errors import (
    BadArgumentError,
    CheckFailedError,
    ConfigurationError,
    InputFileError,
    MotcuaError,
    ServiceUnavailableError,
)
from motcua.types import nfc
from storage.catalogue import Catalogue, CatalogueEntry, SearchHit, SearchQuery, searchable_text
from storage.policy import ExpectedBucket, bucket_drift, guard_policy
from storage.record import (
    BAG_INFO,
    BAGIT_DECLARATION,
    BAGIT_TXT,
    FULLTEXT,
    MANIFEST,
    METADATA,
    RECORDS_PREFIX,
    TAGMANIFEST,
    PayloadFile,
    RecordInfo,
    archive_safe_name,
    bag_info_text,
    build_metadata,
    check_record_id,
    manifest_text,
    parse_manifest,
    record_id_for,
    record_prefix,
    safe_payload_name,
)
from storage.retention import RetentionClass, RetentionPolicy, load_retention_policy
from storage.s3 import S3Config

log = logging.getLogger(__name__)

T = TypeVar("T")
A = TypeVar("A")
R = TypeVar("R")
PdfChecker = Callable[[bytes, str], list[str]]  # (pdf bytes, object name) → problems found
_CHUNK = 1024 * 1024
_MIN_PART = 5 * 1024 * 1024  # S3's smallest multipart part
_KEEP_IN_MEMORY = 96 * 1024 * 1024  # per put: small payload files read once, hashed, sent


@dataclass(frozen=True)
class Buckets:
    originals: str = "motcua-originals"
    archive: str = "motcua-archive"
    quarantine: str = "motcua-quarantine"


@dataclass(frozen=True)
class RetryPolicy:
    """How long to keep trying a server that went away: attempts × exponential waits."""

    attempts: int = 6
    wait_initial: float = 0.5
    wait_max: float = 10.0


@dataclass(frozen=True)
class PutResult:
    record_id: str
    created: bool  # False when the same record was archived before (idempotent put)
    files: tuple[PayloadFile, ...]


@dataclass(frozen=True)
class Finding:
    """One problem an audit found, naming the record and the object."""

    record_id: str
    object: str
    problem: str

    def __str__(self) -> str:
        return f"{self.record_id}: {self.object}: {self.problem}"


@dataclass(frozen=True)
class RecordAudit:
    record_id: str
    objects_checked: int
    findings: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        return not self.findings

    def as_dict(self) -> dict[str, Any]:
        return {
            "record_id": self.record_id,
            "ok": self.ok,
            "objects_checked": self.objects_checked,
            "findings": [asdict(f) for f in self.findings],
        }


@dataclass(frozen=True)
class Leftover:
    """A prefix with objects but no manifest: an interrupted put, not a record."""

    record_id: str
    objects: tuple[str, ...]
    newest: dt.datetime | None


@dataclass(frozen=True)
class _Payload:
    name: str
    path: Path
    sha256: str
    size: int
    data: bytes | None  # kept from hashing when small, so the file is read once


@dataclass(frozen=True)
class _Version:
    name: str  # relative to the record prefix
    version_id: str | None
    latest: bool
    delete_marker: bool
    modified: dt.datetime | None
    size: int


@dataclass
class _Listing:
    versions: dict[str, list[_Version]] = field(default_factory=dict)

    def archived(self, name: str) -> _Version | None:
        """The first version written (the one retention protects), not a delete marker."""
        kept = [v for v in self.versions.get(name, []) if not v.delete_marker]
        if not kept:
            return None
        epoch = dt.datetime.min.replace(tzinfo=dt.UTC)
        return min(kept, key=lambda v: (v.modified or epoch, v.latest))


class RetentionRefusedError(CheckFailedError):
    """The store refused to delete or change a retained version (as it must)."""


def _transient(exc: BaseException) -> bool:
    if isinstance(exc, ServerError):
        return True
    if isinstance(exc, S3Error):
        return exc.code in {"InternalError", "ServiceUnavailable", "SlowDown", "RequestTimeout"}
    return isinstance(exc, urllib3.exceptions.HTTPError | ConnectionError | TimeoutError)


class _HashingReader:
    """Wraps a file: hashes what the SDK reads, so the digest is of the bytes sent."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self.sha256 = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        self.sha256.update(data)
        return data


def _sha256_file(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


class Archive:
    """Put, find, fetch, audit, hold and export archived records."""

    def __init__(
        self,
        s3: S3Config,
        catalogue: Catalogue,
        buckets: Buckets | None = None,
        retention: RetentionPolicy | None = None,
        retry: RetryPolicy | None = None,
        single_put_limit: int = 32 * 1024 * 1024,
        part_size: int = 16 * 1024 * 1024,
        resolve_s3: Callable[[], S3Config] | None = None,
        upload_threads: int = 3,
        payload_threads: int = 2,
        setup: S3Config | None = None,
    ) -> None:
        """`resolve_s3` re-reads where the server is between retries (an embedded server that
        restarted may listen on other ports); without it the endpoint is fixed. `setup` is the
        set-up identity, used only to create and configure missing buckets; without it a
        missing bucket is created with `s3` (which a least-privilege key is refused)."""
        self.s3 = s3
        self.catalogue = catalogue
        self.buckets = buckets or Buckets()
        self.retention = retention or load_retention_policy()
        self.retry = retry or RetryPolicy()
        self.single_put_limit = single_put_limit
        self.part_size = part_size
        self.resolve_s3 = resolve_s3
        self.upload_threads = upload_threads
        self.payload_threads = payload_threads
        self.client: Minio = _client(s3)
        self.setup = setup
        self._buckets_ready = False

    # -- plumbing --------------------------------------------------------------------------

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        """Run one S3 operation, retrying transient failures; a clear error when they persist."""

        def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            log.warning(
                "object store %s failed (%s), attempt %d; retrying",
                what,
                type(exc).__name__,
                state.attempt_number,
            )
            self._reconnect()

        retrying = Retrying(
            stop=stop_after_attempt(self.retry.attempts),
            wait=wait_exponential(multiplier=self.retry.wait_initial, max=self.retry.wait_max),
            retry=retry_if_exception(_transient),
            before_sleep=before_sleep,
            reraise=True,
        )
        try:
            return retrying(fn)
        except MotcuaError:
            raise
        except Exception as exc:
            if isinstance(exc, S3Error) and exc.code in {
                "InvalidAccessKeyId",
                "SignatureDoesNotMatch",
            }:
                raise ConfigurationError(
                    f"the object store at {self.s3.endpoint} refused the credentials ({exc.code})",
                    hint="check MOTCUA_S3_ACCESS_KEY and MOTCUA_S3_SECRET_KEY",
                ) from None
            if _transient(exc):
                raise ServiceUnavailableError(
                    f"the object store at {self.s3.endpoint} failed while {what} after "
                    f"{self.retry.attempts} attempts ({type(exc).__name__})",
                    hint="check that the S3 server runs (`motcua services status`), then run "
                    "the same command again: a repeated put is safe",
                ) from None
            raise

    def _reconnect(self) -> None:
        if self.resolve_s3 is None:
            return
        try:
            config = self.resolve_s3()
        except MotcuaError:
            return  # still down; the next attempt fails and waits again
        if config != self.s3:
            log.warning("object store moved to %s; reconnecting", config.endpoint)
            self.s3 = config
            self.client = _client(config)

    def ensure_buckets(self) -> None:
        """Create the three buckets on first use, with versioning and (archive) object lock."""
        if self._buckets_ready:
            return
        self._make_bucket(self.buckets.originals, lock=False)
        self._make_bucket(self.buckets.quarantine, lock=False)
        self._make_bucket(self.buckets.archive, lock=True)
        self._buckets_ready = True

    def expected_buckets(self) -> list[ExpectedBucket]:
        """The three buckets and how each must be configured (what the audit compares)."""
        default = self.retention.get(None)
        return [
            ExpectedBucket(self.buckets.originals),
            ExpectedBucket(self.buckets.quarantine),
            ExpectedBucket(self.buckets.archive, default.mode, min(default.years or 100, 100)),
        ]

    def bucket_findings(self) -> list[Finding]:
        """Drift of each bucket's versioning, object lock, policy and lifecycle rules."""
        self.ensure_buckets()  # created on first use, as by a put: a new office has no drift
        findings = []
        for expected in self.expected_buckets():
            problems = self._call(
                f"reading the configuration of {expected.name}",
                lambda e=expected: bucket_drift(self.client, e),  # type: ignore[misc]
            )
            findings += [Finding("(bucket)", expected.name, problem) for problem in problems]
        return findings

    def _make_bucket(self, name: str, *, lock: bool) -> None:
        if not self._call(f"checking bucket {name}", lambda: self.client.bucket_exists(name)):
            setup = _client(self.setup) if self.setup is not None else self.client
            try:
                self._call(
                    f"creating bucket {name}",
                    lambda: setup.make_bucket(name, object_lock=lock),
                )
            except S3Error as exc:
                if exc.code not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                    raise ConfigurationError(
                        f"cannot create bucket {name} ({exc.code})",
                        hint="check the bucket names (MOTCUA_BUCKET_*) and the set-up identity "
                        "(MOTCUA_S3_SETUP_ACCESS_KEY / MOTCUA_S3_SETUP_SECRET_KEY, or "
                        "`motcua services up` for the embedded store)",
                    ) from None
            if lock:
                default = self.retention.get(None)
                years = min(default.years or 100, 100)
                self._call(
                    f"setting default retention on {name}",
                    lambda: setup.set_object_lock_config(
                        name, ObjectLockConfig(default.mode, years, YEARS)
                    ),
                )
            else:
                self._call(
                    f"enabling versioning on {name}",
                    lambda: setup.set_bucket_versioning(name, VersioningConfig(ENABLED)),
                )
            # last: the guard denies changing versioning and the policy from here on
            self._call(
                f"setting the guard policy on {name}",
                lambda: setup.set_bucket_policy(name, json.dumps(guard_policy(name))),
            )
        if lock:
            try:
                self._call(
                    f"reading object lock of {name}",
                    lambda: self.client.get_object_lock_config(name),
                )
            except S3Error:
                raise ConfigurationError(
                    f"bucket {name} exists without object lock: it cannot hold the archive",
                    hint="set MOTCUA_BUCKET_ARCHIVE to a new bucket name",
                ) from None

    def _list(self, prefix: str) -> Iterator[_Version]:
        def fetch() -> list[_Version]:
            out = []
            objects = self.client.list_objects(
                self.buckets.archive, prefix=prefix, recursive=True, include_version=True
            )
            try:
                first = next(objects, None)
            except S3Error as exc:
                if exc.code == "NoSuchBucket":  # nothing archived yet
                    return []
                raise
            for obj in itertools.chain([first] if first else [], objects):
                if obj.object_name is None:
                    continue
                out.append(
                    _Version(
                        name=obj.object_name,
                        version_id=obj.version_id,
                        latest=str(obj.is_latest).lower() == "true",
                        delete_marker=bool(obj.is_delete_marker),
                        modified=obj.last_modified,
                        size=obj.size or 0,
                    )
                )
            return out

        yield from self._call(f"listing {prefix}", fetch)

    def _scan(self, prefix: str = RECORDS_PREFIX) -> dict[str, _Listing]:
        """Every version under `records/`, grouped by record id and object name."""
        listings: dict[str, _Listing] = {}
        for version in self._list(prefix):
            rest = version.name[len(RECORDS_PREFIX) :]
            record_id, _, name = rest.partition("/")
            if not name:
                continue
            listing = listings.setdefault(record_id, _Listing())
            listing.versions.setdefault(name, []).append(
                _Version(
                    name=name,
                    version_id=version.version_id,
                    latest=version.latest,
                    delete_marker=version.delete_marker,
                    modified=version.modified,
                    size=version.size,
                )
            )
        return listings

    def _listing(self, record_id: str) -> _Listing:
        return self._scan(record_prefix(check_record_id(record_id))).get(record_id, _Listing())

    def _read(self, key: str, version_id: str | None) -> bytes:
        def fetch() -> bytes:
            response = self.client.get_object(self.buckets.archive, key, version_id=version_id)
            try:
                return bytes(response.read())
            finally:
                response.close()
                response.release_conn()

        return self._call(f"reading {key}", fetch)

    def _hash_object(self, key: str, version_id: str | None, sink: BinaryIO | None = None) -> str:
        def fetch() -> str:
            digest = hashlib.sha256()
            if sink is not None:
                sink.seek(0)
                sink.truncate()
            response = self.client.get_object(self.buckets.archive, key, version_id=version_id)
            try:
                for chunk in response.stream(_CHUNK):
                    digest.update(chunk)
                    if sink is not None:
                        sink.write(chunk)
            finally:
                response.close()
                response.release_conn()
            return digest.hexdigest()

        return self._call(f"reading {key}", fetch)

    # -- writing ---------------------------------------------------------------------------

    def _retention(self, cls: RetentionClass, now: dt.datetime) -> Retention:
        return Retention(cls.mode, cls.retain_until(now))

    def _put_bytes(
        self,
        key: str,
        data: bytes,
        retention: Retention,
        content_type: str,
        sha_hex: str | None = None,
    ) -> tuple[str | None, str]:
        """Single PUT with the SHA-256 sent for the server to check; returns (version, sha).

        `sha_hex` is the digest already computed over these very bytes, if any."""
        sha_hex = sha_hex or hashlib.sha256(data).hexdigest()
        sha_b64 = base64.b64encode(bytes.fromhex(sha_hex)).decode()

        attempts = 0

        def send() -> str | None:
            nonlocal attempts
            attempts += 1
            if attempts > 1:
                # The connection broke after the server took the PUT: writing again would add
                # a second version, which the audit rightly calls tampering.
                landed, version = self._landed(key, sha_hex)
                if landed:
                    return version
            result = self.client.put_object(
                self.buckets.archive,
                key,
                io.BytesIO(data),
                len(data),
                content_type=content_type,
                metadata={"x-amz-checksum-sha256": sha_b64, "sha256": sha_hex},
                retention=retention,
                # one PUT, never multipart: the checksum header is of the whole object
                part_size=max(_MIN_PART, len(data)),
            )
            echoed = result.http_headers.get("x-amz-checksum-sha256")
            if echoed is not None and echoed != sha_b64:
                raise CheckFailedError(
                    f"{key}: the object store stored a different SHA-256 than was sent",
                    hint="the record is incomplete; run the put again",
                )
            if echoed is None:  # the server does not speak checksums: read it back
                stored = self._hash_object(key, result.version_id)
                if stored != sha_hex:
                    raise CheckFailedError(
                        f"{key}: read back with a different SHA-256",
                        hint="the record is incomplete; run the put again",
                    )
            return result.version_id

        return self._call(f"uploading {key}", send), sha_hex

    def _landed(self, key: str, sha_hex: str) -> tuple[bool, str | None]:
        """Whether the newest version of `key` is already these bytes (by the SHA-256 motcua
        stored with it), and its version id."""
        try:
            stat = self.client.stat_object(self.buckets.archive, key)
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchVersion", "NoSuchObject"):
                return False, None
            raise
        stored = (stat.metadata or {}).get("x-amz-meta-sha256")
        return stored == sha_hex, stat.version_id

    def _put_large(
        self, key: str, path: Path, expected: str, size: int, retention: Retention
    ) -> str | None:
        """Multipart upload hashing the bytes sent, then read back and compared."""

        def send() -> str | None:
            with open(path, "rb") as fh:
                reader = _HashingReader(fh)
                result = self.client.put_object(
                    self.buckets.archive,
                    key,
                    reader,  # type: ignore[arg-type]
                    size,
                    content_type=_content_type(path.name),
                    metadata={"sha256": expected},
                    retention=retention,
                    part_size=self.part_size,
                    num_parallel_uploads=1,
                )
            if reader.sha256.hexdigest() != expected:
                raise InputFileError(
                    path, "changed while it was being archived", hint="archive it again"
                )
            return result.version_id

        version = self._call(f"uploading {key}", send)
        if self._hash_object(key, version) != expected:
            raise CheckFailedError(
                f"{key}: read back with a different SHA-256",
                hint="the record is incomplete; run the put again",
            )
        return version

    def _existing(self, key: str, sha_hex: str) -> str | None:
        """The version id of `key` when the store already holds these bytes (a retried put)."""
        try:
            stat = self._call(
                f"checking {key}", lambda: self.client.stat_object(self.buckets.archive, key)
            )
        except S3Error as exc:
            if exc.code in {"NoSuchKey", "NoSuchVersion", "NoSuchObject"}:
                return None
            raise
        meta = {k.lower(): v for k, v in (stat.metadata or {}).items()}
        return stat.version_id if meta.get("x-amz-meta-sha256") == sha_hex else None

    def put(self, files: Sequence[Path], info: RecordInfo) -> PutResult:
        """Archive `files` as one record; the same files and metadata again return the same id."""
        if not files:
            raise BadArgumentError("nothing to archive", hint="name at least one file")
        info = info.normalised()
        retention_class = self.retention.get(info.retention_class)
        info = dataclasses.replace(info, retention_class=retention_class.name)
        names: dict[str, Path] = {}
        hashed: list[_Payload] = []
        kept = 0  # bytes held in memory between hashing and sending (small files only)
        for path in files:
            if not path.is_file():
                raise InputFileError(path, "not found or not a file", hint="check the path")
            name = safe_payload_name(path.name)
            if name in names:
                raise BadArgumentError(
                    f"two files are named {name} ({names[name]} and {path})",
                    hint="rename one of them",
                )
            names[name] = path
            size = path.stat().st_size
            if size <= self.single_put_limit and kept + size <= _KEEP_IN_MEMORY:
                data = path.read_bytes()
                kept += len(data)
                hashed.append(
                    _Payload(name, path, hashlib.sha256(data).hexdigest(), len(data), data)
                )
            else:
                sha_hex, size = _sha256_file(path)
                hashed.append(_Payload(name, path, sha_hex, size, None))
        record_id = record_id_for(info, [(p.name, p.sha256) for p in hashed])
        prefix = record_prefix(record_id)
        self.ensure_buckets()
        listing = self._listing(record_id)
        if listing.archived(MANIFEST) is not None:
            log.info("record %s is archived already", record_id)
            metadata = json.loads(self._read_archived(record_id, listing, METADATA))
            self.catalogue.upsert([self._entry(record_id, listing, metadata)])
            return PutResult(record_id, False, tuple(_payload_from(metadata)))

        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        earlier = listing.archived(METADATA)
        if earlier is not None:  # an interrupted put: keep its date so the tag files match
            now = dt.datetime.fromisoformat(
                json.loads(self._read_archived(record_id, listing, METADATA))["archived_at"]
            )
        retention = self._retention(retention_class, now)

        def upload(item: _Payload) -> PayloadFile:
            name, path, sha_hex, size = item.name, item.path, item.sha256, item.size
            key = f"{prefix}data/{name}"
            version = self._existing(key, sha_hex) if _name_in(listing, f"data/{name}") else None
            if version is None:
                if size <= self.single_put_limit:
                    if item.data is not None:  # hashed from these bytes a moment ago
                        version, sent = self._put_bytes(
                            key, item.data, retention, _content_type(name), sha_hex
                        )
                    else:
                        data = path.read_bytes()
                        version, sent = self._put_bytes(key, data, retention, _content_type(name))
                    if sent != sha_hex:
                        raise InputFileError(
                            path, "changed while it was being archived", hint="archive it again"
                        )
                else:
                    version = self._put_large(key, path, sha_hex, size, retention)
            return PayloadFile(name=name, size=size, sha256=sha_hex, version_id=version)

        # Two payload files at a time (three or more made the embedded server slower per byte
        # on two cores, bench/archive.py); the small tag files go up three at a time.
        payload = self._concurrently(upload, hashed, self.payload_threads)

        metadata = build_metadata(record_id, info, payload, retention_class.label, now)
        tag_files = {
            BAGIT_TXT: BAGIT_DECLARATION.encode(),
            BAG_INFO: bag_info_text(record_id, info, payload, now.date().isoformat()).encode(),
            METADATA: (json.dumps(metadata, ensure_ascii=False, indent=2) + "\n").encode(),
            FULLTEXT: info.text.encode(),
        }
        manifest = manifest_text({f"data/{p.name}": p.sha256 for p in payload}).encode()
        tag_digests = {name: hashlib.sha256(data).hexdigest() for name, data in tag_files.items()}
        tag_digests[MANIFEST] = hashlib.sha256(manifest).hexdigest()
        tag_files[TAGMANIFEST] = manifest_text(tag_digests).encode()
        tag_files[MANIFEST] = manifest  # last: its presence makes the record exist

        def upload_tag(item: tuple[str, bytes]) -> None:
            name, data = item
            key = prefix + name
            if _name_in(listing, name) and self._existing(key, hashlib.sha256(data).hexdigest()):
                return
            content_type = "application/json" if name.endswith(".json") else "text/plain"
            self._put_bytes(key, data, retention, content_type + "; charset=utf-8")

        # The tag files concurrently, and only when all are stored, the manifest.
        self._concurrently(upload_tag, [(n, d) for n, d in tag_files.items() if n != MANIFEST])
        upload_tag((MANIFEST, tag_files[MANIFEST]))
        log.info("archived record %s (%d files)", record_id, len(payload))
        self.catalogue.upsert([self._entry(record_id, None, metadata, info.text)])
        return PutResult(record_id, True, tuple(payload))

    def _concurrently(
        self, fn: Callable[[A], R], items: Sequence[A], threads: int | None = None
    ) -> list[R]:
        """`fn` over `items` on a few threads, results in order; the first error is raised
        after every started upload has finished (nothing is left running behind the caller)."""
        threads = self.upload_threads if threads is None else threads
        if len(items) <= 1 or threads <= 1:
            return [fn(item) for item in items]
        with ThreadPoolExecutor(max_workers=min(threads, len(items))) as pool:
            futures = [pool.submit(fn, item) for item in items]
            wait(futures)
        return [future.result() for future in futures]

    def store_original(self, path: Path, dossier_code: str) -> tuple[str, str | None]:
        """Keep an input as received in the versioned originals bucket; (key, version id)."""
        self.ensure_buckets()
        sha_hex, size = _sha256_file(path)
        key = f"{nfc(dossier_code)}/{sha_hex[:16]}-{archive_safe_name(path.name)}"
        return key, self._put_plain(self.buckets.originals, key, path, size, {"sha256": sha_hex})

    def quarantine(self, path: Path, reason: str) -> str:
        """Set aside an input that failed, with the reason as metadata; returns the key."""
        self.ensure_buckets()
        sha_hex, size = _sha256_file(path)
        key = f"{dt.date.today().isoformat()}/{sha_hex[:16]}-{archive_safe_name(path.name)}"
        meta = {"sha256": sha_hex, "reason": urllib.parse.quote(nfc(reason))}
        self._put_plain(self.buckets.quarantine, key, path, size, meta)
        return key

    def _put_plain(
        self, bucket: str, key: str, path: Path, size: int, meta: dict[str, str]
    ) -> str | None:
        def send() -> str | None:
            with open(path, "rb") as fh:
                result = self.client.put_object(
                    bucket,
                    key,
                    fh,
                    size,
                    content_type=_content_type(path.name),
                    metadata=dict(meta),
                    part_size=self.part_size,
                )
            return result.version_id

        return self._call(f"uploading {key}", send)

    # -- reading ---------------------------------------------------------------------------

    def _read_archived(self, record_id: str, listing: _Listing, name: str) -> bytes:
        version = listing.archived(name)
        if version is None:
            raise CheckFailedError(f"{record_id}: {name} is missing", hint="run `archive verify`")
        return self._read(record_prefix(record_id) + name, version.version_id)

    def _require(self, record_id: str) -> _Listing:
        listing = self._listing(record_id)
        if listing.archived(MANIFEST) is None:
            raise BadArgumentError(
                f"không có hồ sơ lưu trữ {record_id} (no record {record_id} in bucket "
                f"{self.buckets.archive})",
                hint="tìm mã bản ghi bằng `motcua archive search` (find the record id first)",
            )
        return listing

    def metadata(self, record_id: str) -> dict[str, Any]:
        listing = self._require(record_id)
        data: dict[str, Any] = json.loads(self._read_archived(record_id, listing, METADATA))
        return data

    def records(self) -> list[str]:
        """Ids of complete records (with a manifest), sorted."""
        return sorted(rid for rid, lst in self._scan().items() if lst.archived(MANIFEST))

    def sweep(self) -> list[Leftover]:
        """Prefixes with objects but no manifest: interrupted puts (never listed as records)."""
        leftovers = []
        for record_id, listing in sorted(self._scan().items()):
            if listing.archived(MANIFEST) is None:
                stamps = [v.modified for vs in listing.versions.values() for v in vs if v.modified]
                leftovers.append(
                    Leftover(record_id, tuple(sorted(listing.versions)), max(stamps, default=None))
                )
        return leftovers

    def get(self, record_id: str, out_dir: Path) -> Path:
        """Download a record as a BagIt bag under `out_dir/<record_id>`, verifying every file."""
        listing = self._require(record_id)
        manifest = parse_manifest(
            self._read_archived(record_id, listing, MANIFEST).decode(), f"{record_id}/{MANIFEST}"
        )
        tagmanifest = parse_manifest(
            self._read_archived(record_id, listing, TAGMANIFEST).decode(),
            f"{record_id}/{TAGMANIFEST}",
        )
        target = out_dir / record_id
        target.mkdir(parents=True, exist_ok=True)
        problems = []
        for name, expected in {**manifest, **tagmanifest, TAGMANIFEST: ""}.items():
            version = listing.archived(name)
            if version is None:
                problems.append(f"{name}: missing")
                continue
            dest = target / name
            dest.parent.mkdir(parents=True, exist_ok=True)
            with open(dest, "w+b") as fh:
                actual = self._hash_object(record_prefix(record_id) + name, version.version_id, fh)
            if expected and actual != expected:
                problems.append(f"{name}: SHA-256 differs from the manifest")
        if problems:
            raise CheckFailedError(
                f"hồ sơ {record_id} không khớp manifest (record failed verification): "
                + "; ".join(problems),
                hint=f"chạy `motcua archive verify {record_id}` và báo cán bộ lưu trữ",
            )
        return target

    def search(self, query: SearchQuery) -> list[SearchHit]:
        return self.catalogue.search(query)

    def presigned_url(
        self, record_id: str, name: str, expires: dt.timedelta = dt.timedelta(minutes=15)
    ) -> str:
        """A short-lived download URL for one file of a record (its archived version)."""
        listing = self._require(record_id)
        for candidate in (name, f"data/{nfc(name)}"):
            version = listing.archived(candidate)
            if version is not None:
                sign = functools.partial(
                    self.client.presigned_get_object,
                    self.buckets.archive,
                    record_prefix(record_id) + candidate,
                    expires=expires,
                    version_id=version.version_id,
                )
                return self._call("signing a URL", sign)
        raise BadArgumentError(
            f"hồ sơ {record_id} không có tệp {name} (record has no file {name})",
            hint="list its files with `motcua archive get` or the metadata",
        )

    # -- audit, hold, delete ---------------------------------------------------------------

    def verify(self, record_id: str, pdf_checker: PdfChecker | None = None) -> RecordAudit:
        """Fixity audit: re-hash every object, look for versions hiding the archived one."""
        listing = self._listing(record_id)
        findings: list[Finding] = []

        def found(name: str, problem: str) -> None:
            findings.append(Finding(record_id, name, problem))

        if listing.archived(MANIFEST) is None:
            found(MANIFEST, "missing: the record does not exist or was never completed")
            return RecordAudit(record_id, 0, tuple(findings))
        for name, versions in sorted(listing.versions.items()):
            markers = sum(v.delete_marker for v in versions)
            if markers:
                found(name, f"{markers} delete marker(s) hide the archived version")
            if len(versions) - markers > 1:
                found(
                    name, f"{len(versions) - markers - 1} newer version(s) written after archiving"
                )
        try:
            manifest = parse_manifest(
                self._read_archived(record_id, listing, MANIFEST).decode(), MANIFEST
            )
            tagmanifest = parse_manifest(
                self._read_archived(record_id, listing, TAGMANIFEST).decode(), TAGMANIFEST
            )
        except (CheckFailedError, UnicodeDecodeError) as exc:
            found(MANIFEST, f"unreadable manifest ({exc})")
            return RecordAudit(record_id, 0, tuple(findings))
        expected = {**manifest, **tagmanifest}
        checked = 0
        for name, sha_hex in sorted(expected.items()):
            version = listing.archived(name)
            if version is None:
                found(name, "listed in the manifest but missing from the store")
                continue
            key = record_prefix(record_id) + name
            want_pdf = pdf_checker is not None and name.lower().endswith(".pdf")
            buffer = io.BytesIO() if want_pdf else None
            actual = self._hash_object(key, version.version_id, buffer)
            checked += 1
            if actual != sha_hex:
                found(name, f"SHA-256 {actual[:12]}… differs from the manifest {sha_hex[:12]}…")
            if want_pdf and pdf_checker is not None and buffer is not None:
                try:
                    problems = pdf_checker(buffer.getvalue(), name)
                except Exception as exc:  # a checker must report, not abort the audit
                    problems = [f"signature check failed to run ({type(exc).__name__}: {exc})"]
                for problem in problems:
                    found(name, problem)
        for name in sorted(set(listing.versions) - set(expected) - {TAGMANIFEST}):
            found(name, "not listed in the manifest (written behind the archive's back)")
        return RecordAudit(record_id, checked, tuple(findings))

    def _archived_versions(self, record_id: str) -> list[tuple[str, str | None]]:
        listing = self._require(record_id)
        out = []
        for name in sorted(listing.versions):
            version = listing.archived(name)
            if version is not None:
                out.append((record_prefix(record_id) + name, version.version_id))
        return out

    def hold(self, record_id: str, on: bool = True) -> int:
        """Set or release a legal hold on every archived object of a record; returns the count."""
        objects = self._archived_versions(record_id)
        for key, version_id in objects:
            if on:
                self._call(
                    f"holding {key}",
                    lambda k=key, v=version_id: self.client.enable_object_legal_hold(  # type: ignore[misc]
                        self.buckets.archive, k, v
                    ),
                )
            else:
                self._call(
                    f"releasing {key}",
                    lambda k=key, v=version_id: self.client.disable_object_legal_hold(  # type: ignore[misc]
                        self.buckets.archive, k, v
                    ),
                )
        log.info(
            "legal hold %s on record %s (%d objects)",
            "set" if on else "released",
            record_id,
            len(objects),
        )
        self.catalogue.set_hold(record_id, on)
        return len(objects)

    def is_held(self, record_id: str) -> bool:
        key, version_id = self._archived_versions(record_id)[0]
        return bool(
            self._call(
                f"reading hold of {key}",
                lambda: self.client.is_object_legal_hold_enabled(
                    self.buckets.archive, key, version_id
                ),
            )
        )

    def delete_record(self, record_id: str) -> None:
        """Try to delete a record's archived versions; retention must refuse, and it is logged."""
        refused = []
        for key, version_id in self._archived_versions(record_id):
            try:
                self._call(
                    f"deleting {key}",
                    lambda k=key, v=version_id: self.client.remove_object(  # type: ignore[misc]
                        self.buckets.archive, k, v
                    ),
                )
                log.warning(
                    "deleted archived version %s of %s: it was not retained", version_id, key
                )
            except S3Error as exc:
                log.warning(
                    "refused: deleting archived version %s of %s (%s)", version_id, key, exc.code
                )
                refused.append(key)
        if refused:
            raise RetentionRefusedError(
                f"bản lưu trữ {record_id} đang trong thời hạn bảo quản: không thể xóa "
                f"({len(refused)} objects refused by the store)",
                hint="retention and legal hold protect archived records until they expire",
            )

    # -- catalogue -------------------------------------------------------------------------

    def _entry(
        self,
        record_id: str,
        listing: _Listing | None,
        metadata: dict[str, Any],
        fulltext: str | None = None,
    ) -> CatalogueEntry:
        if fulltext is None:
            fulltext = (
                self._read_archived(record_id, listing, FULLTEXT).decode("utf-8", "replace")
                if listing is not None and listing.archived(FULLTEXT) is not None
                else ""
            )
        archived_at = dt.datetime.fromisoformat(metadata["archived_at"])
        return CatalogueEntry(
            record_id=record_id,
            dossier_code=metadata.get("code", ""),
            title=metadata.get("title", ""),
            procedure=metadata.get("procedure", ""),
            retention_class=metadata.get("retention_class") or "",
            date_start=_date(metadata.get("start_date"), archived_at),
            date_end=_date(metadata.get("end_date"), archived_at),
            archived_at=archived_at,
            id_numbers=tuple(metadata.get("id_numbers", [])),
            metadata=metadata,
            text=searchable_text(metadata, fulltext),
        )

    def reindex(self) -> int:
        """Rebuild the catalogue from the object store alone; returns the number of records."""
        scanned = self._scan()

        def entries() -> Iterable[CatalogueEntry]:
            for record_id, listing in sorted(scanned.items()):
                if listing.archived(MANIFEST) is None:
                    continue
                try:
                    metadata = json.loads(self._read_archived(record_id, listing, METADATA))
                    yield self._entry(record_id, listing, metadata)
                except (ValueError, KeyError, CheckFailedError) as exc:
                    log.warning("record %s not indexed: %s", record_id, exc)

        collected = list(entries())
        self.catalogue.clear()
        return self.catalogue.upsert(collected)

    # -- dissemination ---------------------------------------------------------------------

    def export(
        self, record_id: str, zip_path: Path, pdf_checker: PdfChecker | None = None
    ) -> RecordAudit:
        """A dissemination package: the bag's files, metadata, and a verification report."""
        audit = self.verify(record_id, pdf_checker)
        with tempfile.TemporaryDirectory(prefix="motcua-export-") as tmp:
            bag = self.get(record_id, Path(tmp)) if audit.ok else None
            report = {
                **audit.as_dict(),
                "verified_at": dt.datetime.now(dt.UTC).isoformat(),
                "bucket": self.buckets.archive,
            }
            zip_path.parent.mkdir(parents=True, exist_ok=True)
            partial = zip_path.with_name(zip_path.name + ".part")
            with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as zf:
                if bag is not None:
                    for path in sorted(bag.rglob("*")):
                        if path.is_file():
                            zf.write(path, f"{record_id}/{path.relative_to(bag).as_posix()}")
                zf.writestr(
                    "verification.json", json.dumps(report, ensure_ascii=False, indent=2) + "\n"
                )
            shutil.move(partial, zip_path)
        return audit


def _client(config: S3Config) -> Minio:
    # urllib3 must not retry on its own: tenacity decides, with backoff, and logs.
    return config.client(
        http_client=urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=5.0, read=120.0), retries=False, maxsize=8
        )
    )


def _name_in(listing: _Listing, name: str) -> bool:
    return listing.archived(name) is not None


def _payload_from(metadata: dict[str, Any]) -> list[PayloadFile]:
    return [PayloadFile(**f) for f in metadata.get("files", [])]


def _content_type(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def _date(value: Any, fallback: dt.datetime) -> dt.date:
    if isinstance(value, str) and value:
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    return fallback.date()


__all__ = [
    "Archive",
    "Buckets",
    "Finding",
    "Leftover",
    "PdfChecker",
    "PutResult",
    "RecordAudit",
    "RetentionRefusedError",
    "RetryPolicy",
]
