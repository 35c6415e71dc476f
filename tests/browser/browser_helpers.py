"""What the browser tests share besides fixtures: the served app, its accounts, signing in.

(A module of its own, not conftest.py: `from conftest import ...` would find whichever
conftest pytest imported last.)
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page

from signing import TestPki
from storage.s3 import S3Config
from tests.s3_identities import setup_env

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "build" / "screenshots"
PASSWORD = "mat-khau-trinh-duyet-2026"
ROLES = ("clerk", "leader", "archivist", "admin")
FULL_NAMES = {"clerk": "Nguyễn Thị Lan", "leader": "Trần Văn Minh",
              "archivist": "Lê Thị Thu", "admin": "Phạm Quốc Huy"}  # fmt: skip
START_TIMEOUT = 60.0
NO_CHROMIUM = (
    "the browser tests need the system Chromium (`chromium` on PATH), and it is missing: "
    "install Debian's package with `apt-get install -y chromium` (scripts/bootstrap does it)"
)


@dataclass
class Served:
    """A running `motcua serve` and the environment its commands share."""

    url: str
    home: Path
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] = field(repr=False)

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run `motcua ARGS` on the server's home and S3; fail the test on a non-zero exit."""
        done = subprocess.run([sys.executable, "-m", "motcua", *args], env=self.env,
                              capture_output=True, text=True, timeout=180)  # fmt: skip
        if check and done.returncode != 0:
            pytest.fail(f"motcua {' '.join(args)} exited {done.returncode}:\n{done.stderr}")
        return done

    def server_log(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=15)


def start_server(
    base: Path, s3: S3Config, port: int, extra_env: Mapping[str, str] | None = None
) -> Served:
    """`motcua serve` on 127.0.0.1:`port`, home `base/home`, a user of every role (created with
    `motcua users add` once the server is up: both create the tables at first start)."""
    home = base / "home"
    home.mkdir(parents=True)
    env = {**server_env(home, s3), **(extra_env or {})}
    log = base / "serve.log"
    with open(log, "wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "motcua", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env, stdout=sink, stderr=subprocess.STDOUT,
        )  # fmt: skip
    server = Served(f"http://127.0.0.1:{port}", home, env, log, process)
    try:
        wait_until_up(server)
        for role in ROLES:
            server.cli("users", "add", role, "--role", role, "--full-name", FULL_NAMES[role])
    except BaseException:
        server.stop()
        raise
    return server


def server_env(home: Path, s3: S3Config) -> dict[str, str]:
    """The server's and its commands' environment: no MOTCUA_* of the developer's, fresh buckets."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOTCUA_")}
    tag = uuid.uuid4().hex[:10]
    env.update({
        "MOTCUA_HOME": str(home),
        "MOTCUA_CONFIG": str(home / "absent.toml"),
        "MOTCUA_S3_ENDPOINT": s3.endpoint,
        "MOTCUA_S3_ACCESS_KEY": s3.access_key,
        "MOTCUA_S3_SECRET_KEY": s3.secret_key,
        **setup_env(s3),
        "MOTCUA_S3_SECURE": "1" if s3.secure else "0",
        "MOTCUA_S3_REGION": s3.region,
        "MOTCUA_BUCKET_ARCHIVE": f"ba-{tag}",
        "MOTCUA_BUCKET_ORIGINALS": f"bo-{tag}",
        "MOTCUA_BUCKET_QUARANTINE": f"bq-{tag}",
        "MOTCUA_USER_PASSWORD": PASSWORD,
    })  # fmt: skip
    return env


def signing_env(pki: TestPki, level: str = "B-LTA") -> dict[str, str]:
    """Settings that let the server sign results with the TEST PKI's leader and organisation
    keys (PKCS#12; the password only in the environment, as in production)."""
    return {
        "MOTCUA_SIGNING_LEADER_P12": str(pki.p12("leader")),
        "MOTCUA_SIGNING_ORGANIZATION_P12": str(pki.p12("organization")),
        "MOTCUA_SIGNING_CHAIN": str(pki.chain),
        "MOTCUA_SIGNING_TRUST": str(pki.root_cert),
        "MOTCUA_SIGNING_TSA_URL": pki.tsa_url,
        "MOTCUA_SIGNING_LEVEL": level,
        "MOTCUA_SIGNING_SIGNATURE_IMAGE": str(pki.signature_image),
        "MOTCUA_SIGNING_SEAL_IMAGE": str(pki.seal_image),
        "MOTCUA_P12_PASSWORD": pki.p12_password,
    }


def wait_until_up(served: Served) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if served.process.poll() is not None:
            pytest.fail(f"motcua serve exited {served.process.returncode}:\n{served.server_log()}")
        try:
            if httpx.get(f"{served.url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    pytest.fail(f"motcua serve did not answer within {START_TIMEOUT:.0f} s:\n{served.server_log()}")


def sign_in(page: Page, role: str, password: str = PASSWORD) -> None:
    """Sign in through the form, as a person would."""
    page.goto("/login")
    page.get_by_label("Tên đăng nhập").fill(role)
    page.get_by_label("Mật khẩu").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Đăng nhập").click()
    assert "/login" not in page.url, f"{role} could not sign in: {page.content()[:2000]}"


_LOAD_IMAGES = """async () => {
    const pending = [...document.images].map(img => {
        img.loading = "eager";  // a lazy image below the fold starts loading now
        return img.complete ? null : new Promise(done => { img.onload = img.onerror = done; });
    });
    await Promise.race([Promise.all(pending), new Promise(done => setTimeout(done, 15000))]);
}"""


def load_images(page: Page) -> None:
    """Load every image of the page now, lazy or not, and wait for them (at most 15 s)."""
    page.evaluate(_LOAD_IMAGES)


def wait_for_job(page: Page, timeout: float = 240.0) -> str:
    """On a job page (`/jobs/<id>`, refreshing itself every 2 s), wait until the job is done;
    fail the test with the page's reason when it failed. Returns the page's text."""
    assert "/jobs/" in page.url, f"not a job page: {page.url}"
    deadline = time.monotonic() + timeout
    state = None
    while time.monotonic() < deadline:
        try:  # the page may be reloading under us
            state = page.locator("[data-state]").get_attribute("data-state", timeout=5_000)
        except PlaywrightError:
            state = None
        if state == "failed":
            pytest.fail(f"the job failed: {page.locator('main').inner_text()}")
        if state == "completed":
            return page.locator("main").inner_text()
        page.wait_for_timeout(1_000)  # not time.sleep: Playwright handles the reloads meanwhile
    pytest.fail(f"the job at {page.url} did not end within {timeout:.0f} s (state {state})")
