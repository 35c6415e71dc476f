"""Every page a clerk, leader, archivist or admin reads is Vietnamese (issue 16, item 1).

The test walks the site as each role: it starts from every page route of the app (path
parameters filled with the world's dossier codes) and follows every same-site link it finds,
reading each HTML page's visible text. A page fails on a raw key (journal action codes such as
`dossier.fields_corrected`, actors such as `user:lan`, procedure, component or document-kind
keys such as `ban-chinh` or `unknown`), a `\\u` escape, an English word from `ENGLISH`, or a
server path (the office's home folder, where scans were read from, a traceback).

The data is clean: the shared world's dossiers after a correction, an acceptance, a refusal and
a withdrawal made through the API, so the journal holds entries of several kinds.
"""

from __future__ import annotations

import html
import re
from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from web_helpers import ROLES, WebWorld, build_world, csrf_header, sign_in, take_in

from storage.s3 import S3Config

# English words that have no business on a page a Vietnamese officer reads (all lower case;
# matched as whole words, case-insensitively). Technical names shown on purpose (PDF, CCCD,
# SHA-256, PAdES, B-LTA) are not words of this list.
ENGLISH = (
    "the", "not", "is", "has", "of", "with", "and", "for", "error", "failed", "missing",
    "dossier", "invalid", "required", "already", "unknown", "queued", "running", "succeeded",
    "none", "true", "false", "null", "draft", "signed", "waiting", "found", "please", "field",
    "fields", "result", "status", "received", "processing", "returned", "refused", "withdrawn",
)  # fmt: skip
ACTION_CODE = re.compile(r"\b(?:auth|dossier|result|archive|signing|token|intake|job|account)"
                         r"\.[a-z_]+\b")  # fmt: skip
ACTOR_CODE = re.compile(r"\b(?:user|cli|eoffice|token):[A-Za-z0-9_.-]+")
ESCAPE = re.compile(r"\\u[0-9a-fA-F]{4}")
SKIP_SUFFIXES = (".pdf", ".png", ".zip", ".json", ".svg", ".css", ".js", ".ico")
NOT_PAGES = ("/api/", "/logout", "/healthz", "/docs", "/redoc", "/openapi")
MAX_PAGES = 200  # per role: far more than the site has; a loop would stop here


@pytest.fixture(scope="module")
def lworld(tmp_path_factory: pytest.TempPathFactory, s3_config: S3Config) -> WebWorld:
    """The shared world after a correction, an acceptance, a refusal and a withdrawal."""
    world = build_world(tmp_path_factory.mktemp("web-language") / "home", s3_config)
    svc = world.services
    clerk = sign_in(world.app, "clerk")
    headers = csrf_header(clerk)
    code = world.complete.code
    r = clerk.patch(f"/api/v1/dossiers/{code}/documents/2/fields",
                    json={"fields": {"ho_ten": "Nguyễn Văn An"}}, headers=headers)  # fmt: skip
    assert r.status_code == 200, r.text
    assert clerk.post(f"/api/v1/dossiers/{code}/accept", headers=headers).status_code == 200
    refused = take_in(svc, name="Phạm Thị Dung", salt="r").code
    r = clerk.post(
        f"/api/v1/dossiers/{refused}/refusal",
        json={"reasons": ["Hồ sơ không thuộc thẩm quyền của xã"]},
        headers=headers,
    )
    assert r.status_code == 200, r.text  # fmt: skip
    withdrawn = take_in(svc, name="Hoàng Văn Em", salt="w").code
    r = clerk.post(f"/api/v1/dossiers/{withdrawn}/withdrawal",
                   json={"requested_by": "Hoàng Văn Em"}, headers=headers)  # fmt: skip
    assert r.status_code == 200, r.text
    # a certified copy whose paper the classifier could not name: "Giấy tờ khác", never `unknown`
    take_in(svc, procedure="chung-thuc-ban-sao", kinds=("unknown", "cccd"), name="Đỗ Văn Phúc",
            salt="u")  # fmt: skip
    clerk.close()
    return world


def _keys(world: WebWorld) -> set[str]:
    """The raw keys a page must never show: procedures, their components, document kinds."""
    catalogue = world.services.catalogue
    keys = {"unknown", "giay-to-khac", "to-khai-xac-nhan-hon-nhan", "to-khai-khai-sinh"}
    for procedure in catalogue:
        keys.add(procedure.key)
        keys.update(component.kind for component in procedure.components)
    return {k for k in keys if "-" in k or k == "unknown"}


