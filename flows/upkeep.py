"""Signature upkeep of the archive: the `renew-signatures` flow (`motcua worker` deploys it as
`renew-signatures/monthly`; `motcua archive renew [--dry-run]` runs it by hand).

Every archived record's signed PDFs are assessed (`signing.upkeep.assess`): a record is due when
its newest document timestamp's TSA certificate ends within `MOTCUA_SIGNATURE_RENEW_MARGIN_DAYS`
(default 730) or a digest in it is on `MOTCUA_SIGNATURE_WEAK_DIGESTS`. A due record gets, per
signed PDF, the validation data of its newest timestamp and a new document timestamp from the
office's TSA, and is archived as a **new version of the record**: a new record in the WORM bucket
whose `extra.supersedes` names the old one (which stays, retained and undeletable) and whose
`extra.renewed_at` / `extra.renewal_reasons` say when and why. The journal gets
`archive.signature_renewed` on the old record (naming the new one) and `archive.renewal_stored`
on the new one, so both records' histories tell it. Records already superseded are skipped.

When the renewed record is the one a dossier's signed result points at (`ket-qua.json`), the
dossier follows it: its record id becomes the new one, the office's copy of the signed PDF
becomes the renewed file (the copy before renewal is kept beside it, renamed, never deleted), and
the dossier's history gets `result.signature_renewed`, so a download serves the renewed result.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prefect import flow

from flows.context import current_office
from flows.result import read_draft, write_draft
from motcua.errors import ConfigurationError, MotcuaError
from motcua.office import Office
from signing.upkeep import Assessment, UpkeepPolicy, assess, renew
from storage.record import FULLTEXT, METADATA, record_info_from_metadata

log = logging.getLogger(__name__)

SYSTEM_ACTOR = "system:flows"


@dataclass(frozen=True)
class RecordUpkeep:
    record_id: str
    dossier_code: str
    due: bool
    reasons: tuple[str, ...] = ()
    renewed_to: str | None = None  # the new record, when renewed
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"record_id": self.record_id, "dossier_code": self.dossier_code, "due": self.due,
                "reasons": list(self.reasons), "renewed_to": self.renewed_to,
                "error": self.error}  # fmt: skip


@dataclass(frozen=True)
class UpkeepReport:
    dry_run: bool
    checked: int
    records: tuple[RecordUpkeep, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return all(r.error is None for r in self.records)

    def as_json(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "checked": self.checked,
            "due": sum(r.due for r in self.records),
            "renewed": sum(r.renewed_to is not None for r in self.records),
            "ok": self.ok,
            "records": [r.as_json() for r in self.records],
        }


def upkeep_policy(office: Office) -> UpkeepPolicy:
    settings = office.settings
    weak = {d.strip().lower() for d in settings.signature_weak_digests.split(",") if d.strip()}
    return UpkeepPolicy(
        margin=dt.timedelta(days=settings.signature_renew_margin_days),
        weak_digests=frozenset(weak),
    )


def _signed_pdfs(bag: Path) -> list[Path]:
    return sorted(p for p in (bag / "data").rglob("*.pdf") if p.is_file())


def _assess_bag(bag: Path, policy: UpkeepPolicy) -> dict[Path, Assessment]:
    found = {}
    for pdf in _signed_pdfs(bag):
        result = assess(pdf.read_bytes(), policy, name=pdf.name)
        if result.long_term:
            found[pdf] = result
    return found


def _renew_record(
    office: Office, record_id: str, bag: Path, due: dict[Path, Assessment], actor: str
) -> str:
    settings = office.settings
    tsa_url = settings.signing_tsa_url
    if not tsa_url or settings.signing_trust is None:
        raise ConfigurationError(
            "gia hạn chữ ký cần dịch vụ cấp dấu thời gian và chứng thư gốc tin cậy",
            hint="đặt MOTCUA_SIGNING_TSA_URL và MOTCUA_SIGNING_TRUST",
        )
    trust = [settings.signing_trust]
    chain = [settings.signing_chain] if settings.signing_chain else []
    metadata = json.loads((bag / METADATA).read_text(encoding="utf-8"))
    text = (bag / FULLTEXT).read_text(encoding="utf-8") if (bag / FULLTEXT).is_file() else ""
    out_dir = bag.parent / f"{record_id}-renewed"
    out_dir.mkdir()
    files = []
    for source in sorted((bag / "data").rglob("*")):
        if not source.is_file():
            continue
        target = out_dir / source.relative_to(bag / "data")
        target.parent.mkdir(parents=True, exist_ok=True)
        data = source.read_bytes()
        if source in due:
            data = renew(data, tsa_url=tsa_url, trust=trust, extra_certs=chain,
                         name=source.name)  # fmt: skip
        target.write_bytes(data)
        files.append(target)
    reasons = sorted({r for a in due.values() for r in a.reasons})
    info = record_info_from_metadata(metadata, text)
    renewed_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    info = dataclasses.replace(info, extra={**info.extra, "supersedes": record_id,
                               "renewed_at": renewed_at,
                               "renewal_reasons": "; ".join(reasons)})  # fmt: skip
    new_id = office.archive.put(files, info).record_id
    office.journal_event(actor=actor, action="archive.signature_renewed", target_kind="record",
                         target_id=record_id,
                         details={"new_record": new_id, "reasons": reasons,
                                  "files": [p.name for p in due]})  # fmt: skip
    office.journal_event(actor=actor, action="archive.renewal_stored", target_kind="record",
                         target_id=new_id, details={"supersedes": record_id})  # fmt: skip
    _follow_in_dossier(office, str(metadata.get("code") or ""), record_id, new_id, out_dir, actor)
    return new_id


def _follow_in_dossier(
    office: Office, code: str, old_id: str, new_id: str, renewed: Path, actor: str
) -> None:
    """Point the dossier's signed result at the renewed record, if it pointed at the old one."""
    folder = office.settings.home / "dossiers" / code
    draft = read_draft(folder) if code and folder.is_dir() else None
    if draft is None or draft.record_id != old_id or draft.signed_pdf is None:
        return
    source = renewed / draft.signed_pdf.name
    if not source.is_file():
        return
    local = draft.signed_pdf
    if local.is_file():
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
        local.rename(local.with_name(f"{local.stem}.truoc-gia-han-{stamp}{local.suffix}"))
    part = local.with_name(local.name + ".part")
    part.write_bytes(source.read_bytes())
    part.replace(local)
    write_draft(folder, dataclasses.replace(draft, record_id=new_id))
    office.journal_event(actor=actor, action="result.signature_renewed", target_id=code,
                         details={"record_id": new_id, "supersedes": old_id})  # fmt: skip


