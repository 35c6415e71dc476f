"""Saved views of the dossier list (issue 16, item 6): "Đến hạn hôm nay", "Quá hạn",
"Chờ bổ sung", "Chờ ký", "Chờ trả", and sorting by due date."""

from __future__ import annotations

import datetime as dt
import re

from web_helpers import WebWorld, sign_in, take_in

from dossiers.calendar import VN_TZ
from motcua.web.saved_views import BY_KEY, VIEWS


def _codes(page: str) -> list[str]:
    return re.findall(r'<td><a href="/dossiers/([^"]+)">', page)


def test_each_view_lists_what_it_names(world: WebWorld) -> None:
    clerk = sign_in(world.app, "clerk")
    page = clerk.get("/dossiers").text
    for view in VIEWS:  # every view is one click from the list, in Vietnamese
        assert f'data-testid="view-{view.key}"' in page and view.label in page
    late, waiting, signed = world.complete.code, world.incomplete.code, world.signed.code
    assert world.complete.due_date and world.complete.due_date < dt.datetime.now(VN_TZ).date()

    assert _codes(clerk.get("/dossiers?view=qua-han").text) == [late]
    assert _codes(clerk.get("/dossiers?view=cho-bo-sung").text) == [waiting]
    assert _codes(clerk.get("/dossiers?view=cho-tra").text) == [signed]
    assert _codes(clerk.get("/dossiers?view=cho-ky").text) == []  # no draft waits
    chosen = clerk.get("/dossiers?view=cho-tra").text
    assert 'data-testid="view-cho-tra" aria-current="page"' in chosen


def test_due_today_is_the_open_dossiers_due_on_the_day(world: WebWorld) -> None:
    due_today = BY_KEY["den-han-hom-nay"]
    dossier = world.complete
    assert dossier.due_date is not None
    never = lambda d: False  # noqa: E731 - no draft matters here
    assert due_today.test(dossier, dossier.due_date, never)
    assert not due_today.test(dossier, dossier.due_date + dt.timedelta(days=1), never)
    assert not due_today.test(world.signed, world.signed.due_date or dossier.due_date, never)


def test_sorting_by_due_date_puts_the_nearest_first(world: WebWorld) -> None:
    svc = world.services
    later = take_in(svc, name="Vũ Thị Giang", salt="later",
                    received_at=dt.datetime(2026, 5, 20, 9, 0, tzinfo=VN_TZ))  # fmt: skip
    clerk = sign_in(world.app, "clerk")
    newest_first = _codes(clerk.get("/dossiers").text)
    assert newest_first[0] == later.code  # received last: first by default
    by_due = _codes(clerk.get("/dossiers?sort=han-tra").text)
    dues = {d.code: d.due_date for d in svc.register.list()}
    dated = [dues[c] for c in by_due if dues[c] is not None]
    assert dated == sorted(dated) and len(dated) >= 3
    assert by_due.index(later.code) > by_due.index(world.complete.code)
    assert all(dues[c] is None for c in by_due[len(dated) :])  # no due date: last
