"""Fixity, legal hold and dissemination: what keeps an archived record provably unchanged.

`verify` re-hashes every archived object against the bag's manifests and looks for versions or
delete markers written behind the archive's back; `hold` sets or releases legal holds;
`delete_record` tries a delete that retention must refuse; `export` packs a verified record and
its report into a zip. Each takes the `Archive` it works on (the archive's methods of the same
names call these), so this module imports the archive for types only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import logging
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from minio.error import S3Error

from motcua.errors import CheckFailedError, MotcuaError
from storage.objects import Listing, ObjectStore, ObjectVersion
from storage.record import MANIFEST, TAGMANIFEST, parse_manifest, record_prefix
from storage.replica import PRIMARY, REPLICA

if TYPE_CHECKING:
    from storage.archive import Archive

log = logging.getLogger(__name__)

PdfChecker = Callable[[bytes, str], list[str]]  # (pdf bytes, object name) → problems found
COPY_LABELS = {PRIMARY: "bản chính", REPLICA: "bản sao"}
REPAIR_META = "motcua-repair"  # user metadata on a version `archive repair` wrote


@dataclass(frozen=True)
class Finding:
    """One problem an audit found, naming the record, the object and the copy it is on."""

    record_id: str
    object: str
    problem: str
    copy: str = PRIMARY  # "primary" or "replica" (the second copy, storage.replica)

    def __str__(self) -> str:
        where = "" if self.copy == PRIMARY else f" [{COPY_LABELS.get(self.copy, self.copy)}]"
        return f"{self.record_id}{where}: {self.object}: {self.problem}"


@dataclass(frozen=True)
class CopySummary:
    """How one copy of a record fared: complete, or how many objects are bad."""

    copy: str
    ok: bool
    objects_checked: int
    bad_objects: tuple[str, ...] = ()
    repaired: tuple[str, ...] = ()  # restored by `archive repair` (a newer, good version)

    def as_dict(self) -> dict[str, Any]:
        return {"copy": self.copy, "ok": self.ok, "objects_checked": self.objects_checked,
                "bad_objects": list(self.bad_objects), "repaired": list(self.repaired)}  # fmt: skip


@dataclass(frozen=True)
class RecordAudit:
    record_id: str
    objects_checked: int
    findings: tuple[Finding, ...]
    copies: tuple[CopySummary, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.findings

    def as_dict(self) -> dict[str, Any]:
        return {
            "record_id": self.record_id,
            "ok": self.ok,
            "objects_checked": self.objects_checked,
            "findings": [asdict(f) for f in self.findings],
            "copies": [c.as_dict() for c in self.copies],
        }


class RetentionRefusedError(CheckFailedError):
    """The store refused to delete or change a retained version (as it must)."""


@dataclass
class CopyState:
    """One copy of one record as an audit found it."""

    copy: str
    store: ObjectStore
    listing: Listing
    checked: int = 0
    good: dict[str, str | None] = field(default_factory=dict)  # name → version with its bytes
    problems: list[tuple[str, str]] = field(default_factory=list)  # (name, problem)
    repaired: list[str] = field(default_factory=list)
    unreachable: str | None = None

    def bad_names(self) -> list[str]:
        return sorted({name for name, _ in self.problems})

    def summary(self) -> CopySummary:
        bad = tuple(self.bad_names())
        return CopySummary(self.copy, not self.problems, self.checked, bad, tuple(self.repaired))


def bucket_findings(archive: Archive) -> list[Finding]:
    """Drift of each bucket's versioning, object lock, policy and lifecycle rules, on each copy."""
    findings = []
    for copy, store in archive.copies():
        try:
            drift = store.bucket_drift()
        except MotcuaError as exc:
            findings.append(Finding("(bucket)", store.buckets.archive, f"unreachable: {exc}", copy))
            continue
        findings += [Finding("(bucket)", bucket, problem, copy) for bucket, problem in drift]
    return findings


def _manifests(state: CopyState, record_id: str) -> tuple[dict[str, str], bool] | None:
    """(expected digests, self-consistent) from one copy's manifests; None when unreadable.
    Self-consistent: the tag manifest's digest of the manifest matches the manifest read."""
    listing, store = state.listing, state.store
    try:
        raw = {}
        for name in (MANIFEST, TAGMANIFEST):
            version = listing.archived(name)
            if version is None:
                return None
            raw[name] = store.read(record_prefix(record_id) + name, version.version_id)
        manifest = parse_manifest(raw[MANIFEST].decode(), MANIFEST)
        tagmanifest = parse_manifest(raw[TAGMANIFEST].decode(), TAGMANIFEST)
    except (CheckFailedError, UnicodeDecodeError):
        return None
    consistent = tagmanifest.get(MANIFEST) == hashlib.sha256(raw[MANIFEST]).hexdigest()
    expected = {
        **manifest,
        **tagmanifest,
        TAGMANIFEST: hashlib.sha256(raw[TAGMANIFEST]).hexdigest(),
    }
    return expected, consistent


