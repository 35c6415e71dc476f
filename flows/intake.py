"""`intake_dossier`: from the files a citizen hands in to a registered dossier and a receipt.

files → content hashes (the idempotency key: the same files again return the same dossier) →
pages OCR'd as mapped tasks, as many at a time as the machine has cores → kind recognition and
field extraction per document → completeness against the procedure → the dossier in the register
(code, due date) → Mẫu 01 receipt, or Mẫu 02 supplement request when components are missing →
originals kept as received, and originals, searchable PDFs and the form archived as one record.
Each run leaves a markdown artifact summarising what happened.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NONE as NO_CACHE
from prefect.futures import PrefectFuture
from prefect.task_runners import ThreadPoolTaskRunner

from dossiers.contact import Contact
from dossiers.dossier import OTHER_COMPONENT, citizen_name, id_numbers
from dossiers.procedures import Procedure
from dossiers.register import DocumentIn, Dossier
from extractors.fields import Extraction, extract_fields, extract_from_pages
from extractors.ocr import OcrOptions, OcrPage, OcrResult, page_refs, read_page
from extractors.ocr.sources import PageRef
from flows.context import Office, current_office
from flows.dossier import RECEIPT_FILE, SUPPLEMENT_FILE, event_data, intake_form
from flows.public import status_url
from motcua.errors import (
    ArchivePendingError,
    BadArgumentError,
    InputFileError,
    MissingDependencyError,
    MotcuaError,
    ServiceUnavailableError,
)
from motcua.office import cli_actor
from motcua.pdfa import record_outcomes
from storage.record import ORIGINAL_NAME_PREFIX, DocumentInfo, RecordInfo, archive_safe_name
from storage.text import files_text

log = logging.getLogger(__name__)

# Tesseract runs as a child process per page, so threads give real parallelism: one per core.
_CORES = max(1, len(os.sched_getaffinity(0)))
_IMAGE_FORMATS = {"png", "jpeg", "tiff", "bmp", "webp"}


def _transient(_task: Any, _run: Any, state: Any) -> bool:
    """Retry a task only when the storage or network was the problem."""
    try:
        state.result()
    except ServiceUnavailableError:
        return True
    except Exception:
        return False
    return False


@dataclass
class ReadDocument:
    path: Path
    sha256: str
    ocr: OcrResult
    extraction: Extraction
    searchable_pdf: Path | None = None
    warnings: list[str] = field(default_factory=list)

    def fields_json(self) -> dict[str, Any]:
        return dict(self.extraction.as_json()["fields"])


# -- tasks -------------------------------------------------------------------------------------


@task(cache_policy=NO_CACHE)
def hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@task(cache_policy=NO_CACHE, task_run_name="ocr {ref.path}#{ref.index}")
def ocr_page_task(ref: PageRef, options: OcrOptions) -> OcrPage:
    return read_page(ref, options)


@task(cache_policy=NO_CACHE)
def extract_task(path: Path, result: OcrResult, fmt: str) -> Extraction:
    extraction = extract_from_pages(result, "auto", path=str(path))
    if fmt in _IMAGE_FORMATS and extraction.kind in ("unknown", "cccd"):
        # A photo of a card: find the card, straighten it, read its QR (QR values win).
        card = extract_fields(path, "cccd")
        if card.fields:
            return card
    return extraction


@task(cache_policy=NO_CACHE)
def searchable_pdf_task(path: Path, result: OcrResult, out: Path) -> Path:
    from extractors.ocr import write_searchable_pdf

    return write_searchable_pdf(path, result, out)


@task(
    cache_policy=NO_CACHE, retries=3, retry_delay_seconds=[2, 5, 10], retry_condition_fn=_transient
)
def archive_task(
    office: Office,
    originals: list[Path],
    produced: list[Path],
    info: RecordInfo,
    code: str,
    first: int = 1,
) -> str:
    """Keep the originals as received, then archive originals and what motcua made as a record
    (the originals named by their position in the dossier, from `first`), with the PDF/A check
    of each PDF in the record's metadata."""
    archive = office.archive
    staged = _stage(office.dossier_dir(code) / "payload", [*originals, *produced], first)
    for link in staged[: len(originals)]:  # under their safe names: any name a door accepted
        archive.store_original(link, code)
    # every archived PDF's PDF/A-2b check goes into the record (originals as received too)
    info = dataclasses.replace(info, extra={**info.extra, **record_outcomes(staged)})
    return archive.put(staged, info).record_id