def run_upkeep(office: Office, *, dry_run: bool = False, actor: str = SYSTEM_ACTOR) -> UpkeepReport:
    """Assess every current record; renew the due ones unless `dry_run`."""
    archive = office.archive
    policy = upkeep_policy(office)
    ids = archive.records()
    metadata = {rid: archive.metadata(rid) for rid in ids}
    superseded = {m.get("extra", {}).get("supersedes") for m in metadata.values()}
    current = [rid for rid in ids if rid not in superseded]
    results = []
    with tempfile.TemporaryDirectory(prefix="motcua-renew-") as tmp:
        for record_id in current:
            code = str(metadata[record_id].get("code", ""))
            try:
                bag = archive.get(record_id, Path(tmp))
                due = {p: a for p, a in _assess_bag(bag, policy).items() if a.due}
                if not due:
                    continue
                reasons = tuple(sorted({r for a in due.values() for r in a.reasons}))
                renewed = None if dry_run else _renew_record(office, record_id, bag, due, actor)
                results.append(RecordUpkeep(record_id, code, True, reasons, renewed))
            except MotcuaError as exc:
                log.warning("record %s: signature upkeep failed: %s", record_id, exc.message)
                results.append(RecordUpkeep(record_id, code, True, error=exc.message))
    return UpkeepReport(dry_run, len(current), tuple(results))


@flow(name="renew-signatures", log_prints=False)
def renew_signatures(dry_run: bool = False, actor: str = SYSTEM_ACTOR) -> dict[str, Any]:
    """Renew the document timestamps of archived signed results before they weaken."""
    report = run_upkeep(current_office(), dry_run=dry_run, actor=actor)
    return report.as_json()