def check_copies(
    archive: Archive, record_id: str, pdf_checker: PdfChecker | None = None
) -> tuple[list[CopyState], dict[str, str] | None]:
    """Each copy of a record checked against the manifest of the copy that agrees with itself
    (the primary's when both do); returns the states and the digests expected."""
    states: list[CopyState] = []
    for copy, store in archive.copies():
        try:
            listing = archive.listing(record_id, store)
        except MotcuaError as exc:
            state = CopyState(copy, store, Listing(), unreachable=str(exc))
            state.problems.append(("(copy)", f"unreachable: {exc}"))
            states.append(state)
            continue
        states.append(CopyState(copy, store, listing))
    read = [(s, _manifests(s, record_id)) for s in states if s.unreachable is None]
    candidates = [(s, m) for s, m in read if m is not None]
    chosen = next((c for c in candidates if c[1][1]), candidates[0] if candidates else None)
    if chosen is None:
        return states, None
    expected = chosen[1][0]
    for state in states:
        if state.unreachable is None:
            checker = pdf_checker if state.copy == PRIMARY else None
            _check_copy(state, record_id, expected, checker, trusted=state is chosen[0])
    return states, expected


def _check_copy(state: CopyState, record_id: str, expected: dict[str, str],
                pdf_checker: PdfChecker | None, *, trusted: bool) -> None:  # fmt: skip
    """Hash every object of one copy against `expected`; look for versions and delete markers
    hiding it. A copy whose archived version went bad is good again when a newer version that
    `archive repair` wrote holds the expected bytes."""
    listing, store = state.listing, state.store
    prefix = record_prefix(record_id)

    def found(name: str, problem: str) -> None:
        state.problems.append((name, problem))

    hashes: dict[str | None, str] = {}

    def sha(name: str, version: ObjectVersion, sink: io.BytesIO | None = None) -> str:
        if version.version_id not in hashes or sink is not None:
            hashes[version.version_id] = store.hash_object(prefix + name, version.version_id, sink)
        return hashes[version.version_id]

    for name, want in sorted(expected.items()):
        hashes.clear()
        versions = listing.versions.get(name, [])
        archived = listing.archived(name)
        if archived is None:
            found(name, "listed in the manifest but missing from the store")
            continue
        if name != TAGMANIFEST:
            state.checked += 1
        want_pdf = pdf_checker is not None and name.lower().endswith(".pdf")
        buffer = io.BytesIO() if want_pdf else None
        epoch = dt.datetime.min.replace(tzinfo=dt.UTC)
        newer = sorted(
            (v for v in versions if v.version_id != archived.version_id),
            key=lambda v: v.modified or epoch,
        )
        actual = hashes[archived.version_id] = (
            want if trusted and name == TAGMANIFEST else sha(name, archived, buffer)
        )
        good: ObjectVersion | None = archived if actual == want else None
        if good is None:
            for v in reversed(newer):
                if (
                    not v.delete_marker
                    and _is_repair(store, prefix + name, v)
                    and sha(name, v) == want
                ):
                    good = v
                    state.repaired.append(name)
                    break
        if good is None:
            found(name, f"SHA-256 {actual[:12]}… differs from the manifest {want[:12]}…")
            reference, after = actual, newer
        else:
            state.good[name] = good.version_id
            reference = want
            # what was written after the good version (a repair: what follows it in order)
            after = newer if good is archived else newer[newer.index(good) + 1 :]
        # delete markers: any, unless a good version stands after them
        markers = sum(v.delete_marker for v in (after if good is not None else versions))
        if markers:
            found(name, f"{markers} delete marker(s) hide the archived version")
        # a version with the very same bytes hides nothing: a store killed while it took a PUT
        # can surface the first copy after motcua, finding none, wrote it again
        other = sum(1 for v in after if not v.delete_marker and sha(name, v) != reference)
        if other:
            found(name, f"{other} newer version(s) written after archiving")
        if want_pdf and pdf_checker is not None and buffer is not None and good is archived:
            try:
                problems = pdf_checker(buffer.getvalue(), name)
            except Exception as exc:  # a checker must report, not abort the audit
                problems = [f"signature check failed to run ({type(exc).__name__}: {exc})"]
            for problem in problems:
                found(name, problem)
    for name in sorted(set(listing.versions) - set(expected)):
        found(name, "not listed in the manifest (written behind the archive's back)")


def _is_repair(store: ObjectStore, key: str, version: ObjectVersion) -> bool:
    return REPAIR_META in store.user_meta(key, version.version_id)


def verify(archive: Archive, record_id: str, pdf_checker: PdfChecker | None = None) -> RecordAudit:
    """Fixity audit of every copy: re-hash every object, look for versions hiding the archived
    one; each finding names the copy it is on."""
    states, expected = check_copies(archive, record_id, pdf_checker)
    findings: list[Finding] = []
    if expected is None:
        reachable = [s for s in states if s.unreachable is None]
        has_manifest = any(s.listing.archived(MANIFEST) is not None for s in reachable)
        problem = (
            "unreadable manifest" if has_manifest
            else "missing: the record does not exist or was never completed"
        )  # fmt: skip
        findings.append(Finding(record_id, MANIFEST, problem))
        findings += [
            Finding(record_id, name, problem, s.copy)
            for s in states
            for name, problem in s.problems
        ]
        return RecordAudit(record_id, 0, tuple(findings), tuple(s.summary() for s in states))
    for state in states:
        findings += [Finding(record_id, n, p, state.copy) for n, p in state.problems]
    return RecordAudit(record_id, states[0].checked, tuple(findings),
                       tuple(s.summary() for s in states))  # fmt: skip


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
    "COPY_LABELS",
    "REPAIR_META",
    "CopyState",
    "CopySummary",
    "Finding",
    "PdfChecker",
    "RecordAudit",
    "RetentionRefusedError",
    "archived_versions",
    "bucket_findings",
    "check_copies",
    "delete_record",
    "export",
    "hold",
    "is_held",
    "verify",
]
