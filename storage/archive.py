"""The write-once archive: records as BagIt packages in an object-lock bucket, a catalogue beside.

Three buckets, created on first use: originals as received (versioned), the archive (object lock
and versioning, default retention from the retention policy), and a quarantine for inputs that
failed. A record's payload is uploaded first, its tag files next and `manifest-sha256.txt` last;
a prefix without a manifest is a leftover that `sweep` reports and no listing shows. The S3
calls (retries, reconnects, checksums, multipart) are `storage.objects`; fixity, legal hold and
export are `storage.fixity`. The catalogue is a cache: `reindex` rebuilds it from the store alone.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import json
import logging
import urllib.parse
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from minio import Minio
from minio.retention import Retention

from motcua.errors import BadArgumentError, CheckFailedError, InputFileError
from motcua.types import nfc
from storage import fixity
from storage.catalogue import Catalogue, CatalogueEntry, SearchHit, SearchQuery, searchable_text
from storage.fixity import Finding, PdfChecker, RecordAudit, RetentionRefusedError
from storage.locks import RecordBusyError, RecordLocks
from storage.objects import (
    Buckets,
    Listing,
    ObjectStore,
    ObjectVersion,
    OverwriteRefusedError,
    RetryPolicy,
    content_type,
    overwrite_refused,
    sha256_file,
)
from storage.policy import ExpectedBucket
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
from storage.replica import PRIMARY, REPLICA, FlushResult, ReplicaConfig, Replicator
from storage.retention import RetentionClass, RetentionPolicy, load_retention_policy
from storage.s3 import S3Config

if TYPE_CHECKING:
    from storage.repair import RepairReport

log = logging.getLogger(__name__)

A = TypeVar("A")
R = TypeVar("R")
_KEEP_IN_MEMORY = 96 * 1024 * 1024  # per put: small payload files read once, hashed, sent
_FLUSH_PER_PUT = 30  # queued replica copies sent after each put


@dataclass(frozen=True)
class PutResult:
    record_id: str
    created: bool  # False when the same record was archived before (idempotent put)
    files: tuple[PayloadFile, ...]


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
        replica: ReplicaConfig | None = None,
    ) -> None:
        """`replica` names a second S3 server that receives a copy of every archived object
        (queued and retried when it is down, `storage.replica`). `resolve_s3` re-reads where
        the server is between retries (an embedded server that
        restarted may listen on other ports); without it the endpoint is fixed. `setup` is the
        set-up identity, used only to create and configure missing buckets; without it a
        missing bucket is created with `s3` (which a least-privilege key is refused)."""
        self.catalogue = catalogue
        self.retention = retention or load_retention_policy()
        self.single_put_limit = single_put_limit
        self.upload_threads = upload_threads
        self.payload_threads = payload_threads
        self.locks = RecordLocks(catalogue.engine)
        self.store = ObjectStore(
            s3,
            buckets or Buckets(),
            self.retention,
            retry or RetryPolicy(),
            part_size,
            resolve_s3=resolve_s3,
            setup=setup,
        )
        self.replicator = (
            None
            if replica is None
            else Replicator(
                replica,
                self.store.buckets,
                self.retention,
                part_size,
                catalogue.engine,
                single_put_limit,
            )
        )

    def copies(self) -> list[tuple[str, ObjectStore]]:
        """("primary", store) and, with a replica, ("replica", its store)."""
        out = [(PRIMARY, self.store)]
        if self.replicator is not None:
            out.append((REPLICA, self.replicator.store))
        return out

    def flush_replica(self, limit: int | None = None, force: bool = True) -> FlushResult | None:
        """Send the copies queued for the replica; None when there is no replica."""
        if self.replicator is None:
            return None
        return self.replicator.flush(self.store, limit, force=force)

    @property
    def client(self) -> Minio:
        """The current SDK client (replaced when the server moved)."""
        return self.store.client

    @property
    def buckets(self) -> Buckets:
        return self.store.buckets

    @property
    def s3(self) -> S3Config:
        return self.store.s3

    def ensure_buckets(self) -> None:
        """Create the three buckets on first use, with versioning and (archive) object lock."""
        self.store.ensure_buckets()

    def expected_buckets(self) -> list[ExpectedBucket]:
        """The three buckets and how each must be configured (what the audit compares)."""
        return self.store.expected_buckets()

    def bucket_findings(self) -> list[Finding]:
        """Drift of each bucket's versioning, object lock, policy and lifecycle rules."""
        return fixity.bucket_findings(self)

    # -- listing ---------------------------------------------------------------------------

    def _scan(
        self, prefix: str = RECORDS_PREFIX, store: ObjectStore | None = None
    ) -> dict[str, Listing]:
        """Every version under `records/` (of the primary, or `store`), by record and name."""
        listings: dict[str, Listing] = {}
        for version in (store or self.store).list_versions(prefix):
            rest = version.name[len(RECORDS_PREFIX) :]
            record_id, _, name = rest.partition("/")
            if not name:
                continue
            listing = listings.setdefault(record_id, Listing())
            listing.versions.setdefault(name, []).append(dataclasses.replace(version, name=name))
        return listings

    def listing(self, record_id: str, store: ObjectStore | None = None) -> Listing:
        """Every version of every object of one record (empty when there is none)."""
        prefix = record_prefix(check_record_id(record_id))
        return self._scan(prefix, store).get(record_id, Listing())

    def read_archived(self, record_id: str, listing: Listing, name: str) -> bytes:
        version = listing.archived(name)
        if version is None:
            raise CheckFailedError(f"{record_id}: {name} is missing", hint="run `archive verify`")
        return self.store.read(record_prefix(record_id) + name, version.version_id)

    def require(self, record_id: str) -> Listing:
        listing = self.listing(record_id)
        if listing.archived(MANIFEST) is None:
            raise BadArgumentError(
                f"không có hồ sơ lưu trữ {record_id} (no record {record_id} in bucket "
                f"{self.buckets.archive})",
                hint="tìm mã bản ghi bằng `motcua archive search` (find the record id first)",
            )
        return listing

    def metadata(self, record_id: str) -> dict[str, Any]:
        listing = self.require(record_id)
        data: dict[str, Any] = json.loads(self.read_archived(record_id, listing, METADATA))
        return data

    def records(self, store: ObjectStore | None = None) -> list[str]:
        """Ids of complete records (with a manifest) on the primary (or `store`), sorted."""
        scanned = self._scan(store=store)
        return sorted(rid for rid, lst in scanned.items() if lst.archived(MANIFEST))

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
        listing = self.require(record_id)
        manifest = parse_manifest(
            self.read_archived(record_id, listing, MANIFEST).decode(), f"{record_id}/{MANIFEST}"
        )
        tagmanifest = parse_manifest(
            self.read_archived(record_id, listing, TAGMANIFEST).decode(),
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
                actual = self.store.hash_object(
                    record_prefix(record_id) + name, version.version_id, fh
                )
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
        listing = self.require(record_id)
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
                return self.store.call("signing a URL", sign)
        raise BadArgumentError(
            f"hồ sơ {record_id} không có tệp {name} (record has no file {name})",
            hint="list its files with `motcua archive get` or the metadata",
        )

    # -- writing ---------------------------------------------------------------------------

    def _retention(self, cls: RetentionClass, now: dt.datetime) -> Retention:
        return Retention(cls.mode, cls.retain_until(now))

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
                sha_hex, size = sha256_file(path)
                hashed.append(_Payload(name, path, sha_hex, size, None))
        record_id = record_id_for(info, [(p.name, p.sha256) for p in hashed])
        self.ensure_buckets()
        # one put of a record at a time: the listing below is then the truth until it ends
        with self.locks.hold(record_id):
            result = self._put_locked(record_id, info, retention_class, hashed)
        if self.replicator is not None and result.created:
            # copies an earlier put had to queue: a few at a time, never failing this put
            self.replicator.flush(self.store, limit=_FLUSH_PER_PUT)
        return result

    def _put_locked(
        self,
        record_id: str,
        info: RecordInfo,
        retention_class: RetentionClass,
        hashed: list[_Payload],
    ) -> PutResult:
        prefix = record_prefix(record_id)
        listing = self.listing(record_id)
        if listing.archived(MANIFEST) is not None:
            log.info("record %s is archived already", record_id)
            metadata = json.loads(self.read_archived(record_id, listing, METADATA))
            self.catalogue.upsert([self._entry(record_id, listing, metadata)])
            return PutResult(record_id, False, tuple(_payload_from(metadata)))

        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        earlier = listing.archived(METADATA)
        if earlier is not None:  # an interrupted put: keep its date so the tag files match
            now = dt.datetime.fromisoformat(
                json.loads(self.read_archived(record_id, listing, METADATA))["archived_at"]
            )
        retention = self._retention(retention_class, now)
        copies = self.replicator.put() if self.replicator is not None else None

        # What the listing (taken under the lock) does not hold was checked absent: no HEAD
        # before each PUT; what it holds is compared by `_already`, and other bytes refused.

        def upload(item: _Payload) -> PayloadFile:
            name, path, sha_hex, size = item.name, item.path, item.sha256, item.size
            key = f"{prefix}data/{name}"
            version = found[f"data/{name}"]
            mime = content_type(name)
            if size <= self.single_put_limit:
                data = item.data if item.data is not None else path.read_bytes()
                if version is None:
                    version, sent = self.store.put_bytes(
                        key,
                        data,
                        retention,
                        mime,
                        None if item.data is None else sha_hex,
                        checked_absent=True,
                    )
                    if sent != sha_hex:
                        raise InputFileError(
                            path, "changed while it was being archived", hint="archive it again"
                        )
                if copies is not None:
                    copies.copy_bytes(key, version, data, sha_hex, retention, mime)
            else:
                if version is None:
                    version = self.store.put_large(
                        key, path, sha_hex, size, retention, checked_absent=True
                    )
                if copies is not None:
                    copies.copy_file(key, version, path, sha_hex, size, retention, mime)
            return PayloadFile(name=name, size=size, sha256=sha_hex, version_id=version)

        def upload_tag(item: tuple[str, bytes]) -> None:
            name, data = item
            key = prefix + name
            sha_hex = hashlib.sha256(data).hexdigest()
            mime = ("application/json" if name.endswith(".json") else "text/plain") + (
                "; charset=utf-8"
            )
            version = found[name] if name in found else self._already(listing, name, key, sha_hex)
            if version is None:
                version, _ = self.store.put_bytes(
                    key, data, retention, mime, sha_hex, checked_absent=True
                )
            if copies is not None:
                copies.copy_bytes(key, version, data, sha_hex, retention, mime)

        # The tag files that do not depend on the payload's version ids go up beside the
        # payload (two payload files at a time: three or more made the embedded server slower
        # per byte on two cores, bench/archive.py); then metadata and the tag manifest; and
        # only when all are stored, the manifest: its presence makes the record exist.
        sizes = [PayloadFile(name=p.name, size=p.size, sha256=p.sha256) for p in hashed]
        early = {
            BAGIT_TXT: BAGIT_DECLARATION.encode(),
            BAG_INFO: bag_info_text(record_id, info, sizes, now.date().isoformat()).encode(),
            FULLTEXT: info.text.encode(),
        }
        # refusals first: nothing is written when any object holds other bytes already
        found = {f"data/{p.name}": self._already(listing, f"data/{p.name}",
                                                 f"{prefix}data/{p.name}", p.sha256)
                 for p in hashed}  # fmt: skip
        found |= {n: self._already(listing, n, prefix + n, hashlib.sha256(d).hexdigest())
                  for n, d in early.items()}  # fmt: skip
        jobs: list[Callable[[], PayloadFile | None]] = [
            functools.partial(upload, item) for item in hashed
        ] + [functools.partial(upload_tag, item) for item in early.items()]
        done = self._concurrently(lambda job: job(), jobs, self.payload_threads + 1)
        payload = [p for p in done if isinstance(p, PayloadFile)]

        metadata = build_metadata(record_id, info, payload, retention_class.label, now)
        tag_files = {
            **early,
            METADATA: (json.dumps(metadata, ensure_ascii=False, indent=2) + "\n").encode(),
        }
        manifest = manifest_text({f"data/{p.name}": p.sha256 for p in payload}).encode()
        tag_digests = {name: hashlib.sha256(data).hexdigest() for name, data in tag_files.items()}
        tag_digests[MANIFEST] = hashlib.sha256(manifest).hexdigest()
        late = {METADATA: tag_files[METADATA], TAGMANIFEST: manifest_text(tag_digests).encode()}
        self._concurrently(upload_tag, list(late.items()))
        upload_tag((MANIFEST, manifest))
        log.info("archived record %s (%d files)", record_id, len(payload))
        self.catalogue.upsert([self._entry(record_id, None, metadata, info.text)])
        return PutResult(record_id, True, tuple(payload))

    def _already(self, listing: Listing, name: str, key: str, sha_hex: str) -> str | None:
        """The version of `name` holding these bytes from an interrupted put, None when the
        record has no such object; other bytes, or a delete marker over the archived version,
        are refused: a retained object is never written over."""
        if not listing.has(name):
            return None
        version = self.store.existing(key, sha_hex)
        if version is None:
            raise overwrite_refused(key)
        return version

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
        sha_hex, size = sha256_file(path)
        key = f"{nfc(dossier_code)}/{sha_hex[:16]}-{archive_safe_name(path.name)}"
        meta = {"sha256": sha_hex}
        return key, self.store.put_plain(self.buckets.originals, key, path, size, meta)

    def quarantine(self, path: Path, reason: str) -> str:
        """Set aside an input that failed, with the reason as metadata; returns the key."""
        self.ensure_buckets()
        sha_hex, size = sha256_file(path)
        key = f"{dt.date.today().isoformat()}/{sha_hex[:16]}-{archive_safe_name(path.name)}"
        meta = {"sha256": sha_hex, "reason": urllib.parse.quote(nfc(reason))}
        self.store.put_plain(self.buckets.quarantine, key, path, size, meta)
        return key

    # -- audit, hold, delete, export (storage.fixity) --------------------------------------

    def verify(self, record_id: str, pdf_checker: PdfChecker | None = None) -> RecordAudit:
        """Fixity audit: re-hash every object, look for versions hiding the archived one."""
        return fixity.verify(self, record_id, pdf_checker)

    def repair(self, record_id: str) -> RepairReport:
        """Restore a missing or bad copy of each object from the other copy, as new versions."""
        from storage.repair import repair

        return repair(self, check_record_id(record_id))

    def hold(self, record_id: str, on: bool = True) -> int:
        """Set or release a legal hold on every archived object of a record; returns the count."""
        return fixity.hold(self, record_id, on)

    def is_held(self, record_id: str) -> bool:
        return fixity.is_held(self, record_id)

    def delete_record(self, record_id: str) -> None:
        """Try to delete a record's archived versions; retention must refuse, and it is logged."""
        fixity.delete_record(self, record_id)

    def export(
        self, record_id: str, zip_path: Path, pdf_checker: PdfChecker | None = None
    ) -> RecordAudit:
        """A dissemination package: the bag's files, metadata, and a verification report."""
        return fixity.export(self, record_id, zip_path, pdf_checker)

    # -- catalogue -------------------------------------------------------------------------

    def _entry(
        self,
        record_id: str,
        listing: Listing | None,
        metadata: dict[str, Any],
        fulltext: str | None = None,
    ) -> CatalogueEntry:
        if fulltext is None:
            fulltext = (
                self.read_archived(record_id, listing, FULLTEXT).decode("utf-8", "replace")
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
                    metadata = json.loads(self.read_archived(record_id, listing, METADATA))
                    yield self._entry(record_id, listing, metadata)
                except (ValueError, KeyError, CheckFailedError) as exc:
                    log.warning("record %s not indexed: %s", record_id, exc)

        collected = list(entries())
        self.catalogue.clear()
        return self.catalogue.upsert(collected)


def _payload_from(metadata: dict[str, Any]) -> list[PayloadFile]:
    return [PayloadFile(**f) for f in metadata.get("files", [])]


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
    "ObjectVersion",
    "OverwriteRefusedError",
    "PdfChecker",
    "PutResult",
    "RecordAudit",
    "RecordBusyError",
    "RetentionRefusedError",
    "RetryPolicy",
]
