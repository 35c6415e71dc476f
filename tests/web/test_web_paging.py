"""`GET /api/v1/dossiers`: cursor paging with the total and the next page in headers, sorts,
`updated_since`, and the old `limit`/`offset` as before, on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from web_helpers import WebWorld, build_world, services, sign_in, take_in

from dossiers.calendar import VN_TZ


@pytest.fixture(params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> WebWorld:
    overrides: dict[str, object] = {}
    if request.param == "postgresql":
        new_database: Callable[[str], str] = request.getfixturevalue("new_postgres_database")
        overrides["catalog_url"] = "postgresql+psycopg://" + new_database("paging")
    world = build_world(tmp_path / "home", **overrides)
    svc = services(world.app)
    for i in range(4):  # 7 dossiers in all, received a day apart after the world's three
        take_in(svc, name=f"Công dân {i}", salt=str(i),
                received_at=dt.datetime(2026, 5, 4 + i, 8, tzinfo=VN_TZ))  # fmt: skip
    return world


def test_cursor_pages_follow_the_link_header_to_the_end(world: WebWorld) -> None:
    token = {"Authorization": f"Bearer {world.token}"}
    client = sign_in(world.app, "clerk")
    everything = client.get("/api/v1/dossiers").json()
    assert len(everything) == 7
    url: str | None = "/api/v1/dossiers?limit=3"
    seen: list[str] = []
    while url:
        answer = client.get(url, headers=token)
        assert answer.status_code == 200
        assert answer.headers["X-Total-Count"] == "7"
        seen += [d["code"] for d in answer.json()]
        link = answer.headers.get("Link")
        if link is None:
            assert "X-Next-Cursor" not in answer.headers
            url = None
        else:
            assert link.endswith('>; rel="next"')
            assert answer.headers["X-Next-Cursor"] in link
            url = link[1 : link.index(">")]
    assert seen == [d["code"] for d in everything]  # newest first, each once
    # limit/offset keep working as before
    offset = client.get("/api/v1/dossiers?limit=2&offset=5").json()
    assert [d["code"] for d in offset] == seen[5:7]


def test_sort_by_due_date_and_filters_in_sql(world: WebWorld) -> None:
    client = sign_in(world.app, "clerk")
    by_due = client.get("/api/v1/dossiers?sort=due&limit=50").json()
    dues = [d["due_date"] for d in by_due]
    dated = [d for d in dues if d is not None]
    assert dated == sorted(dated) and dues[len(dated) :] == [None]  # the incomplete one last
    waiting = client.get("/api/v1/dossiers?status=supplement_requested")
    assert waiting.headers["X-Total-Count"] == "1"
    assert [d["code"] for d in waiting.json()] == [world.incomplete.code]
    named = client.get("/api/v1/dossiers", params={"q": "tran thi binh"}).json()
    assert [d["code"] for d in named] == [world.incomplete.code]
    received = client.get("/api/v1/dossiers?received_from=2026-05-05&received_to=2026-05-06")
    assert received.headers["X-Total-Count"] == "2"


def test_updated_since_returns_what_changed(world: WebWorld) -> None:
    client = sign_in(world.app, "clerk")
    since = dt.datetime.now(dt.UTC).isoformat()
    nothing = client.get("/api/v1/dossiers", params={"updated_since": since})
    assert nothing.status_code == 200 and nothing.json() == []
    services(world.app).register.start_processing(world.complete.code)
    changed = client.get("/api/v1/dossiers", params={"updated_since": since, "sort": "updated"})
    assert [d["code"] for d in changed.json()] == [world.complete.code]
    assert changed.headers["X-Total-Count"] == "1"


def test_a_damaged_cursor_is_a_400_in_vietnamese(world: WebWorld) -> None:
    client = sign_in(world.app, "clerk")
    first = client.get("/api/v1/dossiers?limit=1")
    cursor = first.headers["X-Next-Cursor"]
    wrong_sort = client.get("/api/v1/dossiers", params={"cursor": cursor, "sort": "due"})
    assert wrong_sort.status_code == 400
    assert "cursor không hợp lệ" in wrong_sort.text
    assert client.get("/api/v1/dossiers?sort=name").status_code == 422
