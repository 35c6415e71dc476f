"""Working days and due dates of the one-stop-shop office.

Working days skip Saturdays, Sundays and the public holidays of Vietnam, including the lunar ones
(Tết, Hùng Kings' day) and observed or substituted days, as the `holidays` package (country `VN`)
knows them, together with the make-up working Saturdays it lists. An office adds its own extra
days off and extra working days (a province's decision, a make-up Saturday the package does not
know yet) as configuration. The Tết break of each year is fixed by a Government decision a few
months ahead; for future years the package's dates are its own reckoning, so check them against
the decision and override where they differ.

A time limit counts from the working day after receipt (Civil Code 2015, Art. 147): a
3-working-day dossier received on Friday 24/4/2026 is due Monday 4/5/2026. A same-day procedure
received after the cut-off (15:00 by default, configurable per procedure) is due the next
working day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import holidays
import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from motcua.errors import BadArgumentError, ConfigurationError

#: Vietnam keeps UTC+07:00 all year; a fixed offset needs no time-zone database.
VN_TZ = dt.timezone(dt.timedelta(hours=7), "+07:00")
DEFAULT_CUTOFF = dt.time(15, 0)
_MAX_SEARCH_DAYS = 3660  # ten years without a working day means a broken configuration


def to_local(moment: dt.datetime) -> dt.datetime:
    """`moment` in Vietnam time; a naive datetime is taken to be Vietnam time already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=VN_TZ)
    return moment.astimezone(VN_TZ)


class Timeliness(StrEnum):
    """A resolution against its due date (Circular 01/2018: trước hạn, đúng hạn, quá hạn)."""

    early = "early"
    on_time = "on_time"
    late = "late"

    @property
    def label_vi(self) -> str:
        return {"early": "Trước hạn", "on_time": "Đúng hạn", "late": "Quá hạn"}[self.value]


def timeliness(resolved_on: dt.date, due: dt.date) -> Timeliness:
    """Early if resolved before the due day, on time on the due day, late after it."""
    if resolved_on < due:
        return Timeliness.early
    if resolved_on == due:
        return Timeliness.on_time
    return Timeliness.late


class CalendarOverrides(BaseModel):
    """An office's own changes to the national calendar (a YAML file, see `load_overrides`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    extra_days_off: list[dt.date] = []
    extra_working_days: list[dt.date] = []


def load_overrides(path: Path) -> CalendarOverrides:
    """Read `extra_days_off` / `extra_working_days` (lists of YYYY-MM-DD) from a YAML file."""
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise ConfigurationError(f"{path}: cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"{path}: not valid YAML: {exc}", hint="fix the syntax") from None
    try:
        return CalendarOverrides.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigurationError(
            f"{path}: invalid calendar overrides: {problems}",
            hint="use lists of dates like 2026-12-31 under extra_days_off / extra_working_days",
        ) from None


@dataclass(frozen=True)
class WorkingCalendar:
    """The office's working days: national calendar of Vietnam plus the office's overrides."""

    extra_days_off: frozenset[dt.date] = frozenset()
    extra_working_days: frozenset[dt.date] = frozenset()

    def __post_init__(self) -> None:
        both = self.extra_days_off & self.extra_working_days
        if both:
            days = ", ".join(d.isoformat() for d in sorted(both))
            raise ConfigurationError(
                f"calendar overrides list {days} both as a day off and as a working day",
                hint="keep each date in one list only",
            )

    @classmethod
    def from_overrides(cls, overrides: CalendarOverrides | None) -> WorkingCalendar:
        if overrides is None:
            return cls()
        return cls(frozenset(overrides.extra_days_off), frozenset(overrides.extra_working_days))

    def _national(self, year: int) -> holidays.HolidayBase:
        return _national_calendar(year)

    def holiday_name(self, day: dt.date) -> str | None:
        """The national holiday's name on `day`, or None."""
        name = self._national(day.year).get(day)
        return None if name is None else str(name)

    def is_working_day(self, day: dt.date) -> bool:
        if day in self.extra_days_off:
            return False
        if day in self.extra_working_days:
            return True
        return bool(self._national(day.year).is_working_day(day))

    def next_working_day(self, day: dt.date) -> dt.date:
        """The first working day strictly after `day`."""
        candidate = day
        for _ in range(_MAX_SEARCH_DAYS):
            candidate += dt.timedelta(days=1)
            if self.is_working_day(candidate):
                return candidate
        raise ConfigurationError(
            f"no working day within ten years after {day.isoformat()}",
            hint="check the calendar overrides (extra_days_off)",
        )

    def add_working_days(self, day: dt.date, count: int) -> dt.date:
        """The `count`-th working day after `day` (`day` itself never counts)."""
        if count < 1:
            raise BadArgumentError(f"a time limit counts at least one working day, got {count}")
        current = day
        for _ in range(count):
            current = self.next_working_day(current)
        return current

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days in (start, end]: how many days of a time limit have elapsed at `end`."""
        days = 0
        current = start
        while current < end:
            current += dt.timedelta(days=1)
            days += self.is_working_day(current)
        return days

    def due_date(
        self,
        received_at: dt.datetime,
        *,
        working_days: int,
        cutoff: dt.time | None = DEFAULT_CUTOFF,
    ) -> dt.date:
        """The day the result is due for a dossier received at `received_at`.

        `working_days=0` is a same-day procedure: due the day of receipt when that is a working
        day and the dossier came in before `cutoff`, else the next working day. Otherwise the
        limit counts from the working day after receipt.
        """
        local = to_local(received_at)
        day = local.date()
        if working_days < 0:
            raise BadArgumentError(f"a time limit cannot be negative, got {working_days}")
        if working_days == 0:
            in_time = cutoff is None or local.timetz().replace(tzinfo=None) < cutoff
            if self.is_working_day(day) and in_time:
                return day
            return self.next_working_day(day)
        return self.add_working_days(day, working_days)

    def days_off(self, start: dt.date, end: dt.date) -> Iterable[tuple[dt.date, str]]:
        """Non-working weekdays and holidays in [start, end] with a reason, for display."""
        current = start
        while current <= end:
            if not self.is_working_day(current):
                reason = (
                    "extra day off"
                    if current in self.extra_days_off
                    else self.holiday_name(current) or "weekend"
                )
                yield current, reason
            current += dt.timedelta(days=1)


_NATIONAL_CACHE: dict[int, holidays.HolidayBase] = {}


def _national_calendar(year: int) -> holidays.HolidayBase:
    # One instance per year: the holidays package computes the lunar dates on population.
    cached = _NATIONAL_CACHE.get(year)
    if cached is None:
        cached = holidays.country_holidays("VN", years=year)
        _NATIONAL_CACHE[year] = cached
    return cached
