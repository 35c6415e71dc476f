"""The whole-archive audit: both sides walked, so a record missing from either is a finding.

The store is the truth and the catalogue a cache, but each can lose a record the other still
has: a record deleted behind the archive's back (search still finds it), or one archived while
the catalogue was down (search misses it). `audit_archive` walks the catalogue and the store,
reports each side's orphans, the buckets' configuration drift, and re-verifies every record
found on either side (fixity, hidden versions, signatures through `pdf_checker`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from motcua.errors import MotcuaError
from storage.archive import Archive, Finding, PdfChecker, RecordAudit

BUCKET = "(bucket)"
CATALOGUE = "(catalogue)"


@dataclass(frozen=True)
class ArchiveAudit:
    """What one audit of the whole archive found."""

    store_records: int
    catalogue_records: int
    audits: tuple[RecordAudit, ...]
    general: tuple[Finding, ...]  # bucket drift and orphans: no single record's audit

    @property
    def findings(self) -> tuple[Finding, ...]:
        """Every finding: the general ones, then each record's."""
        return self.general + tuple(f for a in self.audits for f in a.findings)

    @property
    def ok(self) -> bool:
        return not self.findings

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "records": len(self.audits),
            "store_records": self.store_records,
            "catalogue_records": self.catalogue_records,
            "objects": sum(a.objects_checked for a in self.audits),
            "findings": [
                {"record_id": f.record_id, "object": f.object, "problem": f.problem}
                for f in self.findings
            ],
        }


def orphan_findings(store_ids: set[str], catalogue_ids: set[str]) -> list[Finding]:
    """A record on one side only is a finding, named from the side that still has it."""
    findings = [
        Finding(
            rid,
            CATALOGUE,
            "listed in the catalogue (search finds it) but missing from the store",
        )
        for rid in sorted(catalogue_ids - store_ids)
    ]
    findings += [
        Finding(rid, CATALOGUE, "in the store but not in the catalogue (search misses it)")
        for rid in sorted(store_ids - catalogue_ids)
    ]
    return findings


def audit_archive(
    archive: Archive,
    pdf_checker: PdfChecker | None = None,
    verify_all: Callable[[list[str]], Sequence[RecordAudit]] | None = None,
) -> ArchiveAudit:
    """Audit the whole archive; `verify_all` verifies a list of record ids (a flow maps them as
    tasks), by default `archive.verify` one after the other."""
    store_ids = set(archive.records())
    for _copy, store in archive.copies()[1:]:  # a record lost from the primary is audited too
        with contextlib.suppress(MotcuaError):  # unreachable: each record's audit says so
            store_ids |= set(archive.records(store))
    catalogue_ids = archive.catalogue.record_ids()
    general = archive.bucket_findings() + orphan_findings(store_ids, catalogue_ids)
    # the store's records only: a catalogue-only record is already an orphan finding above
    ids = sorted(store_ids)
    if verify_all is None:
        audits = tuple(archive.verify(rid, pdf_checker) for rid in ids)
    else:
        audits = tuple(verify_all(ids))
    return ArchiveAudit(len(store_ids), len(catalogue_ids), audits, tuple(general))
