"""A result motcua does not draft: the signed PDF (signed elsewhere, e.g. on the national system)
or the scan of the paper result is uploaded, checked, archived, and the dossier goes on to return
and the statistics like any other.

A signed PDF must verify (intact, valid and, with `MOTCUA_SIGNING_TRUST`, trusted); a file
without signatures is taken as the scan of a result signed on paper. The clerk's file is copied
into the dossier's folder, never moved or changed.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from prefect import flow

from flows.context import Office, current_office
from flows.dossier import event_data
from flows.result import _unsigned_dossier, archive_result_task
from motcua.errors import CheckFailedError
from motcua.inputs import check_file
from motcua.office import cli_actor
from motcua.types import nfc

UPLOADED_STEM = "ket-qua-tai-len"


def _signature_problems(office: Office, path: Path, accept_unknown_revocation: bool) -> int:
    """How many signatures the PDF carries; `CheckFailedError` naming what is wrong with any."""
    from signing import verify_pdf

    trust = [office.settings.signing_trust] if office.settings.signing_trust else []
    report = verify_pdf(path, trust=trust, accept_unknown_revocation=accept_unknown_revocation)
    bad = [s for s in report.signatures if not (s.ok if trust else (s.intact and s.valid))]
    if bad:
        reasons = "; ".join(e for s in bad for e in s.errors) or "chữ ký không hợp lệ"
        raise CheckFailedError(
            f"{path.name}: kết quả đã ký không kiểm tra được: {reasons}",
            hint="tải lên bản kết quả đã ký hợp lệ, hoặc bản quét kết quả giấy",
        )
    return len(report.signatures)


def record_uploaded_result(
    office: Office,
    dossier_code: str,
    file: Path,
    *,
    number: str | None = None,
    actor: str | None = None,
    accept_unknown_revocation: bool = False,
) -> dict[str, Any]:
    """Archive `file` as the dossier's result and mark the dossier as having its result."""
    who = actor or cli_actor()
    dossier = _unsigned_dossier(office, dossier_code)
    info = check_file(file)
    signatures = (
        _signature_problems(office, file, accept_unknown_revocation) if info.kind == "pdf" else 0
    )
    folder = office.dossier_dir(dossier.code)
    folder.mkdir(parents=True, exist_ok=True)
    kept = folder / f"{UPLOADED_STEM}{file.suffix.lower() or '.pdf'}"
    shutil.copyfile(file, kept)
    if number:
        office.register.set_result_number(dossier.code, nfc(number.strip()))
    record_id = archive_result_task(office, dossier, kept, info.count)
    dossier = office.register.mark_result_signed(dossier.code)
    kind = "signed" if signatures else "scan"
    office.journal_event(
        actor=who,
        action="result.uploaded",
        target_id=dossier.code,
        details={"record_id": record_id, "kind": kind, "signatures": signatures,
                 "pages": info.count, "result_number": dossier.result_number},
        event="result.signed",
        data=event_data(dossier, record_id=record_id, uploaded=True, kind=kind,
                        timeliness=dossier.timeliness.value if dossier.timeliness else None,
                        result_number=dossier.result_number),
    )  # fmt: skip
    return {
        "dossier_code": dossier.code,
        "status": dossier.status.value,
        "result_pdf": str(kept),
        "record_id": record_id,
        "kind": kind,
        "signatures": signatures,
        "timeliness": dossier.timeliness.value if dossier.timeliness else None,
        "result_number": dossier.result_number,
    }


@flow(name="upload-result", log_prints=False)
def upload_result(
    dossier_code: str,
    file: str,
    number: str | None = None,
    actor: str | None = None,
    accept_unknown_revocation: bool = False,
) -> dict[str, Any]:
    """The result of a procedure motcua does not draft (or one signed elsewhere), uploaded."""
    return record_uploaded_result(
        current_office(),
        dossier_code,
        Path(file),
        number=number,
        actor=actor,
        accept_unknown_revocation=accept_unknown_revocation,
    )
