"""The on-time report (báo cáo tình hình giải quyết hồ sơ) as a page and as JSON."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from dossiers.calendar import VN_TZ
from dossiers.report import Figures766, OnTimeReport, figures_766, on_time_report
from dossiers.satisfaction import SatisfactionReport, summarise
from motcua.errors import BadArgumentError
from motcua.web.auth import Principal, require, services_of
from motcua.web.pages import render
from motcua.web.permissions import Permission
from motcua.web.routes.dossiers import _parse_day

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1/reports", tags=["báo cáo"])

ReportReader = Annotated[Principal, Depends(require(Permission.reports_read))]


# The report has a row per month: a period of centuries is a typo that would cost megabytes, and
# the months at the edges of the calendar overflow `date`.
MAX_PERIOD_YEARS = 10
_EARLIEST, _LATEST = dt.date(1900, 1, 1), dt.date(9000, 12, 31)


def _report(request: Request, date_from: dt.date | None, date_to: dt.date | None) -> OnTimeReport:
    end = date_to or dt.datetime.now(VN_TZ).date()
    start = date_from or end.replace(day=1)
    if start < _EARLIEST or end > _LATEST or end.year - start.year > MAX_PERIOD_YEARS:
        raise BadArgumentError(
            f"kỳ báo cáo {start} – {end} không hợp lý (report period out of range)",
            hint=f"at most {MAX_PERIOD_YEARS} years, from {_EARLIEST.year} on",
        )
    register = services_of(request).register
    return on_time_report(register.list(received_to=end), date_from=start, date_to=end)


@api.get(
    "/on-time",
    summary="On-time statistics for a period (default: this month), with the citizens' "
    "satisfaction given in it",
)
def api_on_time(
    request: Request,
    principal: ReportReader,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> dict[str, Any]:
    result = _report(request, date_from, date_to)
    satisfaction = _satisfaction(request, result)
    out = result.to_json()
    out["satisfaction"] = satisfaction.to_json()
    out["decision_766"] = _figures_766(request, result, satisfaction).to_json()
    return out


def _figures_766(
    request: Request, result: OnTimeReport, satisfaction: SatisfactionReport
) -> Figures766:
    register = services_of(request).register
    return figures_766(register.list(received_to=result.total.date_to), result,
                       satisfaction_average=satisfaction.total.average)  # fmt: skip


def _satisfaction(request: Request, result: OnTimeReport) -> SatisfactionReport:
    ratings = services_of(request).core.ratings
    return summarise(ratings.given_between(result.total.date_from, result.total.date_to))


@pages.get("/reports/on-time")
def on_time_page(
    request: Request,
    principal: ReportReader,
    date_from: str | None = None,
    date_to: str | None = None,
) -> Response:
    services = services_of(request)
    result = _report(request, _parse_day(date_from), _parse_day(date_to))
    return render(
        request,
        "report.html",
        {
            "r": result,
            "sat": (sat := _satisfaction(request, result)),
            "f766": _figures_766(request, result, sat),
            "names": {p.key: p.name for p in services.catalogue},
            "date_from": result.total.date_from.isoformat(),
            "date_to": result.total.date_to.isoformat(),
        },
    )
