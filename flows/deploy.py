"""Scaling out: deployments of the dossier flows on a Prefect server's process work pool.

One machine runs `prefect server start` (with PostgreSQL), each worker machine runs
`motcua worker` with the same `MOTCUA_*` settings (S3, catalogue) and `MOTCUA_PREFECT_API_URL`.
`deploy_flows` registers the flows from this source tree (a path every worker can read: the
same checkout or install on each machine); `submit_intake` queues an intake for whichever worker
is free. Prefect's server hands each flow run to exactly one worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import Any
from uuid import UUID

log = logging.getLogger(__name__)

SOURCE = Path(__file__).resolve().parent.parent
DEFAULT_POOL = "motcua"
INTAKE_DEPLOYMENT = "intake-dossier/intake"
RESULT_DEPLOYMENT = "issue-result/issue"


def ensure_pool(pool: str) -> None:
    """Create the process work pool when the server does not have it yet."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectAlreadyExists

    with get_client(sync_client=True) as client, contextlib.suppress(ObjectAlreadyExists):
        client.create_work_pool(WorkPoolCreate(name=pool, type="process"))


# entry point, deployment name, cron schedule (office time) or None
DEPLOYMENTS: tuple[tuple[str, str, str | None], ...] = (
    ("flows/intake.py:intake_dossier", "intake", None),
    ("flows/result.py:issue_result", "issue", None),
    ("flows/maintenance.py:fixity_audit", "weekly", "0 2 * * 0"),  # Sunday 02:00
    ("flows/maintenance.py:reindex_catalogue", "reindex", None),
    ("flows/maintenance.py:apologise_late_dossiers", "daily", "0 7 * * 1-6"),  # before opening
    ("flows/upkeep.py:renew_signatures", "monthly", "0 3 1 * *"),  # the 1st, 03:00
)
OFFICE_TIMEZONE = "Asia/Ho_Chi_Minh"


def deploy_flows(pool: str = DEFAULT_POOL) -> dict[str, UUID]:
    """Register (or update) the dossier and maintenance deployments on `pool`."""
    from prefect import flow as prefect_flow
    from prefect.schedules import Cron

    ensure_pool(pool)
    ids: dict[str, UUID] = {}
    for entrypoint, name, cron in DEPLOYMENTS:
        remote: Any = prefect_flow.from_source(source=str(SOURCE), entrypoint=entrypoint)
        schedules = [Cron(cron, timezone=OFFICE_TIMEZONE)] if cron else None
        ids[name] = remote.deploy(name=name, work_pool_name=pool, build=False, push=False,
                                  print_next_steps=False, schedules=schedules)  # fmt: skip
    return ids


def submit_intake(
    files: list[str],
    procedure: str,
    received_at: str | None = None,
    contact: dict[str, Any] | None = None,
) -> UUID:
    """Queue one intake on the work pool; returns the flow run id at once."""
    from prefect.deployments import run_deployment

    parameters: dict[str, Any] = {
        "files": [str(Path(f).resolve()) for f in files],
        "procedure": procedure,
        "received_at": received_at,
    }
    if contact and any(contact.values()):
        parameters["contact"] = contact
    run = run_deployment(INTAKE_DEPLOYMENT, parameters=parameters, timeout=0, as_subflow=False)
    return run.id  # type: ignore[union-attr]


def run_worker(
    pool: str = DEFAULT_POOL, *, limit: int | None = None, name: str | None = None
) -> None:
    """Run a process worker for `pool` until interrupted."""
    from prefect.workers.process import ProcessWorker

    async def main() -> None:
        async with ProcessWorker(work_pool_name=pool, limit=limit, name=name) as worker:
            await worker.start()

    asyncio.run(main())
