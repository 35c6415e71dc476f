"""Background jobs: poll the status of long work the API started (intake, issuing a result)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from motcua.web.auth import Principal, require, services_of
from motcua.web.jobs import Job, JobState
from motcua.web.pages import NotFound, render
from motcua.web.permissions import Permission

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1/jobs", tags=["công việc"])

Reader = Annotated[Principal, Depends(require(Permission.dossiers_read))]
# Any principal; who may not read dossiers (an `intake`-scoped token) sees only its own jobs.
Poller = Annotated[Principal, Depends(require(Permission.self_read))]


class JobOut(BaseModel):
    id: str
    kind: str
    state: JobState
    state_label: str
    dossier_code: str | None
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    result: dict[str, Any] | None = Field(description="the flow's result once completed")
    error: str | None = Field(description="why the job failed, readable by a person")
    hint: str | None


def job_out(job: Job) -> JobOut:
    return JobOut(id=job.id, kind=job.kind, state=job.state, state_label=job.state.label_vi,
                  dossier_code=job.dossier_code, created_at=job.created_at,
                  started_at=job.started_at, finished_at=job.finished_at, result=job.result,
                  error=job.error, hint=job.hint)  # fmt: skip


def _job(request: Request, job_id: str) -> Job:
    job = services_of(request).jobs.get(job_id)
    if job is None:
        raise NotFound(f"công việc {job_id}")
    return job


@api.get(
    "/{job_id}",
    response_model=JobOut,
    summary="Status of a background job (poll it); an intake-only token sees its own jobs",
)
def api_job(request: Request, principal: Poller, job_id: str) -> JobOut:
    job = _job(request, job_id)
    if not principal.can(Permission.dossiers_read) and job.actor != principal.actor:
        raise NotFound(f"công việc {job_id}")  # not Forbidden: whose jobs exist is not theirs
    return job_out(job)


@pages.get("/jobs/{job_id}")
def job_page(request: Request, principal: Reader, job_id: str) -> Response:
    """A page that refreshes itself until the job ends, then links to what it produced."""
    return render(request, "job.html", {"job": job_out(_job(request, job_id))})
