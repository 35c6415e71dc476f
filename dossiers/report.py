"""The on-time report (báo cáo tình hình, kết quả giải quyết thủ tục hành chính).

For a period [date_from, date_to], as the offices report it (Circular 01/2018/TT-VPCP, report
annex): dossiers carried over from before the period, newly received, resolved in the period
(early, on time, late), and pending at the end of the period (not yet due, overdue), with the
share resolved early or on time. Rows per procedure, per month, and per procedure and month.
A dossier counts as resolved on the day its result is signed. Refused (Mẫu 03) and withdrawn
dossiers are counted apart on the day they closed: neither resolved nor pending. A dossier waiting
for the citizen's supplement has no due date running: it is pending, but neither "not yet due"
nor overdue. Supplement rounds (Mẫu 02 issued) are counted for the dossiers of the period.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

from dossiers.calendar import Timeliness, timeliness
from dossiers.register import CLOSED, Dossier, Status
from motcua.errors import BadArgumentError


@dataclass(frozen=True)
class ReportRow:
    procedure: str | None  # None: all procedures
    month: str | None  # "YYYY-MM"; None: the whole period
    date_from: dt.date
    date_to: dt.date
    carried_over: int  # received before the period, unresolved at its start
    received: int  # received in the period
    resolved: int
    early: int
    on_time: int
    late: int
    pending: int  # unresolved at the end of the period
    pending_not_due: int
    pending_overdue: int
    awaiting_supplement: int  # pending, waiting for the citizen's supplement (no due date)
    late_without_apology: int  # late or overdue without a Mẫu 04 letter: a recorded failing
    refused: int = 0  # closed in the period with a refusal (Mẫu 03)
    withdrawn: int = 0  # closed in the period at the citizen's request
    supplement_rounds: int = 0  # supplement requests issued for these dossiers

    @property
    def on_time_rate(self) -> float | None:
        """(early + on time) / resolved, or None when nothing was resolved."""
        return None if self.resolved == 0 else (self.early + self.on_time) / self.resolved

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = asdict(self)
        out["date_from"] = self.date_from.isoformat()
        out["date_to"] = self.date_to.isoformat()
        out["on_time_rate"] = self.on_time_rate
        return out


@dataclass(frozen=True)
class OnTimeReport:
    total: ReportRow
    by_procedure: tuple[ReportRow, ...]
    by_month: tuple[ReportRow, ...]
    by_procedure_month: tuple[ReportRow, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "date_from": self.total.date_from.isoformat(),
            "date_to": self.total.date_to.isoformat(),
            "total": self.total.to_json(),
            "by_procedure": [r.to_json() for r in self.by_procedure],
            "by_month": [r.to_json() for r in self.by_month],
            "by_procedure_month": [r.to_json() for r in self.by_procedure_month],
        }


def on_time_report(
    dossiers: Iterable[Dossier], *, date_from: dt.date, date_to: dt.date
) -> OnTimeReport:
    """Count `dossiers` for the period [date_from, date_to] (days in Vietnam time)."""
    if date_to < date_from:
        raise BadArgumentError(f"the report period ends ({date_to}) before it starts ({date_from})")
    relevant = [d for d in dossiers if d.received_at.date() <= date_to]
    procedures = sorted({d.procedure_key for d in relevant})
    months = _months(date_from, date_to)
    total = _row(relevant, None, None, date_from, date_to)
    by_procedure = tuple(
        _row([d for d in relevant if d.procedure_key == p], p, None, date_from, date_to)
        for p in procedures
    )
    by_month = tuple(_row(relevant, None, label, a, b) for label, a, b in months)
    by_procedure_month = tuple(
        _row([d for d in relevant if d.procedure_key == p], p, label, a, b)
        for p in procedures
        for label, a, b in months
    )
    return OnTimeReport(total, by_procedure, by_month, by_procedure_month)


def _row(
    dossiers: Sequence[Dossier],
    procedure: str | None,
    month: str | None,
    start: dt.date,
    end: dt.date,
) -> ReportRow:
    carried = received = early = on_time = late = 0
    not_due = overdue = supplement = no_apology = refused = withdrawn = rounds = 0
    for d in dossiers:
        received_day = d.received_at.date()
        resolved_day = d.resolved_at.date() if d.resolved_at else None
        closed_day = _closed_day(d)
        if received_day > end or (resolved_day is not None and resolved_day < start):
            continue
        if closed_day is not None and closed_day < start:
            continue
        rounds += sum(
            1 for h in d.history if h.status is Status.supplement_requested and h.at.date() <= end
        )
        if received_day < start:
            carried += 1
        else:
            received += 1
        if resolved_day is not None and resolved_day <= end:
            verdict = timeliness(resolved_day, d.due_date) if d.due_date else Timeliness.on_time
            early += verdict is Timeliness.early
            on_time += verdict is Timeliness.on_time
            late += verdict is Timeliness.late
            no_apology += verdict is Timeliness.late and d.apology_issued_at is None
            continue
        if closed_day is not None and closed_day <= end:
            refused += d.status is Status.refused
            withdrawn += d.status is Status.withdrawn
            continue
        if _waiting_for_supplement(d, end):
            supplement += 1
        elif d.due_date is None:
            not_due += 1
        elif end > d.due_date:
            overdue += 1
            no_apology += d.apology_issued_at is None
        else:
            not_due += 1
    return ReportRow(
        procedure=procedure,
        month=month,
        date_from=start,
        date_to=end,
        carried_over=carried,
        received=received,
        resolved=early + on_time + late,
        early=early,
        on_time=on_time,
        late=late,
        pending=not_due + overdue + supplement,
        pending_not_due=not_due,
        pending_overdue=overdue,
        awaiting_supplement=supplement,
        late_without_apology=no_apology,
        refused=refused,
        withdrawn=withdrawn,
        supplement_rounds=rounds,
    )


def _closed_day(d: Dossier) -> dt.date | None:
    """The day a refused or withdrawn dossier closed, None for one still open or resolved."""
    if d.status not in CLOSED:
        return None
    return next((h.at.date() for h in reversed(d.history) if h.status is d.status), None)


def _waiting_for_supplement(d: Dossier, end: dt.date) -> bool:
    """Whether, at the end of `end`, the dossier's last status change was a supplement request."""
    last = None
    for h in d.history:
        if h.at.date() <= end:
            last = h.status
    return last is Status.supplement_requested