def _routes(routes: Iterable[Any]) -> Iterator[Any]:
    """The routes of the app, those of its included routers too (pages have no prefix)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from _routes(included.routes)
        else:
            yield route


def _seeds(world: WebWorld) -> list[str]:
    """Every page route, with its path parameters filled from the world."""
    codes = [world.complete.code, world.incomplete.code, world.signed.code]
    seeds = []
    for route in _routes(world.app.routes):
        if not isinstance(route, APIRoute) or route.path.startswith(NOT_PAGES):
            continue
        if "GET" not in route.methods or route.path.endswith(SKIP_SUFFIXES):
            continue
        if "{" not in route.path:
            seeds.append(route.path)
        elif route.path == "/dossiers/{code}":
            seeds += [f"/dossiers/{c}" for c in codes]
        elif route.path == "/signing/{code}":
            seeds += [f"/signing/{c}" for c in codes]
    return seeds


class _Text:
    """The visible text of a page: no tags, scripts or styles; entities decoded."""

    _SCRIPT = re.compile(r"<(script|style)\b.*?</\1>", re.S | re.I)
    _TAG = re.compile(r"<[^>]+>")
    _ATTR = re.compile(r'\b(?:title|placeholder|alt|aria-label)="([^"]*)"')

    @classmethod
    def of(cls, page: str) -> str:
        without = cls._SCRIPT.sub(" ", page)
        attrs = " ".join(cls._ATTR.findall(without))
        return html.unescape(cls._TAG.sub(" ", without) + " " + attrs)


def _links(page: str) -> Iterator[str]:
    for href in re.findall(r'href="(/[^"#?]*)(?:\?[^"#]*)?(?:#[^"]*)?"', page):
        if href.startswith(("/static", "/api/", "/logout")) or href.endswith(SKIP_SUFFIXES):
            continue
        yield html.unescape(href)


def _problems(text: str, raw: str, keys: set[str], home: str) -> list[str]:
    found = []
    found += [f"action code {m}" for m in ACTION_CODE.findall(text)]
    found += [f"actor code {m}" for m in ACTOR_CODE.findall(text)]
    found += [f"escape {m}" for m in ESCAPE.findall(raw)]
    words = {w.lower() for w in re.findall(r"[A-Za-z]+", text)}
    found += [f"English “{w}”" for w in ENGLISH if w in words]
    for key in keys:
        if re.search(rf"(?<![\w-]){re.escape(key)}(?![\w-])", text):
            found.append(f"raw key {key}")
    for path in (home, "/scans/", "/tmp/", "Traceback"):
        if path in text:
            found.append(f"server path or traceback {path}")
    return found


def _walk(client: TestClient, seeds: list[str], keys: set[str], home: str) -> dict[str, list[str]]:
    seen: set[str] = set()
    queue = deque(seeds)
    failures: dict[str, list[str]] = {}
    while queue and len(seen) < MAX_PAGES:
        path = queue.popleft()
        if path in seen:
            continue
        seen.add(path)
        response = client.get(path)
        if response.status_code != 200 or "text/html" not in response.headers["content-type"]:
            continue
        problems = _problems(_Text.of(response.text), response.text, keys, home)
        if problems:
            failures[path] = sorted(set(problems))
        queue.extend(link for link in _links(response.text) if link not in seen)
    assert len(seen) > 5, f"the walk found almost nothing: {sorted(seen)}"
    return failures


@pytest.mark.parametrize("role", ROLES)
def test_every_page_reads_vietnamese(lworld: WebWorld, role: str) -> None:
    client = sign_in(lworld.app, role)
    try:
        failures = _walk(client, _seeds(lworld), _keys(lworld), str(lworld.home))
    finally:
        client.close()
    assert failures == {}, "\n".join(f"{p}: {', '.join(f)}" for p, f in failures.items())


def test_error_messages_read_vietnamese(lworld: WebWorld) -> None:
    """Refused forms: the message shown next (a flash or an error page) is Vietnamese too."""
    clerk, leader = sign_in(lworld.app, "clerk"), sign_in(lworld.app, "leader")
    keys, home = _keys(lworld), str(lworld.home)
    code = lworld.complete.code  # accepted: processing, its result not drafted
    cases = [  # (who, form, fields, what the officer must read)
        (clerk, f"/dossiers/{code}/result", {}, "Tình trạng hôn nhân"),
        (clerk, f"/dossiers/{code}/result", {"field.no_such": "x"}, "không có trường"),
        (clerk, "/dossiers/new", {"procedure": "xac-nhan-tinh-trang-hon-nhan"}, "chưa chọn tệp"),
        (leader, f"/signing/{code}/sign", {"draft_sha256": "0" * 64}, "không có dự thảo"),
        (leader, "/signing/sign", {}, "Hãy chọn ít nhất một kết quả"),
    ]
    failures = {}
    try:
        for client, path, data, expected in cases:
            form = {**data, "csrftoken": client.cookies["csrftoken"]}
            response = client.post(path, data=form)  # follows the redirect to the next page
            assert response.status_code < 500, (path, response.text[:300])
            text = _Text.of(response.text)
            assert expected in text, (path, re.findall(r'class="flash[^<]*', response.text))
            problems = _problems(text, response.text, keys, home)
            if problems:
                failures[path] = problems
    finally:
        clerk.close()
        leader.close()
    assert failures == {}, "\n".join(f"{p}: {', '.join(f)}" for p, f in failures.items())