# -- helpers -----------------------------------------------------------------------------------


def _payload_name(position: int, path: Path) -> str:
    """A payload file's name in the record: its position, then its name made archive-safe."""
    return f"{position:02d}-{archive_safe_name(path.name)}"


def _stage(folder: Path, files: list[Path], first: int = 1) -> list[Path]:
    """Give every payload file a unique, archive-safe name (scanners reuse names, browsers send
    `%22`) through symlinks; the original names go into the record's metadata."""
    folder.mkdir(parents=True, exist_ok=True)
    staged = []
    for i, path in enumerate(files, start=first):
        link = folder / _payload_name(i, path)
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(path.resolve())
        staged.append(link)
    return staged


def _citizen_name(documents: list[ReadDocument]) -> str | None:
    return citizen_name([(d.extraction.kind, d.extraction.fields) for d in documents])


def _id_numbers(documents: list[ReadDocument]) -> tuple[str, ...]:
    return tuple(id_numbers([d.fields_json() for d in documents]))


def assigned_components(
    procedure: Procedure, paths: list[Path], components: Mapping[str, str] | None
) -> list[str | None]:
    """The component each file was assigned by the clerk (`KEY=FILE` overrides, keyed by the
    file's path or name), None where the clerk named none. `BadArgumentError` in Vietnamese for
    an unknown component key, a file that is not in the dossier or a file assigned twice."""
    known = {c.kind for c in procedure.components}
    chosen: list[str | None] = [None] * len(paths)
    for name, key in (components or {}).items():
        matches = [
            i
            for i, p in enumerate(paths)
            if name in (str(p), p.name) or Path(name).resolve() == p.resolve()
        ]
        if not matches:
            raise BadArgumentError(
                f"{key}={name}: tệp {Path(name).name} không nằm trong các tệp nộp",
                hint="tên tệp phải là một trong các tệp nộp",
            )
        if key != OTHER_COMPONENT and key not in known:
            raise BadArgumentError(
                f"“{key}” không phải thành phần của thủ tục {procedure.key}",
                hint="dùng một trong: " + ", ".join([*sorted(known), OTHER_COMPONENT]),
            )
        for i in matches:
            if chosen[i] is not None:
                raise BadArgumentError(
                    f"tệp {paths[i].name} được gán hai lần ({chosen[i]} và {key})",
                    hint="mỗi tệp thuộc một thành phần",
                )
            chosen[i] = key
    return chosen


def _document_in(doc: ReadDocument, component: str | None) -> DocumentIn:
    return DocumentIn(
        path=str(doc.path),
        kind=doc.extraction.kind,
        sha256=doc.sha256,
        fields=doc.fields_json(),
        page_count=len(doc.ocr.pages),
        component=None if component == OTHER_COMPONENT else component,
        confirmed=component is not None,
    )