def _months(start: dt.date, end: dt.date) -> list[tuple[str, dt.date, dt.date]]:
    """Calendar months overlapping [start, end], clipped to it."""
    out: list[tuple[str, dt.date, dt.date]] = []
    first = start.replace(day=1)
    while first <= end:
        following = (first + dt.timedelta(days=32)).replace(day=1)
        out.append(
            (f"{first:%Y-%m}", max(first, start), min(following - dt.timedelta(days=1), end))
        )
        first = following
    return out


@dataclass(frozen=True)
class Figures766:
    """What Decision 766/QĐ-TTg scores an office on and the register knows, for a period:
    the on-time share, the share of dossiers digitised (papers scanned and archived), the
    share received online / at the desk / by post, and the average satisfaction."""

    date_from: dt.date
    date_to: dt.date
    received: int
    by_channel: dict[str, int]  # online, desk, post, and "unrecorded" (before it was kept)
    digitised: int
    on_time_rate: float | None
    satisfaction_average: float | None

    def share(self, count: int) -> float | None:
        return None if self.received == 0 else count / self.received

    def to_json(self) -> dict[str, object]:
        return {
            "date_from": self.date_from.isoformat(),
            "date_to": self.date_to.isoformat(),
            "received": self.received,
            "on_time_rate": self.on_time_rate,
            "digitised": self.digitised,
            "digitised_rate": self.share(self.digitised),
            "by_channel": dict(self.by_channel),
            "channel_rates": {k: self.share(v) for k, v in self.by_channel.items()},
            "satisfaction_average": self.satisfaction_average,
        }


def figures_766(
    dossiers: Iterable[Dossier],
    report: OnTimeReport,
    *,
    satisfaction_average: float | None,
) -> Figures766:
    """The Decision 766 figures of the dossiers received in `report`'s period."""
    start, end = report.total.date_from, report.total.date_to
    received = [d for d in dossiers if start <= d.received_at.date() <= end]
    channels = {"online": 0, "desk": 0, "post": 0, "unrecorded": 0}
    for d in received:
        channels[d.channel if d.channel in channels else "unrecorded"] += 1
    return Figures766(
        date_from=start,
        date_to=end,
        received=len(received),
        by_channel=channels,
        digitised=sum(1 for d in received if d.archived),
        on_time_rate=report.total.on_time_rate,
        satisfaction_average=satisfaction_average,
    )
