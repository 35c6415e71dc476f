"""Every operation of the REST API, taken from the app's own OpenAPI spec, called with data
schemathesis generates: no response may be a 5xx, and every documented response must match its
schema.

The app is the real one, in process (ASGI), on a temporary MOTCUA_HOME with the archive on the
session's embedded S3 server; it holds dossiers and an archived record, and generated path
parameters are now and then swapped for their real codes, ids and file names so that the calls
reach past the 404s. Each operation runs as each caller: an admin's session (with its CSRF
header), a clerk's and a leader's session, and the e-office system's API token. Operations added
to the API later are covered as they appear in the spec; long jobs must answer 202 at once (the
job pool is cancelled when the module ends, so a queue of generated jobs cannot hold up the run).
"""

from __future__ import annotations

import copy
import os
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from reportlab.pdfgen import canvas
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance
from web_helpers import WebWorld, build_world, make_settings, s3_settings, services, sign_in

from motcua.web.app import SESSION_COOKIE, create_app
from storage.record import RecordInfo
from storage.s3 import S3Config

CHECKS = [not_a_server_error, response_schema_conformance]
# Up to this many generated cases per operation and caller (plus schemathesis's coverage cases),
# the same ones every run; with ~30 operations and four callers the module takes about a minute.
# A deeper, random search: MOTCUA_TEST_FUZZ_EXAMPLES=300 (and this file alone to pytest).
DEEP_EXAMPLES = os.environ.get("MOTCUA_TEST_FUZZ_EXAMPLES")
MAX_EXAMPLES = int(DEEP_EXAMPLES) if DEEP_EXAMPLES else 30


@dataclass(frozen=True)
class Caller:
    name: str
    headers: dict[str, str] = field(default_factory=dict)
    cookies: dict[str, str] = field(default_factory=dict)

    def call(self, case: Any, app: FastAPI) -> None:
        if self.cookies and case.headers:
            # schemathesis fills the spec's bearer scheme with junk; under /api/ any Authorization
            # header is taken as the credential and the session ignored (a 401 every time).
            case.headers.pop("Authorization", None)
        case.call_and_validate(app=app, headers=self.headers, cookies=self.cookies, checks=CHECKS)


@pytest.fixture(scope="module")
def fuzz_world(tmp_path_factory: pytest.TempPathFactory, s3_config: S3Config) -> Iterator[WebWorld]:
    world = build_world(tmp_path_factory.mktemp("schemathesis") / "home", s3_config)
    yield world
    # Jobs queued by generated requests are dropped, not run to the end at interpreter exit.
    world.services.jobs.shutdown(wait=False, cancel_queued=True)


@pytest.fixture(scope="module")
def known_values(
    fuzz_world: WebWorld, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, list[str]]:
    """Real values of path parameters, by parameter name."""
    folder = tmp_path_factory.mktemp("record")
    declaration = folder / "tờ khai.txt"
    declaration.write_text("Họ và tên: Phạm Thị Dung\nSố định danh: 001203012345\n", "utf-8")
    scan = folder / "ban-sao.pdf"
    pdf = canvas.Canvas(str(scan))
    pdf.drawString(72, 760, "BAN SAO GIAY KHAI SINH")
    pdf.save()
    world = fuzz_world
    put = world.services.archive.put(
        [declaration, scan],
        RecordInfo(dossier_code=world.signed.code, title="Đăng ký khai sinh cho Phạm Thị Dung",
                   id_numbers=("001203012345",), text=declaration.read_text("utf-8")),
    )  # fmt: skip
    codes = [world.complete.code, world.incomplete.code, world.signed.code]
    KNOWN.clear()
    KNOWN.update({"record_id": [put.record_id], "name": [declaration.name, scan.name],
                  "code": codes, "dossier_code": codes})  # fmt: skip
    return KNOWN


def _signed_in(world: WebWorld, role: str) -> Caller:
    client = sign_in(world.app, role)
    session, csrf = client.cookies.get(SESSION_COOKIE), client.cookies.get("csrftoken")
    assert session and csrf
    client.close()
    return Caller(role, headers={"x-csrftoken": csrf},
                  cookies={SESSION_COOKIE: session, "csrftoken": csrf})  # fmt: skip


@pytest.fixture(scope="module")
def app(fuzz_world: WebWorld, known_values: dict[str, list[str]]) -> FastAPI:
    """The module's real app, with its dossiers and archived record in place."""
    return fuzz_world.app


@pytest.fixture(scope="module")
def admin_caller(fuzz_world: WebWorld) -> Caller:
    return _signed_in(fuzz_world, "admin")


@pytest.fixture(scope="module")
def clerk_caller(fuzz_world: WebWorld) -> Caller:
    return _signed_in(fuzz_world, "clerk")


@pytest.fixture(scope="module")
def leader_caller(fuzz_world: WebWorld) -> Caller:
    return _signed_in(fuzz_world, "leader")


@pytest.fixture(scope="module")
def token_caller(fuzz_world: WebWorld) -> Caller:
    return Caller("eoffice", headers={"Authorization": f"Bearer {fuzz_world.token}"})


@pytest.fixture(scope="module")
def intake_token_caller(fuzz_world: WebWorld) -> Caller:
    _, secret = services(fuzz_world.app).accounts.add_token("fuzz-intake", ["intake"])
    return Caller("eoffice", headers={"Authorization": f"Bearer {secret}"})