def summary(
    dossier: Dossier, *, created: bool, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The `motcua intake --json` contract, plus a few extra keys (`status_url`: the QR's link
    to the public status page, null while revoked)."""
    out = {
        "dossier_code": dossier.code,
        "procedure": dossier.procedure_key,
        "received_at": dossier.received_at.isoformat(),
        "due_date": dossier.due_date.isoformat() if dossier.due_date else None,
        "status": dossier.status.value,
        "receipt_pdf": None,
        "documents": [
            {"path": d.path, "kind": d.kind, "fields": dict(d.fields)} for d in dossier.documents
        ],
        "missing_components": list(dossier.missing_components),
        "created": created,
        "channel": dossier.channel,
        "notices": dossier.contact.reachable,  # the citizen gets notices (contact + consent)
        "status_url": None,
    }
    out.update(extra or {})
    return out


def _artifact(dossier: Dossier, result: dict[str, Any], seconds: float) -> None:
    lines = [
        f"# Hồ sơ {dossier.code}",
        "",
        f"- Thủ tục: `{dossier.procedure_key}`",
        f"- Trạng thái: {dossier.status.label_vi}",
        f"- Tiếp nhận: {dossier.received_at:%H:%M %d/%m/%Y}",
        f"- Hẹn trả: {dossier.due_date:%d/%m/%Y}" if dossier.due_date else "- Hẹn trả: (chưa)",
        f"- Thời gian xử lý: {seconds:.1f} s",
        "",
        "| tệp | loại | số trường | cần kiểm tra |",
        "| --- | --- | --- | --- |",
    ]
    for doc in result["documents"]:
        review = sum(1 for f in doc["fields"].values() if f.get("needs_review"))
        lines.append(
            f"| {Path(doc['path']).name} | {doc['kind']} | {len(doc['fields'])} | {review} |"
        )
    if dossier.missing_components:
        lines += ["", "Thiếu thành phần: " + ", ".join(dossier.missing_components)]
    key = "intake-" + "".join(c if c.isalnum() else "-" for c in dossier.code.lower())
    create_markdown_artifact("\n".join(lines), key=key, description="Tiếp nhận hồ sơ")


# -- page OCR on this machine or on a Dask cluster ---------------------------------------------


@flow(name="ocr-pages", log_prints=False)
def ocr_pages(refs_by_file: list[list[PageRef]], options: OcrOptions) -> list[list[OcrPage]]:
    """Every page of every file, OCR'd on the flow's task runner (a Dask cluster)."""
    futures = [list(ocr_page_task.map(refs, options)) for refs in refs_by_file]
    return [[f.result() for f in file_futures] for file_futures in futures]


def _ocr_all(
    office: Office, refs_by_file: list[list[PageRef]], options: OcrOptions
) -> list[Callable[[], tuple[OcrPage, ...]]]:
    """Start OCR of every page; one callable per file returns its pages when they are done.

    By default the pages are mapped on this flow's thread pool (Tesseract runs as a child
    process, one per core) and a file's fields are extracted while later files are still read.
    With `MOTCUA_OCR_RUNNER=dask` the pages go to a Dask cluster (`MOTCUA_DASK_ADDRESS`, or a
    local one) through prefect-dask, in a subflow; its workers must see the dossier's files at
    the same paths (a shared `MOTCUA_HOME`) and have Tesseract with `vie` installed.
    """
    settings = office.settings
    if settings.ocr_runner == "dask":
        try:
            from prefect_dask.task_runners import DaskTaskRunner
        except ImportError:
            raise MissingDependencyError(
                "MOTCUA_OCR_RUNNER=dask needs prefect-dask",
                hint="pip install 'motcua[dask]'",
            ) from None
        if settings.dask_address:
            runner = DaskTaskRunner(address=settings.dask_address)
        else:
            runner = DaskTaskRunner(
                cluster_kwargs={
                    "n_workers": _CORES,
                    "threads_per_worker": 1,
                    "processes": True,
                    "dashboard_address": None,
                }
            )
        done = ocr_pages.with_options(task_runner=runner)(refs_by_file, options)  # type: ignore[arg-type]
        return [functools.partial(tuple, pages) for pages in done]
    futures: list[list[PrefectFuture[OcrPage]]] = [
        list(ocr_page_task.map(refs, options)) for refs in refs_by_file
    ]
    return [functools.partial(_results, file_futures) for file_futures in futures]


def _results(futures: list[PrefectFuture[OcrPage]]) -> tuple[OcrPage, ...]:
    return tuple(f.result() for f in futures)


# -- the flows ---------------------------------------------------------------------------------


def _read_all(office: Office, paths: list[Path], refs_by_file: list[list[PageRef]],
              hashes: list[str]) -> list[ReadDocument]:  # fmt: skip
    """OCR every page of every file (in parallel), then recognise and extract each document."""
    options = OcrOptions(lang="vie", jobs=1, page_timeout=office.settings.ocr_page_timeout)
    pages_by_file = _ocr_all(office, refs_by_file, options)
    documents: list[ReadDocument] = []
    for path, digest, refs, pages_of in zip(
        paths, hashes, refs_by_file, pages_by_file, strict=True
    ):
        ocr = OcrResult(str(path), pages_of(), seconds=0.0)
        extraction = extract_task(path, ocr, refs[0].format)
        documents.append(ReadDocument(path, digest, ocr, extraction))
    return documents


def _page_refs(office: Office, paths: list[Path]) -> list[list[PageRef]]:
    refs_by_file: list[list[PageRef]] = []
    for path in paths:
        try:
            refs_by_file.append(page_refs(path))
        except InputFileError as exc:
            _quarantine(office, path, exc)
            raise
    return refs_by_file


def _archive_documents(
    office: Office,
    dossier: Dossier,
    procedure: Procedure,
    documents: list[ReadDocument],
    form: Path,
    *,
    first_position: int = 1,
) -> tuple[str, list[Path]]:
    """Searchable PDFs of the documents, then originals + PDFs + the form as one record."""
    folder = office.dossier_dir(dossier.code)
    searchable = [
        searchable_pdf_task.submit(doc.path, doc.ocr, folder / f"{i:02d}-{doc.path.stem}.ocr.pdf")
        for i, doc in enumerate(documents, start=first_position)
    ]
    searchable_paths = [f.result() for f in searchable]
    title = f"Hồ sơ {procedure.name}"
    info = RecordInfo(
        dossier_code=dossier.code,
        title=title + (f" — {dossier.citizen_name}" if dossier.citizen_name else ""),
        procedure=procedure.key,
        keywords=(procedure.name, procedure.field),
        id_numbers=_id_numbers(documents),
        start_date=dossier.received_at.date().isoformat(),
        documents=tuple(
            DocumentInfo(
                file=_payload_name(i, doc.path),
                doc_type=doc.extraction.kind,
                page_count=len(doc.ocr.pages),
            )
            for i, doc in enumerate(documents, start=first_position)
        ),
        extracted={
            f"{doc.extraction.kind}.{key}": str(value.value)
            for doc in documents
            for key, value in doc.extraction.fields.items()
            if value.value
        },
        text="\n\f".join([*(doc.ocr.text for doc in documents), files_text([form])]),
        extra={
            ORIGINAL_NAME_PREFIX + _payload_name(i, doc.path): doc.path.name
            for i, doc in enumerate(documents, start=first_position)
            if archive_safe_name(doc.path.name) != doc.path.name
        },
    )
    record_id = archive_task(
        office,
        [d.path for d in documents],
        [*searchable_paths, form],
        info,
        dossier.code,
        first_position,
    )
    return record_id, searchable_paths


def _archive_or_keep_pending(
    office: Office,
    dossier: Dossier,
    procedure: Procedure,
    documents: list[ReadDocument],
    form: Path,
    *,
    first_position: int = 1,
) -> tuple[str, list[Path]]:
    """Archive the documents; until that succeeds the dossier is "chưa lưu trữ" in the register
    (listed by `motcua archive audit`, archived by the next run of the same intake), and a
    failure is an error, never a completed job without a record."""
    office.register.set_archive_pending(dossier.code, "")
    try:
        archived = _archive_documents(
            office, dossier, procedure, documents, form, first_position=first_position
        )
    except Exception as exc:
        reason = getattr(exc, "message", None) or type(exc).__name__
        office.register.set_archive_pending(dossier.code, reason)
        raise ArchivePendingError(
            f"hồ sơ {dossier.code} đã tiếp nhận nhưng chưa lưu trữ được: {reason}",
            hint="chạy lại việc tiếp nhận với cùng các tệp để lưu trữ lại "
            "(`motcua archive audit` liệt kê hồ sơ chưa lưu trữ)",
        ) from exc
    office.register.set_archive_pending(dossier.code, None)
    return archived


def _archive_again(office: Office, dossier: Dossier) -> dict[str, Any]:
    """Archive a dossier whose archive step failed, from its papers as registered."""
    proc = office.catalogue.get(dossier.procedure_key)
    paths = [Path(d.path) for d in dossier.documents]
    refs_by_file = _page_refs(office, paths)
    hashes = [d.sha256 for d in dossier.documents]
    documents = _read_all(office, paths, refs_by_file, hashes)
    extra = _paths_of(office, dossier)
    form = Path(extra.get("receipt_pdf") or extra["supplement_pdf"] or "")
    record_id, searchable = _archive_or_keep_pending(office, dossier, proc, documents, form)
    extra["searchable_pdfs"] = [str(p) for p in searchable]
    extra["record_id"] = record_id
    return extra


def _journal_intake(office: Office, actor: str, action: str, dossier: Dossier, *,
                    created: bool, documents: int) -> None:  # fmt: skip
    office.journal_event(
        actor=actor,
        action=action,
        target_id=dossier.code,
        details={"created": created, "status": dossier.status.value, "documents": documents},
        event=action if created else None,
        data=event_data(dossier),
    )


@flow(
    name="intake-dossier",
    task_runner=ThreadPoolTaskRunner(max_workers=_CORES),  # type: ignore[arg-type]
    log_prints=False,
)
def intake_dossier(
    files: list[str],
    procedure: str,
    received_at: str | None = None,
    components: dict[str, str] | None = None,
    actor: str | None = None,
    reference: str | None = None,
    channel: str | None = None,
    contact: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Take in one dossier; returns the `motcua intake --json` object.

    `contact` is the citizen's `{"phone", "email", "consent"}` for notices (`dossiers.contact`).

    `channel` is how the dossier came (online, desk, post); by default `online` when the
    e-office system pushed it through the API (`eoffice:` actors), else `desk`.

    `components` maps a file (its path or name) to the procedure component the clerk says it
    is (`giay-to-khac` for other paper), over the guess from its recognised kind. `actor` is
    who took it in (default: this machine's user, `cli:<user>`); `reference` names the job a
    failure is journaled under (default: the procedure).
    """
    office = current_office()
    who = actor or cli_actor()
    try:
        how = channel or ("online" if who.startswith("eoffice:") else "desk")
        return _intake(office, who, [Path(f) for f in files], procedure, received_at, components,
                       how, Contact.from_json(contact))  # fmt: skip
    except Exception as exc:
        if isinstance(exc, InputFileError):
            reason = f"{Path(exc.path).name}: {exc.reason}"
        else:
            reason = getattr(exc, "message", None) or type(exc).__name__
        office.journal_event(actor=who, action="dossier.intake_failed",
                             target_kind="job" if reference else "procedure",
                             target_id=reference or procedure,
                             details={"procedure": procedure, "error": reason})  # fmt: skip
        raise


