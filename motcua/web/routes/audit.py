"""The audit log for admins and archivists: entries newest first and the chain's verification."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from motcua.web.auth import Principal, require, services_of
from motcua.web.pages import render
from motcua.web.permissions import Permission

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1/audit", tags=["nhật ký"])
MAX_SEQ = 2**31 - 1  # entry numbers are 32-bit integers in the database; past it: a 500

AuditReader = Annotated[Principal, Depends(require(Permission.audit_read))]


@api.get("", summary="Audit entries, newest first")
def api_entries(
    request: Request,
    principal: AuditReader,
    target_kind: Annotated[str | None, Query(max_length=40)] = None,
    target_id: Annotated[str | None, Query(max_length=160)] = None,
    actor: Annotated[str | None, Query(max_length=160)] = None,
    before: Annotated[
        int | None, Query(ge=1, le=MAX_SEQ, description="entries before this number")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    entries = services_of(request).audit.entries(
        target_kind=target_kind, target_id=target_id, actor=actor, before_seq=before, limit=limit
    )
    return [e.to_json() for e in entries]


@api.get("/verify", summary="Recompute the hash chain")
def api_verify(request: Request, principal: AuditReader) -> dict[str, Any]:
    return services_of(request).audit.verify_chain().to_json()


@pages.get("/audit")
def audit_page(
    request: Request,
    principal: AuditReader,
    target_id: Annotated[str | None, Query(max_length=160)] = None,
    before: Annotated[int | None, Query(ge=1, le=MAX_SEQ)] = None,
) -> Response:
    audit = services_of(request).audit
    entries = audit.entries(target_id=target_id or None, before_seq=before, limit=100)
    return render(
        request,
        "audit.html",
        {
            "entries": entries,
            "report": audit.verify_chain(),
            "target_id": target_id or "",
            "older": entries[-1].seq if len(entries) == 100 else None,
        },
    )
