"""The object-store wrapper: one S3 server, three buckets, retries, reconnects and checksums.

Everything the archive asks of S3 goes through `ObjectStore.call`: transient failures are
retried with exponential backoff (tenacity), the endpoint is re-read between attempts (an
embedded server that restarted may listen elsewhere), and what persists becomes a
`ServiceUnavailableError` or `ConfigurationError`. Writes send the SHA-256 as
`x-amz-checksum-sha256` and compare what the server echoes (or read the object back). Imports
only `motcua.errors`, `motcua.types` and the other storage modules, never the archive.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import io
import itertools
import json
import logging
import mimetypes
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, TypeVar

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
    CheckFailedError,
    ConfigurationError,
    InputFileError,
    MotcuaError,
    ServiceUnavailableError,
)
from storage.policy import ExpectedBucket, bucket_drift, guard_policy
from storage.retention import RetentionPolicy
from storage.s3 import S3Config

log = logging.getLogger(__name__)

T = TypeVar("T")
CHUNK = 1024 * 1024
MIN_PART = 5 * 1024 * 1024  # S3's smallest multipart part
_MISSING = {"NoSuchKey", "NoSuchVersion", "NoSuchObject"}


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
class ObjectVersion:
    name: str  # the key, or the name relative to a record prefix once grouped
    version_id: str | None
    latest: bool
    delete_marker: bool
    modified: dt.datetime | None
    size: int


@dataclass
class Listing:
    """Every version of every object under one record prefix, by name."""

    versions: dict[str, list[ObjectVersion]] = field(default_factory=dict)

    def archived(self, name: str) -> ObjectVersion | None:
        """The first version written (the one retention protects), not a delete marker."""
        kept = [v for v in self.versions.get(name, []) if not v.delete_marker]
        if not kept:
            return None
        epoch = dt.datetime.min.replace(tzinfo=dt.UTC)
        return min(kept, key=lambda v: (v.modified or epoch, v.latest))

    def has(self, name: str) -> bool:
        return self.archived(name) is not None


def transient(exc: BaseException) -> bool:
    """Whether a failure is worth another attempt (the server is busy, down or restarting)."""
    if isinstance(exc, ServerError):
        return True
    if isinstance(exc, S3Error):
        return exc.code in {"InternalError", "ServiceUnavailable", "SlowDown", "RequestTimeout"}
    return isinstance(exc, urllib3.exceptions.HTTPError | ConnectionError | TimeoutError)


class OverwriteRefusedError(CheckFailedError):
    """A write would put a new version over an archived (retained) one; nothing was sent."""


def overwrite_refused(key: str) -> OverwriteRefusedError:
    return OverwriteRefusedError(
        f"{key}: đã có bản lưu trữ được bảo quản, không ghi đè (an archived version is "
        "retained under this key; motcua refuses to write another over it)",
        hint="a record is never changed in place: renewal and repair write a new version "
        "on purpose (new_version=True); otherwise run `motcua archive verify`",
    )


class _HashingReader:
    """Wraps a file: hashes what the SDK reads, so the digest is of the bytes sent."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self.sha256 = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        self.sha256.update(data)
        return data