def _intake(
    office: Office,
    who: str,
    paths: list[Path],
    procedure: str,
    received_at: str | None,
    components: Mapping[str, str] | None,
    channel: str,
    contact: Contact | None = None,
) -> dict[str, Any]:
    started = time.monotonic()
    proc = office.catalogue.get(procedure)
    chosen = assigned_components(proc, paths, components)
    when = dt.datetime.fromisoformat(received_at) if received_at else None
    refs_by_file = _page_refs(office, paths)
    hashes = [f.result() for f in hash_file.map(paths)]
    existing = office.register.find_by_files(proc.key, hashes)
    if existing is not None:
        log.info("dossier %s: these files were taken in already", existing.code)
        found: dict[str, Any] = _paths_of(office, existing)
        if not existing.archived:  # an earlier run registered it, then could not archive: now
            found = _archive_again(office, existing)
            existing = office.register.get(existing.code)
        _journal_intake(office, who, "dossier.received", existing, created=False,
                        documents=len(paths))  # fmt: skip
        found["status_url"] = status_url(office, existing.code)
        return summary(existing, created=False, extra=found)

    documents = _read_all(office, paths, refs_by_file, hashes)
    intake = office.register.intake(
        proc,
        [_document_in(doc, c) for doc, c in zip(documents, chosen, strict=True)],
        received_at=when,
        citizen_name=_citizen_name(documents),
        channel=channel,
        contact=contact,
    )
    dossier = intake.dossier
    extra: dict[str, Any] = {name: str(path) for name, path in intake_form(office, dossier).items()}
    form = Path(extra.get("receipt_pdf") or extra["supplement_pdf"])
    record_id, searchable = _archive_or_keep_pending(office, dossier, proc, documents, form)
    extra["searchable_pdfs"] = [str(p) for p in searchable]
    extra["record_id"] = record_id
    extra["status_url"] = status_url(office, dossier.code)
    _journal_intake(office, who, "dossier.received", dossier, created=intake.created,
                    documents=len(documents))  # fmt: skip
    result = summary(dossier, created=intake.created, extra=extra)
    _artifact(dossier, result, time.monotonic() - started)
    return result


