"""Intake as a job of the web server: the uploads checked by content and kept, the
`intake-dossier` (or `supplement-dossier`) flow submitted as a job, and what a job reader may
see of its result. Used by the intake and lifecycle routes; not a route module itself.

Uploads are kept under `<home>/uploads/<day>-<id>/` (never deleted): all files of a request
are kept or none is. The submission enters the audit journal (`flows.dossier.note_submission`)
before anything the job records.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from fastapi import UploadFile
from starlette.concurrency import run_in_threadpool

from dossiers.calendar import VN_TZ, to_local
from dossiers.contact import Contact
from dossiers.register import Status
from flows import dossier as ops
from flows.context import office_in_use
from motcua.errors import BadArgumentError, InputFileError
from motcua.web.auth import Principal
from motcua.web.jobs import Job
from motcua.web.services import Services
from motcua.web.uploads import MAX_FILES_PER_REQUEST, CheckedUpload, receive_upload

MAX_FILES = MAX_FILES_PER_REQUEST  # the request body limit is sized for this many
FUTURE_SKEW = dt.timedelta(minutes=5)  # a desk PC's clock may run a little ahead
JOB_KIND = "intake"


class _JobId:
    """The id of a job, known once `submit` returned; the work may start before that."""

    def __init__(self) -> None:
        self._known = threading.Event()
        self._value = ""

    def set(self, value: str) -> None:
        self._value = value
        self._known.set()

    def get(self) -> str:
        self._known.wait(60)
        return self._value


def _record_dossier_code(services: Services, job_id: str, code: str) -> None:
    """Name the dossier on the job, so the job page and API link to it."""
    services.jobs.set_dossier_code(job_id, code)


def public_result(result: Mapping[str, Any]) -> dict[str, Any]:
    """What a job reader may see: codes, dates and links; no paths, no extracted values."""
    code = result["dossier_code"]
    due = result.get("due_date")
    status = result.get("status")
    return {
        "dossier_code": code,
        "created": bool(result.get("created", True)),
        "procedure": result.get("procedure"),
        "status": status,
        "received_at": result.get("received_at"),
        "due_date": due,
        "missing_components": list(result.get("missing_components") or []),
        "record_id": result.get("record_id"),
        "documents": [
            {
                "position": i,
                "kind": doc.get("kind"),
                "needs_review": sorted(
                    key
                    for key, field in (doc.get("fields") or {}).items()
                    if isinstance(field, Mapping) and field.get("needs_review")
                ),
            }
            for i, doc in enumerate(result.get("documents") or [], start=1)
        ],
        "dossier_url": f"/api/v1/dossiers/{code}",
        "page_url": f"/dossiers/{code}",
        "receipt_url": f"/api/v1/dossiers/{code}/receipt.pdf" if due else None,
        "supplement_request_url": (
            f"/api/v1/dossiers/{code}/supplement-request.pdf"
            if status == Status.supplement_requested.value
            else None
        ),
    }


def _intake_work(
    services: Services,
    actor: str,
    files: Sequence[Path],
    procedure: str,
    received_at: str | None,
    job_id: _JobId,
    *,
    components: Mapping[str, str] | None = None,
    supplement_of: str | None = None,
    contact: Contact | None = None,
) -> Callable[[], dict[str, Any]]:
    def work() -> dict[str, Any]:
        office = services.flows_office()  # the server's own catalogue, store and home
        from flows.intake import intake_dossier, supplement_dossier

        names = [str(f) for f in files]
        reach = contact.to_json() if contact else None
        try:
            with office_in_use(office):
                if supplement_of is None:
                    result = intake_dossier(names, procedure, received_at, dict(components or {}),
                                            actor, reference=job_id.get(),
                                            contact=reach)  # fmt: skip
                else:
                    result = supplement_dossier(supplement_of, names, received_at,
                                                dict(components or {}), actor)  # fmt: skip
        except Exception as exc:
            if isinstance(exc, InputFileError):  # the job's readers see the file, not the server
                exc = InputFileError(Path(exc.path).name, exc.reason, hint=exc.hint)
            raise exc from None
        _record_dossier_code(services, job_id.get(), str(result["dossier_code"]))
        return public_result(result)

    return work


# --- taking a dossier in ----------------------------------------------------------------------


def _received_at(value: str | None) -> str | None:
    """An ISO date-time (Vietnam time when it names no offset), not in the future."""
    if value is None or not value.strip():
        return None
    try:
        moment = to_local(dt.datetime.fromisoformat(value.strip()))
    except ValueError:
        raise BadArgumentError(
            f"received_at {value!r} không phải thời điểm (not an ISO date-time)",
            hint="e.g. 2026-04-24T09:30:00+07:00",
        ) from None
    if moment > dt.datetime.now(VN_TZ) + FUTURE_SKEW:
        raise BadArgumentError(
            f"received_at {moment.isoformat()} ở tương lai (is in the future)",
            hint="để trống để lấy thời điểm hiện tại (leave it empty for now)",
        )
    return moment.isoformat()


def _chosen(uploads: Sequence[UploadFile] | None) -> list[UploadFile]:
    """The files actually chosen: a form sent without one carries an empty, nameless part."""
    chosen = [u for u in uploads or () if u.filename or (u.size or 0) > 0]
    if not chosen:
        raise BadArgumentError(
            "chưa chọn tệp nào (no file uploaded)", hint="chọn hoặc kéo thả các tệp đã quét"
        )
    if len(chosen) > MAX_FILES:
        raise BadArgumentError(
            f"{len(chosen)} tệp, nhiều hơn {MAX_FILES} (too many files in one dossier)",
            hint=f"gộp các trang vào ít tệp PDF hơn (at most {MAX_FILES} files)",
        )
    return chosen


async def _check_all(
    uploads: Sequence[UploadFile], staging: Path, max_bytes: int
) -> list[CheckedUpload]:
    """Check every upload by content (size, type, no file twice) into a staging folder."""
    checked: list[CheckedUpload] = []
    for i, upload in enumerate(uploads, start=1):
        one = await receive_upload(upload, staging / f"{i:02d}", max_bytes=max_bytes)
        twin = next((c for c in checked if c.sha256 == one.sha256), None)
        if twin is not None:
            raise InputFileError(
                one.filename,
                f"trùng nội dung với tệp {twin.filename} (the same file twice)",
                hint="bỏ bản trùng (remove the duplicate)",
            )
        checked.append(one)
    return checked


def _keep(checked: Sequence[CheckedUpload], uploads_root: Path) -> list[Path]:
    """Move checked uploads to a fresh folder named by the day and an id, under the names the
    client gave (with the suffix of their real type); nothing there is ever deleted."""
    folder = uploads_root / f"{dt.datetime.now(VN_TZ):%Y%m%d}-{uuid.uuid4().hex[:12]}"
    folder.mkdir(parents=True)
    kept = []
    for one in checked:
        target = _free_name(folder, Path(one.filename).stem or "tep", one.path.suffix)
        os.replace(one.path, target)
        kept.append(target)
    return kept


def _free_name(folder: Path, stem: str, suffix: str) -> Path:
    """`stem+suffix` in `folder`, numbered when a scanner gave two files the same name."""
    target, n = folder / f"{stem}{suffix}", 1
    while target.exists():
        n += 1
        target = folder / f"{stem}-{n}{suffix}"
    return target


async def take_in(
    services: Services,
    principal: Principal,
    uploads: Sequence[UploadFile] | None,
    procedure: str,
    received_at: str | None,
    *,
    supplement_of: str | None = None,
    contact: Contact | None = None,
) -> Job:
    """Check the request and the files, keep them, and start the intake flow as a job (the
    supplement flow of dossier `supplement_of`, when given); `contact`: the citizen's, for notices.

    All files are kept or none is: a refused file leaves nothing behind.
    """
    proc = services.catalogue.get(procedure.strip())
    when = _received_at(received_at)
    chosen = _chosen(uploads)
    uploads_root = services.settings.home / "uploads"
    staging = uploads_root / f".incoming-{uuid.uuid4().hex}"
    try:
        checked = await _check_all(chosen, staging, services.upload_max_bytes)
        files = _keep(checked, uploads_root)
    finally:
        shutil.rmtree(staging, ignore_errors=True)

    def submit() -> Job:
        job_id = _JobId()
        work = _intake_work(services, principal.actor, files, proc.key, when, job_id,
                            supplement_of=supplement_of, contact=contact)  # fmt: skip
        job = services.jobs.submit(JOB_KIND, work, actor=principal.actor)
        try:  # the submission enters the journal before anything the job records
            ops.note_submission(services.core, principal.actor, job.id, proc.key, when, files)
        finally:
            job_id.set(job.id)
        return job

    return await run_in_threadpool(submit)
