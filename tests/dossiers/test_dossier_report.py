"""The on-time report against a hand-computed scenario (period 1/4/2026 - 31/5/2026).

Dossiers (M: marital status, 3 working days; B: birth registration, same day, 15:00 cut-off):
  D9 M received 10/3, signed 12/3: resolved before the period, not counted.
  D8 M received 31/3, due 3/4, signed 2/4: carried over, early.
  D1 M received 24/4, due 4/5, signed 29/4: early (April).
  D2 M received 24/4, due 4/5, signed 4/5: on time (May).
  D3 M received 24/4, due 4/5, apology 4/5 (new date 6/5), signed 6/5: late (May), apologised.
  D4 B received 28/4 16:00 (after cut-off), due 29/4, signed 29/4: on time (April).
  D5 B received 29/4 10:00, due 29/4, never signed: overdue from 30/4, no apology.
  D6 M received Wed 27/5, due Mon 1/6: pending, not yet due on 31/5.
  D7 B received 20/5 without the ID card: waiting for the supplement, no due date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from dossiers.procedures import Catalogue
from dossiers.register import DossierRegister
from dossiers.report import OnTimeReport, ReportRow, on_time_report
from motcua.errors import BadArgumentError

APRIL_1, APRIL_30, MAY_1, MAY_31 = (
    dt.date(2026, 4, 1),
    dt.date(2026, 4, 30),
    dt.date(2026, 5, 1),
    dt.date(2026, 5, 31),
)


def counts(row: ReportRow) -> dict[str, Any]:
    keys = [
        "carried_over",
        "received",
        "resolved",
        "early",
        "on_time",
        "late",
        "pending",
        "pending_not_due",
        "pending_overdue",
        "awaiting_supplement",
        "late_without_apology",
    ]
    return {k: getattr(row, k) for k in keys}


@pytest.fixture
def report(
    tmp_path: Any, catalogue: Catalogue, report_scenario: Callable[..., dict[str, str]]
) -> OnTimeReport:
    register = DossierRegister(f"sqlite:///{tmp_path / 'r.sqlite3'}", unit_code="H40.29.10")
    register.create_tables()
    report_scenario(register, catalogue)
    return on_time_report(register.list(), date_from=APRIL_1, date_to=MAY_31)


def test_totals(report: OnTimeReport) -> None:
    assert counts(report.total) == {
        "carried_over": 1,  # D8
        "received": 7,  # D1-D7
        "resolved": 5,
        "early": 2,  # D8, D1
        "on_time": 2,  # D2, D4
        "late": 1,  # D3
        "pending": 3,  # D5, D6, D7
        "pending_not_due": 1,  # D6 (D7 waits for a supplement: pending, not "within time")
        "pending_overdue": 1,  # D5
        "awaiting_supplement": 1,  # D7
        "late_without_apology": 1,  # D5 (D3 had its letter)
    }
    assert report.total.on_time_rate == pytest.approx(0.8)


def test_by_month(report: OnTimeReport) -> None:
    april, may = report.by_month
    assert (april.month, april.date_from, april.date_to) == ("2026-04", APRIL_1, APRIL_30)
    assert counts(april) == {
        "carried_over": 1,  # D8
        "received": 5,  # D1-D5
        "resolved": 3,
        "early": 2,  # D8, D1
        "on_time": 1,  # D4
        "late": 0,
        "pending": 3,  # D2, D3 (due 4/5), D5 (overdue on 30/4)
        "pending_not_due": 2,
        "pending_overdue": 1,
        "awaiting_supplement": 0,
        "late_without_apology": 1,
    }
    assert april.on_time_rate == 1.0
    assert (may.month, may.date_from, may.date_to) == ("2026-05", MAY_1, MAY_31)
    assert counts(may) == {
        "carried_over": 3,  # D2, D3, D5
        "received": 2,  # D6, D7
        "resolved": 2,
        "early": 0,
        "on_time": 1,  # D2
        "late": 1,  # D3
        "pending": 3,  # D5, D6, D7
        "pending_not_due": 1,  # D6
        "pending_overdue": 1,
        "awaiting_supplement": 1,
        "late_without_apology": 1,
    }
    assert may.on_time_rate == 0.5


def test_by_procedure(report: OnTimeReport) -> None:
    by_key = {r.procedure: r for r in report.by_procedure}
    assert set(by_key) == {"dang-ky-khai-sinh", "xac-nhan-tinh-trang-hon-nhan"}
    marital = by_key["xac-nhan-tinh-trang-hon-nhan"]
    assert (marital.carried_over, marital.received, marital.resolved) == (1, 4, 4)
    assert (marital.early, marital.on_time, marital.late, marital.pending) == (2, 1, 1, 1)
    birth = by_key["dang-ky-khai-sinh"]
    assert (birth.received, birth.on_time, birth.pending_overdue) == (3, 1, 1)
    assert birth.awaiting_supplement == 1
    cells = {(r.procedure, r.month): r for r in report.by_procedure_month}
    assert len(cells) == 4
    assert cells[("xac-nhan-tinh-trang-hon-nhan", "2026-05")].late == 1
    assert cells[("dang-ky-khai-sinh", "2026-04")].on_time == 1


def test_json_and_empty_periods(report: OnTimeReport) -> None:
    data = report.to_json()
    total = data["total"]
    assert isinstance(total, dict)
    assert total["on_time_rate"] == pytest.approx(0.8) and total["date_from"] == "2026-04-01"
    empty = on_time_report([], date_from=APRIL_1, date_to=APRIL_30)
    assert empty.total.resolved == 0 and empty.total.on_time_rate is None
    with pytest.raises(BadArgumentError):
        on_time_report([], date_from=MAY_1, date_to=APRIL_30)