@flow(
    name="supplement-dossier",
    task_runner=ThreadPoolTaskRunner(max_workers=_CORES),  # type: ignore[arg-type]
    log_prints=False,
)
def supplement_dossier(
    dossier_code: str,
    files: list[str],
    received_at: str | None = None,
    components: dict[str, str] | None = None,
    actor: str | None = None,
) -> dict[str, Any]:
    """Take in the papers a citizen brings back for a dossier waiting for them: same code, the
    files join its documents; once complete the time limit restarts from this receipt and a
    new Mẫu 01 is issued (else a new Mẫu 02 for what is still missing)."""
    office = current_office()
    who = actor or cli_actor()
    dossier = office.register.get(dossier_code)
    proc = office.catalogue.get(dossier.procedure_key)
    paths = [Path(f) for f in files]
    chosen = assigned_components(proc, paths, components)
    when = dt.datetime.fromisoformat(received_at) if received_at else None
    office.register.check_supplement(dossier_code, [])
    refs_by_file = _page_refs(office, paths)
    hashes = [f.result() for f in hash_file.map(paths)]
    office.register.check_supplement(dossier_code, list(zip(files, hashes, strict=True)))
    documents = _read_all(office, paths, refs_by_file, hashes)
    updated = office.register.supplement_received(
        proc,
        dossier_code,
        [_document_in(doc, c) for doc, c in zip(documents, chosen, strict=True)],
        at=when,
    )
    extra: dict[str, Any] = {name: str(path) for name, path in intake_form(office, updated).items()}
    form = Path(extra.get("receipt_pdf") or extra["supplement_pdf"])
    first = len(updated.documents) - len(documents) + 1
    record_id, searchable = _archive_or_keep_pending(office, updated, proc, documents, form,
                                                     first_position=first)  # fmt: skip
    extra["searchable_pdfs"] = [str(p) for p in searchable]
    extra["record_id"] = record_id
    office.journal_event(
        actor=who,
        action="dossier.supplement_received",
        target_id=dossier_code,
        details={"status": updated.status.value, "documents": len(documents),
                 "missing": list(updated.missing_components)},
        event="dossier.supplement_received",
        data=event_data(updated),
    )  # fmt: skip
    extra["status_url"] = status_url(office, dossier_code)
    return summary(updated, created=False, extra=extra)


def _paths_of(office: Office, dossier: Dossier) -> dict[str, Any]:
    folder = office.dossier_dir(dossier.code)
    receipt = folder / RECEIPT_FILE
    supplement = folder / SUPPLEMENT_FILE
    return {
        "receipt_pdf": str(receipt) if receipt.exists() else None,
        "supplement_pdf": str(supplement) if supplement.exists() else None,
    }


def _quarantine(office: Office, path: Path, error: MotcuaError) -> None:
    """Set a file that cannot be read aside in the quarantine bucket; never lose it."""
    try:
        office.archive.quarantine(path, error.message)
    except MotcuaError as exc:
        log.warning("could not quarantine an unreadable input: %s", exc.message)
