"""The dossier operations of `flows.dossier` as Prefect tasks, and one flow that runs any of them.

A worker (or a deployment's schedule) runs `dossier_operation("refuse", code, actor, {...})` on
its own office; the journal entry and the webhook are the same as from the web or the CLI, since
the same function does the work.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NONE as NO_CACHE

from flows import desk
from flows import dossier as ops
from flows.context import current_office
from motcua.errors import BadArgumentError

OPERATIONS: Mapping[str, Callable[..., ops.Outcome]] = {
    "accept": ops.accept,
    "confirm-components": ops.confirm_components,
    "correct-fields": ops.correct_fields,
    "request-supplement": ops.request_supplement,
    "refuse": ops.refuse,
    "withdraw": ops.withdraw,
    "change-procedure": ops.change_procedure,
    "return": ops.mark_returned,
    "apologise": ops.apologise,
    "add-note": desk.add_note,
    "assign": desk.assign,
}
TASKS = {
    name: task(name=f"dossier-{name}", cache_policy=NO_CACHE)(fn) for name, fn in OPERATIONS.items()
}


@flow(name="dossier-operation", log_prints=False)
def dossier_operation(
    operation: str, code: str, actor: str, params: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Run one dossier operation (a key of `OPERATIONS`) on this process's office; its JSON."""
    if operation not in TASKS:
        raise BadArgumentError(
            f"không có thao tác “{operation}”", hint="một trong: " + ", ".join(OPERATIONS)
        )
    outcome: ops.Outcome = TASKS[operation](current_office(), code, actor=actor, **(params or {}))
    return outcome.as_json()
