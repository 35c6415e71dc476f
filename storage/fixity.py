"""Fixity, legal hold and dissemination: what keeps an archived record provably unchanged.

`verify` re-hashes every archived object against the bag's manifests and looks for versions or
delete markers written behind the archive's back; `hold` sets or releases legal holds;
`delete_record` tries a delete that retention must refuse; `export` packs a verified record and
its report into a zip. Each takes the `Archive` it works on (the archive's methods of the same
names call these), so this module imports the archive for types only.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from minio.error import S3Error

from motcua.errors import CheckFailedError
from storage.record import MANIFEST, TAGMANIFEST, parse_manifest, record_prefix

if TYPE_CHECKING:
    from storage.archive import Archive
    from storage.objects import Listing

log = logging.getLogger(__name__)

PdfChecker = Callable[[bytes, str], list[str]]  # (pdf bytes, object name) → problems found


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


class RetentionRefusedError(CheckFailedError):
    """The store refused to delete or change a retained version (as it must)."""


def bucket_findings(archive: Archive) -> list[Finding]:
    """Drift of each bucket's versioning, object lock, policy and lifecycle rules."""
    return [
        Finding("(bucket)", bucket, problem) for bucket, problem in archive.store.bucket_drift()
    ]


def verify(archive: Archive, record_id: str, pdf_checker: PdfChecker | None = None) -> RecordAudit:
    """Fixity audit: re-hash every object, look for versions hiding the archived one."""
    listing = archive.listing(record_id)
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
        newer = _newer_other_bytes(archive, record_id, listing, name)
        if newer:
            found(name, f"{newer} newer version(s) written after archiving")
    try:
        manifest = parse_manifest(
            archive.read_archived(record_id, listing, MANIFEST).decode(), MANIFEST
        )
        tagmanifest = parse_manifest(
            archive.read_archived(record_id, listing, TAGMANIFEST).decode(), TAGMANIFEST
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
        actual = archive.store.hash_object(key, version.version_id, buffer)
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


def _newer_other_bytes(archive: Archive, record_id: str, listing: Listing, name: str) -> int:
    """How many versions of `name` besides the archived one hold other bytes (hashed, not
    trusted from their metadata). A version with the very same bytes hides nothing: a store
    killed while it took a PUT can surface the first copy after motcua, finding none, wrote it
    again (the kill-loop test sees it on SeaweedFS)."""
    archived = listing.archived(name)
    kept = [v for v in listing.versions.get(name, []) if not v.delete_marker]
    if archived is None or len(kept) < 2:
        return 0
    key = record_prefix(record_id) + name
    original = archive.store.hash_object(key, archived.version_id)
    return sum(
        1
        for v in kept
        if v.version_id != archived.version_id
        and archive.store.hash_object(key, v.version_id) != original
    )


def archived_versions(archive: Archive, record_id: str) -> list[tuple[str, str | None]]:
    """(key, version id) of every archived object of a complete record."""
    listing = archive.require(record_id)
    out = []
    for name in sorted(listing.versions):
        version = listing.archived(name)
        if version is not None:
            out.append((record_prefix(record_id) + name, version.version_id))
    return out


def hold(archive: Archive, record_id: str, on: bool = True) -> int:
    """Set or release a legal hold on every archived object of a record; returns the count."""
    store = archive.store
    objects = archived_versions(archive, record_id)
    for key, version_id in objects:
        if on:
            store.call(
                f"holding {key}",
                lambda k=key, v=version_id: store.client.enable_object_legal_hold(  # type: ignore[misc]
                    store.buckets.archive, k, v
                ),
            )
        else:
            store.call(
                f"releasing {key}",
                lambda k=key, v=version_id: store.client.disable_object_legal_hold(  # type: ignore[misc]
                    store.buckets.archive, k, v
                ),
            )
    log.info(
        "legal hold %s on record %s (%d objects)",
        "set" if on else "released",
        record_id,
        len(objects),
    )
    archive.catalogue.set_hold(record_id, on)
    return len(objects)


def is_held(archive: Archive, record_id: str) -> bool:
    store = archive.store
    key, version_id = archived_versions(archive, record_id)[0]
    return bool(
        store.call(
            f"reading hold of {key}",
            lambda: store.client.is_object_legal_hold_enabled(
                store.buckets.archive, key, version_id
            ),
        )
    )


def delete_record(archive: Archive, record_id: str) -> None:
    """Try to delete a record's archived versions; retention must refuse, and it is logged."""
    store = archive.store
    refused = []
    for key, version_id in archived_versions(archive, record_id):
        try:
            store.call(
                f"deleting {key}",
                lambda k=key, v=version_id: store.client.remove_object(  # type: ignore[misc]
                    store.buckets.archive, k, v
                ),
            )
            log.warning("deleted archived version %s of %s: it was not retained", version_id, key)
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


def export(
    archive: Archive, record_id: str, zip_path: Path, pdf_checker: PdfChecker | None = None
) -> RecordAudit:
    """A dissemination package: the bag's files, metadata, and a verification report."""
    audit = verify(archive, record_id, pdf_checker)
    with tempfile.TemporaryDirectory(prefix="motcua-export-") as tmp:
        bag = archive.get(record_id, Path(tmp)) if audit.ok else None
        report = {
            **audit.as_dict(),
            "verified_at": dt.datetime.now(dt.UTC).isoformat(),
            "bucket": archive.buckets.archive,
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


__all__ = [
    "Finding",
    "PdfChecker",
    "RecordAudit",
    "RetentionRefusedError",
    "archived_versions",
    "bucket_findings",
    "delete_record",
    "export",
    "hold",
    "is_held",
    "verify",
]
