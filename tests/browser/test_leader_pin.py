"""A leader with a key of their own, in a real browser (issue 16): the account `leader` (Trần
Văn Minh) is bound with `motcua signers bind leader --p12 FILE` to the TEST PKI's second leader
certificate; the server has no shared leader key. Signing one result asks for the PIN on the
preview page (a wrong PIN: the reason beside the field, the page as it was); signing two lists
them and asks once for confirmation and the PIN. The signed PDFs carry Minh's certificate.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from browser_helpers import Served, sign_in, signing_env, start_server, wait_for_job
from playwright.sync_api import Browser, Page, expect
from test_leader import _draft_all, _register

from signing import TestPki, verify_pdf
from storage.s3 import S3Config

MINH_CN = "TEST Trần Văn Minh"


@pytest.fixture(scope="module")
def own(
    tmp_path_factory: pytest.TempPathFactory,
    s3_config: S3Config,
    unused_port: Callable[[], int],
    pki: TestPki,
) -> Iterator[Served]:
    """A server whose leader account signs with its own PKCS#12 (no shared leader key)."""
    env = {k: v for k, v in signing_env(pki).items()
           if k not in ("MOTCUA_SIGNING_LEADER_P12", "MOTCUA_P12_PASSWORD")}  # fmt: skip
    env["MOTCUA_ORG_P12_PASSWORD"] = pki.p12_password  # the organisation's key only
    server = start_server(tmp_path_factory.mktemp("browser-pin"), s3_config, unused_port(), env)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "motcua", "signers", "bind", "leader", "--p12",
             str(pki.p12("leader-2")), "--title", "Phó Chủ tịch"],
            env={**server.env, "MOTCUA_P12_PASSWORD": pki.p12_password},
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        server.cli("signers", "bind", "--role", "organization", "--cert",
                   str(pki.cert("organization")))  # fmt: skip
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def drafted(browser: Browser, own: Served) -> list[str]:
    codes = _register(own)
    context = browser.new_context(base_url=own.url)
    try:
        page = context.new_page()
        sign_in(page, "clerk")
        csrf = next(c["value"] for c in context.cookies() if c["name"] == "csrftoken")
        _draft_all(page.request, own, csrf, codes)
    finally:
        context.close()
    return codes


@pytest.fixture
def leader_page(browser: Browser, own: Served) -> Iterator[Page]:
    context = browser.new_context(base_url=own.url, locale="vi-VN",
                                  viewport={"width": 1280, "height": 900})  # fmt: skip
    context.set_default_timeout(15_000)
    page = context.new_page()
    sign_in(page, "leader")
    yield page
    context.close()


def _signer_of(page: Page, code: str, pki: TestPki) -> str:
    r = page.request.get(f"/api/v1/dossiers/{code}/result.pdf")
    assert r.status == 200, r.text()
    with ThreadPoolExecutor(1) as pool:  # pyHanko's asyncio.run away from Playwright's loop
        report = pool.submit(verify_pdf, r.body(), [pki.root_cert]).result()
    assert report.ok and report.complete, report.as_json()
    return str(next(s.signer for s in report.signatures if s.role == "leader"))


def test_the_device_signing_page_explains_the_two_steps(
    leader_page: Page, shot: Callable[[Page, str], Path], drafted: list[str], pki: TestPki
) -> None:
    """Step 1 driven from the page (the draft stays waiting: nothing is finished here)."""
    page, code = leader_page, drafted[0]
    page.goto(f"/signing/{code}")
    page.locator('[data-testid="device-sign"]').click()
    page.wait_for_url(f"**/signing/{code}/device")
    expect(page.get_by_role("heading", level=1)).to_contain_text("thiết bị ký số")
    page.locator('[data-testid="device-prepare"]').click()
    expect(page.locator('[data-testid="device-error"]')).to_contain_text("chứng thư số")
    page.locator('[data-testid="device-chain"]').fill(
        pki.cert("leader-2").read_text() + pki.chain.read_text()
    )
    page.locator('[data-testid="device-prepare"]').click()
    expect(page.locator('[data-testid="device-signer"]')).to_have_text(MINH_CN)
    expect(page.locator('[data-testid="device-to-sign"]')).not_to_be_empty()
    shot(page, "1-prepared")


def test_leader_types_the_pin_to_sign_and_a_wrong_one_is_said_beside_the_field(
    leader_page: Page, shot: Callable[[Page, str], Path], drafted: list[str], pki: TestPki
) -> None:
    page, code = leader_page, drafted[0]
    page.goto("/signing")
    expect(page.locator('[data-testid="signing-as"]')).to_have_text(MINH_CN)
    page.locator(f'[data-testid="sign-one"][data-code="{code}"]').click()
    page.wait_for_url(f"**/signing/{code}*")
    pin = page.locator('[data-testid="sign-pin"]')
    expect(pin).to_be_visible()
    expect(page.locator("#signing-as")).to_have_text(MINH_CN)
    pin.fill("sai-ma-pin")
    page.locator('[data-testid="sign-this"]').click()
    error = page.locator('[data-testid="pin-error"]')
    expect(error).to_contain_text("mã PIN (mật khẩu) không đúng")
    expect(pin).to_have_attribute("aria-invalid", "true")
    text = page.locator("main").inner_text() if page.locator("main").count() else page.content()
    for leak in ("sai-ma-pin", ".p12", "Error", "/tmp/", str(pki.dir)):
        assert leak not in text, leak
    expect(page.locator('[data-testid="preview-page-1"]')).to_be_visible()  # the page as it was
    shot(page, "1-wrong-pin")

    page.locator('[data-testid="sign-pin"]').fill(pki.p12_password)
    page.locator('[data-testid="sign-this"]').click()
    page.wait_for_url("**/jobs/*")
    wait_for_job(page, 180)
    shot(page, "2-signed")
    assert _signer_of(page, code, pki) == MINH_CN


def test_bulk_signing_lists_what_will_be_signed_and_asks_once_for_the_pin(
    leader_page: Page, shot: Callable[[Page, str], Path], drafted: list[str], pki: TestPki
) -> None:
    page, both = leader_page, drafted[1:]
    page.goto("/signing")
    for code in both:
        page.locator(f'[data-testid="queue-select"][data-code="{code}"]').check()
    page.locator('[data-testid="sign-selected"]').click()
    rows = page.locator('[data-testid="confirm-row"]')
    expect(rows).to_have_count(2)
    assert sorted(r.get_attribute("data-code") or "" for r in rows.all()) == sorted(both)
    expect(page.locator('[data-testid="confirm-sign"]')).to_have_text("Xác nhận và ký 2 kết quả")
    shot(page, "1-confirm")
    page.locator('[data-testid="sign-pin"]').fill("123456")
    page.locator('[data-testid="confirm-sign"]').click()
    expect(page.locator('[data-testid="pin-error"]')).to_contain_text("không đúng")
    expect(rows).to_have_count(2)  # the list kept
    shot(page, "2-wrong-pin")
    page.locator('[data-testid="sign-pin"]').fill(pki.p12_password)
    page.locator('[data-testid="confirm-sign"]').click()
    page.wait_for_url("**/jobs/*")
    wait_for_job(page, 240)
    shot(page, "3-signed")
    for code in both:
        assert _signer_of(page, code, pki) == MINH_CN
