"""The saved views of the dossier list, the questions a desk asks every morning: what is due
today, what is late, what waits for the citizen, for the leader, for collection.

A view is a name, a Vietnamese label and a test on a dossier (reads only). "Chờ ký" asks the
result flows whether a draft waits for the leader, so the web server's office is passed in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from dossiers.dossier import CLOSED, RESOLVED
from dossiers.register import Dossier, Status


@dataclass(frozen=True)
class SavedView:
    key: str
    label: str
    test: Callable[[Dossier, dt.date, Callable[[Dossier], bool]], bool]


def _open(d: Dossier) -> bool:
    return d.status not in RESOLVED | CLOSED


VIEWS: tuple[SavedView, ...] = (
    SavedView("den-han-hom-nay", "Đến hạn hôm nay",
              lambda d, today, _: _open(d) and d.due_date == today),
    SavedView("qua-han", "Quá hạn", lambda d, today, _: d.is_overdue(today)),
    SavedView("cho-bo-sung", "Chờ bổ sung",
              lambda d, _, __: d.status is Status.supplement_requested),
    SavedView("cho-ky", "Chờ ký",
              lambda d, _, waits: d.status is Status.processing and waits(d)),
    SavedView("cho-tra", "Chờ trả", lambda d, _, __: d.status is Status.result_signed),
)  # fmt: skip
BY_KEY = {v.key: v for v in VIEWS}

SORTS = {"moi-nhat": "Mới nhận trước", "han-tra": "Hạn trả gần nhất trước"}


def by_due_date(dossiers: list[Dossier]) -> list[Dossier]:
    """Nearest due date first; dossiers without one (waiting, closed) last, newest first."""
    far = dt.date.max
    return sorted(dossiers, key=lambda d: (d.due_date or far, -d.received_at.timestamp()))
