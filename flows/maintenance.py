"""Scheduled care of the archive and the register: fixity audits, reindexing, late dossiers.

- `fixity_audit`: re-hash every archived object (or the records named), look for versions hiding
  an archived one, re-validate signed PDFs, check the buckets' configuration and (for the whole
  archive) the catalogue against the store, each side's orphans being findings
  (`storage.audit`); a markdown artifact lists what was found, and the run fails when anything
  was, so a scheduled audit with findings shows red in Prefect.
- `replicate_archive`: send the copies queued for the replica (the second copy,
  MOTCUA_S3_REPLICA_*); the fixity audit runs it first, so a weekly audit also drains the queue.
- `repair_archive_record`: restore a missing or bad copy of a record's objects from the other copy
  as new versions (the old ones stay), journalled as `archive.copy_repaired`.
- `reindex_catalogue`: rebuild the catalogue from the object store alone.
- `apologise_late_dossiers`: every unresolved dossier past its due date without an apology gets
  the apology-and-new-date letter (Mẫu 04) in its folder and its new date in the register; the
  new date is the procedure's processing time again, counted in working days from today.

`motcua worker` deploys them with the other flows; the fixity audit on a weekly schedule.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import Any

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NONE as NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner

from dossiers.calendar import VN_TZ
from flows.context import current_office
from motcua.errors import CheckFailedError
from motcua.services import pdf_checker
from storage.archive import Finding, RecordAudit
from storage.audit import audit_archive

log = logging.getLogger(__name__)

DEFAULT_APOLOGY_REASON = "Hồ sơ cần thêm thời gian để thẩm định, xác minh"
# Re-hashing is I/O against the object store: two records at a time keep 2 cores busy.
_AUDIT_THREADS = 2


def unarchived_findings() -> list[Finding]:
    """One finding per dossier the register still holds as "chưa lưu trữ"."""
    return [
        Finding(d.code, "hồ sơ", f"chưa lưu trữ: {d.archive_pending or 'đang lưu trữ'}")
        for d in current_office().register.unarchived()
    ]


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[5, 15])
def audit_record(record_id: str) -> RecordAudit:
    return current_office().archive.verify(record_id, pdf_checker(offline=True))


@flow(
    name="fixity-audit",
    task_runner=ThreadPoolTaskRunner(max_workers=_AUDIT_THREADS),  # type: ignore[arg-type]
    log_prints=False,
)
def fixity_audit(
    record_ids: list[str] | None = None, fail_on_findings: bool = True
) -> dict[str, Any]:
    """Audit the named records, or the whole archive; fails (after its report) on any finding
    unless `fail_on_findings` is False (the CLI reports them and sets its exit code itself)."""
    started = time.monotonic()
    archive = current_office().archive
    flushed = archive.flush_replica()  # the queue first: what landed is then audited as such

    def verify_all(ids: list[str]) -> list[RecordAudit]:
        return [f.result() for f in audit_record.map(ids)]

    if record_ids:
        general = archive.bucket_findings()
        audits = verify_all(record_ids)
        stored = catalogued = None
    else:
        whole = audit_archive(archive, verify_all=verify_all)
        general, audits = list(whole.general), list(whole.audits)
        stored, catalogued = whole.store_records, whole.catalogue_records
    findings = general + [f for a in audits for f in a.findings]
    if not record_ids:  # dossiers taken in whose papers never reached the archive
        findings += unarchived_findings()
    result = {
        "ok": not findings,
        "records": len(audits),
        "store_records": stored,
        "catalogue_records": catalogued,
        "objects": sum(a.objects_checked for a in audits),
        "findings": [
            {"record_id": f.record_id, "object": f.object, "problem": f.problem, "copy": f.copy}
            for f in findings
        ],
        "copies": {a.record_id: [c.as_dict() for c in a.copies] for a in audits},
        "replica_queue": flushed.as_dict() if flushed is not None else None,
        "seconds": round(time.monotonic() - started, 1),
    }
    lines = [
        "# Kiểm tra toàn vẹn kho lưu trữ",
        "",
        f"- Hồ sơ: {result['records']}, tệp: {result['objects']}, {result['seconds']} s",
        f"- Vấn đề: {len(findings)}",
        "",
        *[f"- `{f.record_id}` `{f.object}` ({f.copy}): {f.problem}" for f in findings[:200]],
    ]
    create_markdown_artifact(
        "\n".join(lines), key="fixity-audit", description="Kiểm tra toàn vẹn (fixity)"
    )
    if findings and fail_on_findings:
        raise CheckFailedError(
            f"fixity audit: {len(findings)} finding(s) in "
            f"{len({f.record_id for f in findings})} record(s)",
            hint="see the run's artifact; `motcua archive verify RECORD_ID` for details",
        )
    return result


@flow(name="replicate-archive", log_prints=False)
def replicate_archive() -> dict[str, Any]:
    """Send every copy queued for the replica (stops early when it is still down)."""
    flushed = current_office().archive.flush_replica()
    if flushed is None:
        return {"replica": False, "copied": 0, "pending": 0, "error": None}
    return {"replica": True, **flushed.as_dict()}


@flow(name="repair-archive-record", log_prints=False)
def repair_archive_record(record_id: str, actor: str = "system:flows") -> dict[str, Any]:
    """Restore a record's missing or bad objects on one copy from the other, as new versions;
    the repair is journalled on the record. Raises when the record is unknown or an object is bad
    on both copies (what could be restored is restored and journalled first)."""
    office = current_office()
    report = office.archive.repair(record_id)
    if report.restored:
        office.journal_event(actor=actor, action="archive.copy_repaired", target_kind="record",
                             target_id=record_id, details=report.as_dict())  # fmt: skip
    return report.as_dict()


@flow(name="reindex-catalogue", log_prints=False)
def reindex_catalogue() -> dict[str, Any]:
    """Rebuild the search catalogue from the object store."""
    started = time.monotonic()
    count = current_office().archive.reindex()
    return {"records": count, "seconds": round(time.monotonic() - started, 1)}


@flow(name="apologise-late-dossiers", log_prints=False)
def apologise_late_dossiers(
    today: str | None = None, reason: str = DEFAULT_APOLOGY_REASON, actor: str = "system:flows"
) -> list[dict[str, Any]]:
    """Mẫu 04 for every late dossier that has none yet; returns what was issued."""
    from flows import dossier as ops

    office = current_office()
    day = dt.date.fromisoformat(today) if today else dt.datetime.now(VN_TZ).date()
    calendar = office.register.calendar
    issued: list[dict[str, Any]] = []
    for dossier in office.register.overdue(day, without_apology=True):
        procedure = office.catalogue.get(dossier.procedure_key)
        new_date = calendar.add_working_days(day, max(1, procedure.processing.working_days))
        assert dossier.due_date is not None  # overdue implies a due date
        outcome = ops.apologise(office, dossier.code, new_date, [reason], actor=actor)
        issued.append(
            {
                "dossier_code": dossier.code,
                "due_date": dossier.due_date.isoformat(),
                "new_due_date": new_date.isoformat(),
                "apology_pdf": str(outcome.forms["apology_pdf"]),
            }
        )
    if issued:
        create_markdown_artifact(
            "\n".join(
                ["# Phiếu xin lỗi và hẹn lại ngày trả kết quả", ""]
                + [
                    f"- {i['dossier_code']}: hạn {i['due_date']} → hẹn lại {i['new_due_date']}"
                    for i in issued
                ]
            ),
            key="late-dossiers",
            description="Hồ sơ quá hạn (Mẫu 04)",
        )
    log.info("%d apology letter(s) issued", len(issued))
    return issued