@pytest.fixture(scope="module")
def all_scopes_token_caller(fuzz_world: WebWorld) -> Caller:
    _, secret = services(fuzz_world.app).accounts.add_token(
        "fuzz-all", ["intake", "read", "results"], expires_days=1
    )
    return Caller("eoffice", headers={"Authorization": f"Bearer {secret}"})


def _spec() -> dict[str, Any]:
    """The app's OpenAPI spec, read at collection time from an app on a throw-away home.

    The spec does not depend on data, so the operations can be listed before any fixture runs
    (schemathesis's fixture-based lazy schema does not work with pytest 9); the calls then go to
    the module's real app (`app=` on each call).
    """
    with tempfile.TemporaryDirectory(prefix="motcua-spec-") as home:
        app = create_app(make_settings(Path(home), **s3_settings(None)))
        spec = copy.deepcopy(app.openapi())
        services(app).engine.dispose()
    return spec


schema = schemathesis.openapi.from_dict(_spec())
KNOWN: dict[str, list[str]] = {}  # real path parameter values, filled by `known_values`


@schema.hook
def flatmap_path_parameters(
    context: Any, path_parameters: Mapping[str, Any] | None
) -> st.SearchStrategy[Any]:
    """Now and then a real code, record id or file name instead of the generated value."""
    if not path_parameters:
        return st.just(path_parameters)
    return st.deferred(  # KNOWN is filled when the first case is drawn, not at collection
        lambda: st.fixed_dictionaries(
            {k: st.sampled_from([v, *KNOWN.get(k, [])]) for k, v in path_parameters.items()}
        )
    )


fuzz_settings = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,  # no .hypothesis/ folder in the working tree
    derandomize=not DEEP_EXAMPLES,  # the same cases on every run: a failure is never a fluke
    suppress_health_check=list(HealthCheck),
)


# One test function per caller; schemathesis makes each operation an item of its own.
@schema.parametrize()
@fuzz_settings
def test_api_as_admin_session(case: Any, admin_caller: Caller, app: FastAPI) -> None:
    admin_caller.call(case, app)


@schema.parametrize()
@fuzz_settings
def test_api_as_clerk_session(case: Any, clerk_caller: Caller, app: FastAPI) -> None:
    clerk_caller.call(case, app)


@schema.parametrize()
@fuzz_settings
def test_api_as_leader_session(case: Any, leader_caller: Caller, app: FastAPI) -> None:
    leader_caller.call(case, app)  # the only role that signs results


@schema.parametrize()
@fuzz_settings
def test_api_as_eoffice_token(case: Any, token_caller: Caller, app: FastAPI) -> None:
    token_caller.call(case, app)


@schema.parametrize()
@fuzz_settings
def test_api_as_intake_scoped_token(case: Any, intake_token_caller: Caller, app: FastAPI) -> None:
    intake_token_caller.call(case, app)


@schema.parametrize()
@fuzz_settings
def test_api_as_token_of_every_scope(
    case: Any, all_scopes_token_caller: Caller, app: FastAPI
) -> None:
    all_scopes_token_caller.call(case, app)


def test_spec_is_the_apps(app: FastAPI) -> None:
    """The spec fuzzed here is the one the app serves; the export route is in it, as a zip."""
    assert app.openapi()["paths"].keys() == schema.raw_schema["paths"].keys()
    paths = schema.raw_schema["paths"]
    export = paths["/api/v1/archive/records/{record_id}/export.zip"]["get"]
    assert "application/zip" in export["responses"]["200"]["content"]


@pytest.mark.parametrize(
    ("caller", "url", "status"),
    [
        # The first and last days a date can hold overflowed into a 500 (dossier filters).
        ("token", "/api/v1/dossiers?received_from=0001-01-01", 200),
        ("token", "/api/v1/dossiers?received_to=9999-12-31", 200),
        # The list's cursor and updated_since (issue 17): a damaged cursor is the client's error,
        # an instant at the edge of what a datetime holds is no overflow.
        ("token", "/api/v1/dossiers?cursor=0", 400),
        ("token", "/api/v1/dossiers?updated_since=0001-01-01T00:00:00%2B01:00", 200),
        ("token", "/api/v1/dossiers?updated_since=9999-12-31T23:59:59-01:00", 200),
        ("token", "/api/v1/dossiers?q=0%00&sort=due", 200),
        # A report over centuries: megabytes of monthly rows, or an overflow at the edges.
        ("token", "/api/v1/reports/on-time?date_from=0001-01-01", 400),
        ("token", "/api/v1/reports/on-time?date_to=9999-12-31", 400),
        # A NUL in the words cut SQLite's full-text query short (a 500).
        ("token", "/api/v1/archive/search?q=0%00", 200),
        # An entry number past the database's integers (a 500).
        ("admin", "/api/v1/audit?before=9223372036854775808", 422),
    ],
)
def test_cases_fuzzing_found(
    request: pytest.FixtureRequest, app: FastAPI, caller: str, url: str, status: int
) -> None:
    """Kept as plain requests: a random search found them, the fixed examples above may not."""
    who: Caller = request.getfixturevalue(f"{caller}_caller")
    with TestClient(app, raise_server_exceptions=False, cookies=who.cookies) as client:
        assert client.get(url, headers=who.headers).status_code == status
