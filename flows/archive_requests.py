"""What an archivist does with a record, the one way each is done whichever door calls it:
download one file, run the fixity audit, export a dissemination package.

Each reads through `office.archive` and ends with `office.journal_event(...)`, so the journal
holds the same entry (actor aside) from the web, the CLI or the e-office API. Records are not
dossiers: no webhook event. This module imports no Prefect.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from motcua.office import Office

if TYPE_CHECKING:
    from storage.archive import PdfChecker, RecordAudit


def download_file(office: Office, record_id: str, name: str, *, actor: str) -> bytes:
    """One file of a record, taken from its bag (checked against the bag's manifest)."""
    with tempfile.TemporaryDirectory(prefix="motcua-download-") as folder:
        bag = office.archive.get(record_id, Path(folder))
        content = (bag / "data" / name).read_bytes()
    office.journal_event(actor=actor, action="archive.file_downloaded", target_kind="record",
                         target_id=record_id, details={"file": name})  # fmt: skip
    return content


def verify_record(office: Office, record_id: str, *, actor: str) -> RecordAudit:
    """The fixity audit of a record: every object hashed again."""
    audit = office.archive.verify(record_id)
    office.journal_event(actor=actor, action="archive.verified", target_kind="record",
                         target_id=record_id,
                         details={"ok": audit.ok, "findings": len(audit.findings)})  # fmt: skip
    return audit


def export_record(
    office: Office, record_id: str, zip_path: Path, checker: PdfChecker | None, *, actor: str
) -> RecordAudit:
    """The dissemination package of a record written to `zip_path`, with its fixity audit."""
    audit = office.archive.export(record_id, zip_path, checker)
    size = zip_path.stat().st_size if zip_path.is_file() else 0
    office.journal_event(actor=actor, action="archive.exported", target_kind="record",
                         target_id=record_id,
                         details={"ok": audit.ok, "objects_checked": audit.objects_checked,
                                  "bytes": size})  # fmt: skip
    return audit
