"""The archive for archivists and the e-office system: search (with or without diacritics),
a record's metadata, files and history, a file's download, the fixity audit, the export of a
dissemination package.

Uses `storage` through `Services.archive`. ID numbers are masked in search results and, for
principals who cannot run the audit, in the record too. Downloads come through this app (the
object store is not reachable from the office's PCs), taken from the record's archived bag and
checked against its manifest on the way.

The export (`…/export.zip`, the same package as `motcua archive export`: the bag's files, its
metadata and a verification report) needs `archive.verify`, not just `archive.read`: the package
carries the metadata with ID numbers unmasked, and building it runs the fixity audit. Signed PDFs
are re-validated offline (a request must not wait on OCSP/CRL servers the office may not reach).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, BinaryIO

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, Field

from flows import archive_requests
from motcua.errors import BadArgumentError, CheckFailedError
from motcua.types import mask_id
from motcua.web.auth import Principal, require, services_of
from motcua.web.pages import NotFound, render
from motcua.web.permissions import Permission
from motcua.web.routes.dossiers import _mask_text, _parse_day
from motcua.web.services import Services

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1/archive", tags=["lưu trữ"])

ArchiveReader = Annotated[Principal, Depends(require(Permission.archive_read))]
ArchiveAuditor = Annotated[Principal, Depends(require(Permission.archive_verify))]


class HitOut(BaseModel):
    record_id: str
    dossier_code: str
    title: str
    snippet: str
    snippet_html: str = Field(
        "", description="the snippet HTML-escaped, the matched words in <mark>…</mark>"
    )
    exact: bool
    rank: int


class FindingOut(BaseModel):
    object: str
    problem: str


class AuditOut(BaseModel):
    record_id: str
    ok: bool
    objects_checked: int
    findings: list[FindingOut]


def _search(
    services: Services,
    *,
    q: str | None,
    dossier_code: str | None,
    id_number: str | None,
    procedure: str | None,
    date_from: dt.date | None,
    date_to: dt.date | None,
    limit: int,
) -> list[HitOut]:
    from storage.catalogue import SearchQuery

    def clean(value: str | None) -> str | None:
        # A NUL ends the full-text query early in SQLite (a 500) and PostgreSQL refuses it.
        return value.replace("\x00", " ").strip() or None if value else None

    query = SearchQuery(
        text=clean(q) or "",
        dossier_code=clean(dossier_code),
        id_number=clean(id_number),
        procedure=clean(procedure),
        date_from=date_from,
        date_to=date_to,
        limit=limit,
    )
    if not (query.text or query.dossier_code or query.id_number or query.procedure
            or query.date_from or query.date_to):  # fmt: skip
        return []
    return [
        HitOut(
            record_id=h.record_id,
            dossier_code=h.dossier_code,
            title=_mask_text(h.title),
            snippet=_mask_text(h.snippet),
            snippet_html=_mask_text(h.snippet_html),
            exact=h.exact,
            rank=h.rank,
        )
        for h in services.archive.search(query)
    ]


def _metadata(services: Services, record_id: str, *, reveal: bool) -> dict[str, Any]:
    try:
        data = services.archive.metadata(record_id)
    except BadArgumentError:
        raise NotFound(f"hồ sơ lưu trữ {record_id}") from None
    if not reveal:
        data["id_numbers"] = [mask_id(str(n)) for n in data.get("id_numbers", [])]
        data["extracted"] = {k: _mask_text(str(v)) for k, v in data.get("extracted", {}).items()}
    return data


def _download(services: Services, principal: Principal, record_id: str, name: str) -> Response:
    metadata = _metadata(services, record_id, reveal=True)
    files = {f["name"]: f for f in metadata.get("files", [])}
    if name not in files:
        raise NotFound(f"tệp {name} của hồ sơ lưu trữ {record_id}")
    content = archive_requests.download_file(services.core, record_id, name, actor=principal.actor)
    media = _media_type(name)
    ascii_name = name.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    return Response(
        content,
        media_type=media,
        headers={
            "Content-Disposition": f'attachment; filename="{ascii_name}"; '
            f"filename*=UTF-8''{_quote(name)}",
            "Cache-Control": "no-store",
        },
    )


def _media_type(name: str) -> str:
    import mimetypes

    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")


def _verify(services: Services, principal: Principal, record_id: str) -> AuditOut:
    _metadata(services, record_id, reveal=False)  # 404 for an unknown record
    audit = archive_requests.verify_record(services.core, record_id, actor=principal.actor)
    return AuditOut(
        record_id=audit.record_id,
        ok=audit.ok,
        objects_checked=audit.objects_checked,
        findings=[FindingOut(object=f.object, problem=f.problem) for f in audit.findings],
    )


def _export(services: Services, principal: Principal, record_id: str) -> Response:
    """Build the package in a temporary folder, unlink it at once and stream the open file:
    the disk space is freed when the response ends or the client goes away, whatever happens."""
    from motcua.services import pdf_checker

    metadata = _metadata(services, record_id, reveal=False)  # 404 for an unknown record
    folder = tempfile.mkdtemp(prefix="motcua-export-")
    try:
        zip_path = Path(folder) / "export.zip"
        # the office's trust anchors: a revocation status offline cannot check is a finding
        trust = (services.settings.signing_trust,) if services.settings.signing_trust else ()
        checker = pdf_checker(trust, offline=True)
        audit = archive_requests.export_record(
            services.core, record_id, zip_path, checker, actor=principal.actor
        )
        package = open(zip_path, "rb")  # noqa: SIM115 - closed by _chunks when the stream ends
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    size = os.fstat(package.fileno()).st_size
    if not audit.ok:
        package.close()
        raise CheckFailedError(
            f"hồ sơ lưu trữ {record_id} không toàn vẹn, không xuất được gói hồ sơ: "
            + "; ".join(f"{f.object}: {f.problem}" for f in audit.findings),
            hint="record failed its fixity audit; tell the archivist",
        )
    code = str(metadata.get("code") or record_id)
    ascii_name = code.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    return StreamingResponse(
        _chunks(package),
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{ascii_name}.zip"; '
            f"filename*=UTF-8''{_quote(code)}.zip",
            "Content-Length": str(size),
            "Cache-Control": "no-store",
        },
    )


def _chunks(package: BinaryIO, size: int = 1024 * 1024) -> Iterator[bytes]:
    with package:
        while chunk := package.read(size):
            yield chunk


# --- API ------------------------------------------------------------------------------------


@api.get("/search", response_model=list[HitOut], summary="Search records")
def api_search(
    request: Request,
    principal: ArchiveReader,
    q: Annotated[
        str | None, Query(max_length=300, description="words, diacritics optional")
    ] = None,
    dossier_code: Annotated[str | None, Query(max_length=80)] = None,
    id_number: Annotated[str | None, Query(max_length=20)] = None,
    procedure: Annotated[str | None, Query(max_length=120)] = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
) -> list[HitOut]:
    services = services_of(request)
    return _search(services, q=q, dossier_code=dossier_code, id_number=id_number,
                   procedure=procedure, date_from=date_from, date_to=date_to,
                   limit=limit)  # fmt: skip


@api.get("/records/{record_id}", summary="A record's metadata (Circular 02/2019 fields)")
def api_record(request: Request, principal: ArchiveReader, record_id: str) -> dict[str, Any]:
    reveal = principal.can(Permission.archive_verify)
    return _metadata(services_of(request), record_id, reveal=reveal)


@api.get(
    "/records/{record_id}/files/{name}",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}},
    summary="Download one file of a record",
)
def api_download(request: Request, principal: ArchiveReader, record_id: str, name: str) -> Response:
    return _download(services_of(request), principal, record_id, name)


@api.get(
    "/records/{record_id}/export.zip",
    response_class=Response,
    responses={
        200: {
            "content": {"application/zip": {}},
            "description": "files, metadata and verification.json, as `motcua archive export`",
        },
        409: {"description": "the record failed its fixity audit; nothing is exported"},
    },
    summary="Export a dissemination package (zip)",
)
def api_export(request: Request, principal: ArchiveAuditor, record_id: str) -> Response:
    return _export(services_of(request), principal, record_id)


@api.post("/records/{record_id}/verify", response_model=AuditOut, summary="Fixity audit")
def api_verify(request: Request, principal: ArchiveAuditor, record_id: str) -> AuditOut:
    return _verify(services_of(request), principal, record_id)


# --- pages ----------------------------------------------------------------------------------


@pages.get("/archive")
def search_page(
    request: Request,
    principal: ArchiveReader,
    q: Annotated[str | None, Query(max_length=300)] = None,
    dossier_code: Annotated[str | None, Query(max_length=80)] = None,
    id_number: Annotated[str | None, Query(max_length=20)] = None,
    date_from: str | None = None,
    date_to: str | None = None,
) -> Response:
    services = services_of(request)
    hits = _search(services, q=q, dossier_code=dossier_code, id_number=id_number,
                   procedure=None, date_from=_parse_day(date_from), date_to=_parse_day(date_to),
                   limit=50)  # fmt: skip
    filters = {"q": q or "", "dossier_code": dossier_code or "", "id_number": id_number or "",
               "date_from": date_from or "", "date_to": date_to or ""}  # fmt: skip
    searched = any(filters.values())
    return render(request, "archive.html", {"hits": hits, "filters": filters, "searched": searched})


@pages.get("/archive/records/{record_id}")
def record_page(request: Request, principal: ArchiveReader, record_id: str) -> Response:
    return _record_page(request, principal, record_id)


def _record_page(
    request: Request, principal: Principal, record_id: str, check: AuditOut | None = None
) -> Response:
    services = services_of(request)
    metadata = _metadata(services, record_id, reveal=principal.can(Permission.archive_verify))
    code = str(metadata.get("code", ""))
    history = services.audit.entries(target_id=record_id, limit=50)
    if code:
        history += services.audit.entries(target_id=code, limit=50)
    return render(request, "record.html", {
        "m": metadata,
        "history": sorted(history, key=lambda e: e.seq, reverse=True),
        "check": check,
        "procedure_name": services.procedure_name(str(metadata.get("procedure") or "")),
    })  # fmt: skip


@pages.get("/archive/records/{record_id}/files/{name}")
def download_page(
    request: Request, principal: ArchiveReader, record_id: str, name: str
) -> Response:
    return _download(services_of(request), principal, record_id, name)


@pages.get("/archive/records/{record_id}/export.zip")
def export_page(request: Request, principal: ArchiveAuditor, record_id: str) -> Response:
    return _export(services_of(request), principal, record_id)


@pages.post("/archive/records/{record_id}/verify")
def verify_page(request: Request, principal: ArchiveAuditor, record_id: str) -> Response:
    """The audit's result is shown in this response (it can be long: no cookie round trip)."""
    check = _verify(services_of(request), principal, record_id)
    return _record_page(request, principal, record_id, check)