def sha256_file(path: Path) -> tuple[str, int]:
    """(SHA-256 hex, size) of a file, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def content_type(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def make_client(config: S3Config) -> Minio:
    # urllib3 must not retry on its own: tenacity decides, with backoff, and logs.
    return config.client(
        http_client=urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=5.0, read=120.0), retries=False, maxsize=8
        )
    )


class ObjectStore:
    """One S3 server holding the originals, archive and quarantine buckets."""

    def __init__(
        self,
        s3: S3Config,
        buckets: Buckets,
        retention: RetentionPolicy,
        retry: RetryPolicy,
        part_size: int,
        resolve_s3: Callable[[], S3Config] | None = None,
        setup: S3Config | None = None,
        archive_only: bool = False,
    ) -> None:
        """`archive_only`: a replica, which holds the archive bucket and no other."""
        self.s3 = s3
        self.archive_only = archive_only
        self.buckets = buckets
        self.retention = retention
        self.retry = retry
        self.part_size = part_size
        self.resolve_s3 = resolve_s3
        self.setup = setup
        self.client: Minio = make_client(s3)
        self._buckets_ready = False
        self._buckets_lock = threading.Lock()

    # -- calling ---------------------------------------------------------------------------

    def call(self, what: str, fn: Callable[[], T]) -> T:
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
            retry=retry_if_exception(transient),
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
            if transient(exc):
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
            if self.setup is not None and self.setup.endpoint == self.s3.endpoint:
                # the set-up identity signs in to the same server: it moved too
                self.setup = dataclasses.replace(self.setup, endpoint=config.endpoint)
            self.s3 = config
            self.client = make_client(config)

    # -- buckets ---------------------------------------------------------------------------

    def ensure_buckets(self) -> None:
        """Create the three buckets on first use, with versioning and (archive) object lock."""
        if self._buckets_ready:
            return
        # The threads of one put ask at once (a replica's first copies): one creates, the
        # others wait; two creators both set the guard policy, and it denies the second.
        with self._buckets_lock:
            if self._buckets_ready:
                return
            if not self.archive_only:
                self._make_bucket(self.buckets.originals, lock=False)
                self._make_bucket(self.buckets.quarantine, lock=False)
            self._make_bucket(self.buckets.archive, lock=True)
            self._buckets_ready = True

    def reset_buckets(self) -> None:
        """Check the buckets again on next use (a store that was wiped lost them)."""
        self._buckets_ready = False

    def expected_buckets(self) -> list[ExpectedBucket]:
        """The three buckets and how each must be configured (what the audit compares)."""
        default = self.retention.get(None)
        archive = ExpectedBucket(self.buckets.archive, default.mode, min(default.years or 100, 100))
        if self.archive_only:
            return [archive]
        return [
            ExpectedBucket(self.buckets.originals),
            ExpectedBucket(self.buckets.quarantine),
            archive,
        ]

    def bucket_drift(self) -> list[tuple[str, str]]:
        """(bucket, problem) for each drift of versioning, object lock, policy, lifecycle."""
        self.ensure_buckets()  # created on first use, as by a put: a new office has no drift
        drift = []
        for expected in self.expected_buckets():
            problems = self.call(
                f"reading the configuration of {expected.name}",
                lambda e=expected: bucket_drift(self.client, e),  # type: ignore[misc]
            )
            drift += [(expected.name, problem) for problem in problems]
        return drift

    def _make_bucket(self, name: str, *, lock: bool) -> None:
        if not self.call(f"checking bucket {name}", lambda: self.client.bucket_exists(name)):
            setup = make_client(self.setup) if self.setup is not None else self.client
            try:
                self.call(
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
                self.call(
                    f"setting default retention on {name}",
                    lambda: setup.set_object_lock_config(
                        name, ObjectLockConfig(default.mode, years, YEARS)
                    ),
                )
            else:
                self.call(
                    f"enabling versioning on {name}",
                    lambda: setup.set_bucket_versioning(name, VersioningConfig(ENABLED)),
                )
            # last: the guard denies changing versioning and the policy from here on
            self.call(
                f"setting the guard policy on {name}",
                lambda: setup.set_bucket_policy(name, json.dumps(guard_policy(name))),
            )
        if lock:
            try:
                self.call(
                    f"reading object lock of {name}",
                    lambda: self.client.get_object_lock_config(name),
                )
            except S3Error:
                raise ConfigurationError(
                    f"bucket {name} exists without object lock: it cannot hold the archive",
                    hint="set MOTCUA_BUCKET_ARCHIVE to a new bucket name",
                ) from None

    # -- reading the archive bucket --------------------------------------------------------

    def list_versions(self, prefix: str) -> list[ObjectVersion]:
        """Every version (and delete marker) under `prefix` in the archive bucket."""

        def fetch() -> list[ObjectVersion]:
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
                    ObjectVersion(
                        name=obj.object_name,
                        version_id=obj.version_id,
                        latest=str(obj.is_latest).lower() == "true",
                        delete_marker=bool(obj.is_delete_marker),
                        modified=obj.last_modified,
                        size=obj.size or 0,
                    )
                )
            return out

        return self.call(f"listing {prefix}", fetch)

    def read(self, key: str, version_id: str | None) -> bytes:
        def fetch() -> bytes:
            response = self.client.get_object(self.buckets.archive, key, version_id=version_id)
            try:
                return bytes(response.read())
            finally:
                response.close()
                response.release_conn()

        return self.call(f"reading {key}", fetch)

    def hash_object(self, key: str, version_id: str | None, sink: BinaryIO | None = None) -> str:
        """SHA-256 of one archived version as streamed back, copied into `sink` if given."""

        def fetch() -> str:
            digest = hashlib.sha256()
            if sink is not None:
                sink.seek(0)
                sink.truncate()
            response = self.client.get_object(self.buckets.archive, key, version_id=version_id)
            try:
                for chunk in response.stream(CHUNK):
                    digest.update(chunk)
                    if sink is not None:
                        sink.write(chunk)
            finally:
                response.close()
                response.release_conn()
            return digest.hexdigest()

        return self.call(f"reading {key}", fetch)

    def user_meta(self, key: str, version_id: str | None) -> dict[str, str]:
        """The `x-amz-meta-*` headers of one version, lower-cased names without the prefix."""
        stat = self.call(
            f"checking {key}",
            lambda: self.client.stat_object(self.buckets.archive, key, version_id=version_id),
        )
        prefix = "x-amz-meta-"
        return {
            k.lower()[len(prefix) :]: v
            for k, v in (stat.metadata or {}).items()
            if k.lower().startswith(prefix)
        }

    def retention_of(self, key: str, version_id: str | None) -> Retention | None:
        """The object-lock retention of one archived version (None when it has none)."""
        try:
            return self.call(
                f"reading retention of {key}",
                lambda: self.client.get_object_retention(self.buckets.archive, key, version_id),
            )
        except S3Error as exc:
            if exc.code in {"NoSuchObjectLockConfiguration", *_MISSING}:
                return None
            raise

    def existing(self, key: str, sha_hex: str) -> str | None:
        """The version id of `key` when the store already holds these bytes (a retried put)."""
        try:
            stat = self.call(
                f"checking {key}", lambda: self.client.stat_object(self.buckets.archive, key)
            )
        except S3Error as exc:
            if exc.code in _MISSING:
                return None
            raise
        meta = {k.lower(): v for k, v in (stat.metadata or {}).items()}
        return stat.version_id if meta.get("x-amz-meta-sha256") == sha_hex else None

    def _landed(self, key: str, sha_hex: str) -> tuple[bool, str | None]:
        """Whether the newest version of `key` is already these bytes (by the SHA-256 motcua
        stored with it), and its version id."""
        try:
            stat = self.client.stat_object(self.buckets.archive, key)
        except S3Error as exc:
            if exc.code in _MISSING:
                return False, None
            raise
        stored = (stat.metadata or {}).get("x-amz-meta-sha256")
        return stored == sha_hex, stat.version_id

    def _landed_any(self, key: str, sha_hex: str) -> tuple[bool, str | None]:
        """After a broken connection: whether any version of `key` is already these bytes.

        Not only the newest: a store killed while it took the PUT may keep the version and lose
        the pointer to it (SeaweedFS writes the two apart), so the newest can look absent while
        the bytes are there; writing again would add the second version the audit calls
        tampering."""
        listed = self.client.list_objects(self.buckets.archive, prefix=key, include_version=True)
        for item in listed:
            if item.object_name != key or item.is_delete_marker:
                continue
            stat = self.client.stat_object(self.buckets.archive, key, version_id=item.version_id)
            meta = {k.lower(): v for k, v in (stat.metadata or {}).items()}
            if meta.get("x-amz-meta-sha256") == sha_hex:
                return True, item.version_id
        return False, None

    def refuse_overwrite(self, key: str, sha_hex: str) -> str | None:
        """Before writing `key`: the version id when it already holds these bytes (nothing to
        write), None when it holds nothing; a different version is refused, not overwritten."""
        stored = self.call(f"checking {key}", lambda: self._landed(key, sha_hex))
        landed, version = stored
        if landed:
            return version
        if version is None:
            return None
        raise overwrite_refused(key)

    # -- writing ---------------------------------------------------------------------------

    def put_bytes(
        self,
        key: str,
        data: bytes,
        retention: Retention,
        mime: str,
        sha_hex: str | None = None,
        *,
        new_version: bool = False,
        checked_absent: bool = False,
        extra_meta: dict[str, str] | None = None,
    ) -> tuple[str | None, str]:
        """Single PUT with the SHA-256 sent for the server to check; returns (version, sha).

        `sha_hex` is the digest already computed over these very bytes, if any. A key that
        holds other bytes is refused (`OverwriteRefusedError`) unless `new_version`;
        `checked_absent` says the caller listed the key as absent under the record's lock
        (`Archive.put`), which spares a HEAD per object."""
        sha_hex = sha_hex or hashlib.sha256(data).hexdigest()
        sha_b64 = base64.b64encode(bytes.fromhex(sha_hex)).decode()
        if not (new_version or checked_absent):
            already = self.refuse_overwrite(key, sha_hex)
            if already is not None:
                return already, sha_hex

        attempts = 0

        def send() -> str | None:
            nonlocal attempts
            attempts += 1
            if attempts > 1:
                # The connection broke after the server took the PUT: writing again would add
                # a second version, which the audit rightly calls tampering.
                landed, version = self._landed_any(key, sha_hex)
                if landed:
                    return version
            result = self.client.put_object(
                self.buckets.archive,
                key,
                io.BytesIO(data),
                len(data),
                content_type=mime,
                metadata={
                    "x-amz-checksum-sha256": sha_b64,
                    "sha256": sha_hex,
                    **(extra_meta or {}),
                },
                retention=retention,
                # one PUT, never multipart: the checksum header is of the whole object
                part_size=max(MIN_PART, len(data)),
            )
            echoed = result.http_headers.get("x-amz-checksum-sha256")
            if echoed is not None and echoed != sha_b64:
                raise CheckFailedError(
                    f"{key}: the object store stored a different SHA-256 than was sent",
                    hint="the record is incomplete; run the put again",
                )
            if echoed is None:  # the server does not speak checksums: read it back
                stored = self.hash_object(key, result.version_id)
                if stored != sha_hex:
                    raise CheckFailedError(
                        f"{key}: read back with a different SHA-256",
                        hint="the record is incomplete; run the put again",
                    )
            return result.version_id

        return self.call(f"uploading {key}", send), sha_hex

    def put_large(
        self,
        key: str,
        path: Path,
        expected: str,
        size: int,
        retention: Retention,
        *,
        new_version: bool = False,
        checked_absent: bool = False,
        extra_meta: dict[str, str] | None = None,
    ) -> str | None:
        """Multipart upload hashing the bytes sent, then read back and compared; refused over
        other bytes as `put_bytes` is."""
        if not (new_version or checked_absent):
            already = self.refuse_overwrite(key, expected)
            if already is not None:
                return already

        def send() -> str | None:
            with open(path, "rb") as fh:
                reader = _HashingReader(fh)
                result = self.client.put_object(
                    self.buckets.archive,
                    key,
                    reader,  # type: ignore[arg-type]
                    size,
                    content_type=content_type(path.name),
                    metadata={"sha256": expected, **(extra_meta or {})},
                    retention=retention,
                    part_size=self.part_size,
                    num_parallel_uploads=1,
                )
            if reader.sha256.hexdigest() != expected:
                raise InputFileError(
                    path, "changed while it was being archived", hint="archive it again"
                )
            return result.version_id

        version = self.call(f"uploading {key}", send)
        if self.hash_object(key, version) != expected:
            raise CheckFailedError(
                f"{key}: read back with a different SHA-256",
                hint="the record is incomplete; run the put again",
            )
        return version

    def put_plain(
        self, bucket: str, key: str, path: Path, size: int, meta: dict[str, str]
    ) -> str | None:
        """Upload a file to a versioned bucket without retention (originals, quarantine)."""

        def send() -> str | None:
            with open(path, "rb") as fh:
                result = self.client.put_object(
                    bucket,
                    key,
                    fh,
                    size,
                    content_type=content_type(path.name),
                    metadata=dict(meta),
                    part_size=self.part_size,
                )
            return result.version_id

        return self.call(f"uploading {key}", send)


__all__ = [
    "Buckets",
    "Listing",
    "ObjectStore",
    "ObjectVersion",
    "OverwriteRefusedError",
    "RetryPolicy",
    "content_type",
    "overwrite_refused",
    "sha256_file",
    "transient",
]
