"""Due dates against hand-computed cases (calendar of Vietnam, holidays package 0.109).

Hand computations (dd/mm/yyyy, weekday):
- DOMAIN.md: received Fri 24/4/2026, 3 working days. Sat 25, Sun 26 (Hùng Kings' day), Mon 27
  observed holiday; Tue 28 = 1, Wed 29 = 2; Thu 30/4 and Fri 1/5 holidays; weekend; Mon 4/5 = 3.
- Tết 2027 (holidays package: Thu 4/2 to Wed 10/2/2027 off): received Wed 3/2/2027, 3 working
  days: Thu 11/2 = 1, Fri 12/2 = 2, Mon 15/2 = 3.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from dossiers.calendar import (
    VN_TZ,
    Timeliness,
    WorkingCalendar,
    load_overrides,
    timeliness,
)
from motcua.errors import BadArgumentError, ConfigurationError

CAL = WorkingCalendar()


def at(y: int, m: int, d: int, hh: int = 9, mi: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, hh, mi, tzinfo=VN_TZ)


@pytest.mark.parametrize(
    ("received", "days", "expected"),
    [
        (at(2026, 4, 24), 3, dt.date(2026, 5, 4)),  # DOMAIN.md example, spans 27/4, 30/4, 1/5
        (at(2026, 4, 29, 16, 30), 1, dt.date(2026, 5, 4)),  # Wed 29/4 → next working day Mon 4/5
        (at(2026, 4, 28), 2, dt.date(2026, 5, 4)),  # Wed 29 = 1, Mon 4/5 = 2
        (at(2027, 2, 3), 3, dt.date(2027, 2, 15)),  # Tết 2027
        (at(2027, 2, 1), 5, dt.date(2027, 2, 15)),  # Tue 2, Wed 3 = 2; Thu 11, Fri 12 = 4; Mon 15
        (at(2026, 2, 13), 1, dt.date(2026, 2, 23)),  # Fri 13/2/2026; Tết 16-20/2; Mon 23/2
        (at(2026, 11, 20), 3, dt.date(2026, 11, 26)),  # Mon 23 = 1, Tue 24 Cultural Day, Wed 25 = 2
        (at(2026, 8, 20), 2, dt.date(2026, 8, 22)),  # Fri 21 = 1, Sat 22/8 make-up working day = 2
    ],
)
def test_working_day_limits(received: dt.datetime, days: int, expected: dt.date) -> None:
    assert CAL.due_date(received, working_days=days) == expected


@pytest.mark.parametrize(
    ("received", "expected"),
    [
        (at(2026, 4, 24, 14, 59), dt.date(2026, 4, 24)),  # before the cut-off: the same day
        (at(2026, 4, 24, 15, 0), dt.date(2026, 4, 28)),  # at 15:00: next working day (27/4 off)
        (at(2026, 4, 29, 15, 30), dt.date(2026, 5, 4)),  # spans 30/4 and 1/5
        (at(2026, 4, 25, 9, 0), dt.date(2026, 4, 28)),  # received on a Saturday
        (at(2027, 2, 3, 16, 0), dt.date(2027, 2, 11)),  # after the cut-off on the eve of Tết
    ],
)
def test_same_day_with_cutoff(received: dt.datetime, expected: dt.date) -> None:
    assert CAL.due_date(received, working_days=0, cutoff=dt.time(15, 0)) == expected


def test_aware_times_are_read_in_vietnam_time() -> None:
    # 08:30 UTC is 15:30 in Hà Nội: after the cut-off.
    received = dt.datetime(2026, 4, 24, 8, 30, tzinfo=dt.UTC)
    assert CAL.due_date(received, working_days=0) == dt.date(2026, 4, 28)
    # A naive time is taken as Vietnam time: 14:00 is before the cut-off.
    assert CAL.due_date(dt.datetime(2026, 4, 24, 14, 0), working_days=0) == dt.date(2026, 4, 24)


def test_holidays_and_weekends_are_not_working_days() -> None:
    assert not CAL.is_working_day(dt.date(2026, 4, 27))  # observed Hùng Kings' day
    assert not CAL.is_working_day(dt.date(2026, 4, 30))
    assert not CAL.is_working_day(dt.date(2026, 5, 2))  # Saturday
    assert CAL.is_working_day(dt.date(2026, 4, 28))
    assert CAL.holiday_name(dt.date(2026, 4, 30)) is not None


def test_extra_days_off_and_make_up_saturdays() -> None:
    office = WorkingCalendar(
        extra_days_off=frozenset({dt.date(2026, 4, 28)}),
        extra_working_days=frozenset({dt.date(2026, 5, 2)}),
    )
    # Fri 24/4: 27 observed, 28 extra off; Wed 29 = 1; 30/4, 1/5 off; Sat 2/5 = 2; Mon 4/5 = 3.
    assert office.due_date(at(2026, 4, 24), working_days=3) == dt.date(2026, 5, 4)
    assert office.due_date(at(2026, 4, 24), working_days=2) == dt.date(2026, 5, 2)
    assert CAL.due_date(at(2026, 4, 24), working_days=2) == dt.date(2026, 4, 29)


def test_overrides_file(tmp_path: Path) -> None:
    path = tmp_path / "calendar.yaml"
    path.write_text("extra_days_off: [2026-04-28]\nextra_working_days: [2026-05-02]\n")
    office = WorkingCalendar.from_overrides(load_overrides(path))
    assert office.due_date(at(2026, 4, 24), working_days=2) == dt.date(2026, 5, 2)
    path.write_text("extra_days_off: [not-a-date]\n")
    with pytest.raises(ConfigurationError, match=r"calendar\.yaml.*extra_days_off\.0"):
        load_overrides(path)


def test_a_day_cannot_be_both_off_and_working() -> None:
    day = dt.date(2026, 5, 2)
    with pytest.raises(ConfigurationError, match="2026-05-02"):
        WorkingCalendar(extra_days_off=frozenset({day}), extra_working_days=frozenset({day}))


def test_negative_limits_are_refused() -> None:
    with pytest.raises(BadArgumentError):
        CAL.due_date(at(2026, 4, 24), working_days=-1)


def test_timeliness() -> None:
    due = dt.date(2026, 5, 4)
    assert timeliness(dt.date(2026, 4, 29), due) is Timeliness.early
    assert timeliness(due, due) is Timeliness.on_time
    assert timeliness(dt.date(2026, 5, 5), due) is Timeliness.late
    assert Timeliness.late.label_vi == "Quá hạn"


def test_working_days_between() -> None:
    assert CAL.working_days_between(dt.date(2026, 4, 24), dt.date(2026, 5, 4)) == 3
