"""The browser-test harness: the real server, real accounts, the system's Chromium.

- `served` (session): `motcua serve` as a subprocess on a free port, on a temporary MOTCUA_HOME,
  its archive on the session's embedded S3 server (`s3_config`, fresh buckets), and one user per
  role created with `motcua users add` (user name = role name, password
  `browser_helpers.PASSWORD`). It signs results with the server-side keys of `pki` (a TEST PKI,
  its TSA/OCSP/CRLs on 127.0.0.1 for the session; `browser_helpers.signing_env`).
  `served.cli(...)` runs any other `motcua` command against the same home and S3 (to seed data).
  A test that needs a server with other settings starts its own: `start_server(folder, s3_config,
  unused_port(), {"MOTCUA_...": ...})`, then `.stop()`.
- `browser` (session): Playwright's sync API launching Debian's `chromium` package (headless).
  Nothing is downloaded: no `playwright install`. Without chromium the tests fail, saying so.
- `page_as(role)`: a fresh browser context and page of this test, signed in through the real
  sign-in form as `role`; relative URLs resolve against the server (`page.goto("/archive")`).
- `shot(page, step)`: a full-page screenshot at `build/screenshots/<test>-<step>.png`, lazily
  loaded images loaded first (a full-page shot would leave those below the fold blank).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from browser_helpers import (
    NO_CHROMIUM,
    SCREENSHOTS,
    Served,
    load_images,
    sign_in,
    signing_env,
    start_server,
)
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from signing import TestPki, TrustServices, testpki
from storage.s3 import S3Config


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestPki]:
    """A TEST PKI (about 2 s to make) with its trust services running for the session."""
    made = testpki.init(tmp_path_factory.mktemp("browser-pki") / "test-pki")
    with TrustServices(made):
        yield made


@pytest.fixture(scope="session")
def served(
    tmp_path_factory: pytest.TempPathFactory,
    s3_config: S3Config,
    unused_port: Callable[[], int],
    pki: TestPki,
) -> Iterator[Served]:
    """`motcua serve` on a free port, with a user of every role and the server-side keys; the
    receipts' QR codes lead to this server's public status page."""
    port = unused_port()
    env = {**signing_env(pki), "MOTCUA_PUBLIC_STATUS_URL": f"http://127.0.0.1:{port}/"}
    server = start_server(tmp_path_factory.mktemp("browser"), s3_config, port, env)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = shutil.which("chromium")
    if path is None:
        pytest.fail(NO_CHROMIUM, pytrace=False)
    return path


@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator[Browser]:
    """Headless system Chromium under Playwright (no sandbox: the tests may run as root).

    Per module, not per session: Playwright's sync API keeps an asyncio loop running in this
    thread while it is open, and every later `asyncio.run()` (pyHanko) or sync Prefect flow in
    the test process would fail until it stops."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def page_as(browser: Browser, served: Served) -> Iterator[Callable[[str], Page]]:
    """`page_as(role)`: a new page of this test, signed in as `role` (one context each)."""
    contexts: list[BrowserContext] = []

    def open_page(role: str) -> Page:
        context = browser.new_context(
            base_url=served.url,
            accept_downloads=True,
            locale="vi-VN",
            viewport={"width": 1280, "height": 900},
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        sign_in(page, role)
        return page

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def shot(request: pytest.FixtureRequest) -> Callable[[Page, str], Path]:
    """`shot(page, step)` saves build/screenshots/<test>-<step>.png and returns its path."""
    test = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name).strip("_")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page: Page, step: str) -> Path:
        path = SCREENSHOTS / f"{test}-{step}.png"
        load_images(page)
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
