"""A leader in a real browser: the queue of drafted results, a preview, signing one result with
the server-side key and two at once, the signed PDF verified; a clerk has no signing page.

The dossiers are registered without OCR (what the intake flow would have read, written to the
server's register by a `motcua` process on its settings) and their results drafted through the
API with a clerk's session, so the walk does not depend on the clerk's test or its order."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from browser_helpers import Served, sign_in, wait_for_job
from playwright.sync_api import APIRequestContext, Browser, Page, expect

from signing import TestPki, verify_pdf

PROCEDURE = "xac-nhan-tinh-trang-hon-nhan"
PROCEDURE_NAME = "Cấp Giấy xác nhận tình trạng hôn nhân"
# The people of the three dossiers: one signed alone, two together.
CITIZENS = (
    ("Đặng Văn Khoa", "049201003311"),
    ("Ngô Thị Bích", "049301004422"),
    ("Hồ Minh Trí", "049199005533"),
)
# What the extracted fields of those dossiers lack for the result (as the clerk would type it).
RESULT_FIELDS = {
    "birth_date": "15/03/2001",
    "sex": "Nam",
    "ethnicity": "Kinh",
    "nationality": "Việt Nam",
    "residence": "Thôn Phú Sơn, xã Hòa Tiến",
    "marital_status": "Chưa đăng ký kết hôn với ai",
    "purpose": "làm thủ tục đăng ký kết hôn",
}
LEADER_CN = "TEST Nguyễn Văn An"  # the TEST PKI's leader certificate
JOB_TIMEOUT = 120.0

# Registers dossiers as the intake flow would (an ID card with its number and a name that needs
# review, a declaration), on the server's own settings: the environment of `served`.
_REGISTER = """
import hashlib, json, sys
from dossiers.procedures import load_catalogue
from dossiers.register import DocumentIn, DossierRegister
from motcua.settings import load_settings

settings = load_settings()
register = DossierRegister(settings.effective_catalog_url, unit_code=settings.unit_code)
register.create_tables()
procedure = load_catalogue().get(sys.argv[1])
codes = []
for name, number, salt in json.loads(sys.argv[2]):
    documents = []
    for kind in ("to-khai-xac-nhan-hon-nhan", "cccd"):
        digest = hashlib.sha256(f"{name}/{kind}/{salt}".encode()).hexdigest()
        fields = {}
        if kind == "cccd":
            fields = {"so_dinh_danh": {"value": number, "confidence": 0.97, "needs_review": False},
                      "ho_ten": {"value": name, "confidence": 0.6, "needs_review": True}}
        documents.append(DocumentIn(path=f"/scans/{digest[:8]}.jpg", kind=kind, sha256=digest,
                                    fields=fields, page_count=1))
    codes.append(register.intake(procedure, documents, citizen_name=name).dossier.code)
print(json.dumps(codes))
"""


def _register(served: Served) -> list[str]:
    salt = uuid.uuid4().hex
    people = json.dumps([[name, number, salt] for name, number in CITIZENS])
    done = subprocess.run([sys.executable, "-c", _REGISTER, PROCEDURE, people], env=served.env,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    if done.returncode != 0:
        pytest.fail(f"registering the dossiers failed:\n{done.stderr}")
    codes: list[str] = json.loads(done.stdout)
    return codes


def _draft_all(api: APIRequestContext, served: Served, csrf: str, codes: list[str]) -> None:
    """Draft each result through the API as the clerk, then wait for the jobs."""
    jobs = []
    for code in codes:
        r = api.post(f"{served.url}/api/v1/dossiers/{code}/result",
                     data={"fields": RESULT_FIELDS}, headers={"x-csrftoken": csrf})  # fmt: skip
        assert r.status == 202, r.text()
        jobs.append(r.json()["id"])
    deadline = time.monotonic() + JOB_TIMEOUT * len(jobs)
    for job_id in jobs:
        while True:
            job = api.get(f"{served.url}/api/v1/jobs/{job_id}").json()
            if job["state"] in ("completed", "failed"):
                break
            if time.monotonic() > deadline:
                pytest.fail(f"drafting job {job_id} did not end: {job}")
            time.sleep(0.5)
        assert job["state"] == "completed", job


@pytest.fixture(scope="module")
def waiting(browser: Browser, served: Served) -> Iterator[list[str]]:
    """Three dossiers whose drafted results wait for the leader."""
    codes = _register(served)
    context = browser.new_context(base_url=served.url)
    try:
        page = context.new_page()
        sign_in(page, "clerk")
        csrf = next(c["value"] for c in context.cookies() if c["name"] == "csrftoken")
        _draft_all(page.request, served, csrf, codes)
    finally:
        context.close()
    yield codes


def _queue_codes(page: Page) -> list[str]:
    rows = page.locator('[data-testid="queue-row"]')
    return [row.get_attribute("data-code") or "" for row in rows.all()]


def _status(served: Served, code: str) -> str:
    shown = json.loads(served.cli("dossier", "show", code, "--json").stdout)
    return str(shown["status"])


def _check_signed(pdf: bytes, pki: TestPki) -> None:
    """Two valid, trusted signatures at B-LTA: the leader's and the organisation's."""
    assert pdf.startswith(b"%PDF"), pdf[:20]
    # verify_pdf runs pyHanko's validation with asyncio.run, which refuses to run in the thread
    # where Playwright's sync API keeps its event loop: give it a thread of its own.
    with ThreadPoolExecutor(1) as pool:
        report = pool.submit(verify_pdf, pdf, [pki.root_cert]).result()
    assert report.ok and report.complete, report.as_json()
    by_role = {s.role: s for s in report.signatures}
    assert sorted(by_role) == ["leader", "organization"], report.as_json()
    assert all(s.level == "B-LTA" for s in report.signatures), report.as_json()
    assert by_role["leader"].signer == LEADER_CN, report.as_json()


def test_leader_previews_and_signs_a_result(
    page_as: Callable[[str], Page],
    shot: Callable[[Page, str], Path],
    served: Served,
    pki: TestPki,
    waiting: list[str],
) -> None:
    code = waiting[0]
    page = page_as("leader")
    page.get_by_role("navigation", name="Chức năng").get_by_role("link", name="Ký kết quả").click()
    expect(page.get_by_role("heading", name="Kết quả chờ lãnh đạo ký")).to_be_visible()
    expect(page.get_by_text("chưa được cấu hình khóa ký")).to_have_count(0)
    assert code in _queue_codes(page), _queue_codes(page)
    row = page.locator(f'[data-testid="queue-row"][data-code="{code}"]')
    expect(row).to_contain_text(PROCEDURE_NAME)
    expect(row).to_contain_text(CITIZENS[0][0])
    expect(row.locator('[data-testid="sign-one"]')).to_be_enabled()
    shot(page, "1-queue")

    row.locator('[data-testid="queue-preview"]').click()
    expect(page.get_by_role("heading", name=f"Dự thảo kết quả hồ sơ {code}")).to_be_visible()
    preview = page.locator('[data-testid="preview-page-1"]')
    preview.scroll_into_view_if_needed()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 100", arg=preview.element_handle()
    )
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "2-preview")

    page.locator('[data-testid="sign-this"]').click()
    page.wait_for_url("**/jobs/*")
    wait_for_job(page, JOB_TIMEOUT)
    shot(page, "3-signed-job")

    page.get_by_role("link", name=f"Xem hồ sơ {code}").click()
    expect(page.locator("dl.facts")).to_contain_text("Đã có kết quả")
    actions = page.locator('[data-testid="result-actions"]')
    expect(actions).to_contain_text("đã được lãnh đạo và cơ quan ký số")
    actions.scroll_into_view_if_needed()
    shot(page, "4-dossier-signed")
    with page.expect_download() as downloading:
        page.locator('[data-testid="result-pdf"]').click()
    assert downloading.value.suggested_filename == f"ket-qua-{code}.pdf"
    _check_signed(Path(downloading.value.path()).read_bytes(), pki)
    assert _status(served, code) == "result_signed"

    page.goto("/signing")
    assert code not in _queue_codes(page)
    shot(page, "5-queue-after")


def test_leader_signs_two_results_at_once(
    page_as: Callable[[str], Page],
    shot: Callable[[Page, str], Path],
    served: Served,
    pki: TestPki,
    waiting: list[str],
) -> None:
    both = waiting[1:]
    page = page_as("leader")
    page.goto("/signing")
    for code in both:
        page.locator(f'[data-testid="queue-select"][data-code="{code}"]').check()
    shot(page, "1-two-selected")

    page.locator('[data-testid="sign-selected"]').click()
    # What will be signed, listed once to confirm (issue 16); the server's key needs no PIN.
    rows = page.locator('[data-testid="confirm-row"]')
    expect(rows).to_have_count(2)
    assert sorted(rows.nth(i).get_attribute("data-code") or "" for i in range(2)) == sorted(both)
    expect(page.locator('[data-testid="sign-pin"]')).to_have_count(0)
    shot(page, "2-confirm")
    page.locator('[data-testid="confirm-sign"]').click()
    page.wait_for_url("**/jobs/*")
    wait_for_job(page, JOB_TIMEOUT)
    shot(page, "2-signed-job")

    page.goto("/signing")
    assert not set(both) & set(_queue_codes(page)), _queue_codes(page)
    shot(page, "3-queue-after")
    for code in both:
        assert _status(served, code) == "result_signed"
        page.goto(f"/dossiers/{code}")
        with page.expect_download() as downloading:
            page.locator('[data-testid="result-pdf"]').click()
        _check_signed(Path(downloading.value.path()).read_bytes(), pki)


def test_clerk_has_no_signing_page(
    page_as: Callable[[str], Page], shot: Callable[[Page, str], Path]
) -> None:
    page = page_as("clerk")
    nav = page.get_by_role("navigation", name="Chức năng")
    expect(nav.get_by_role("link", name="Tiếp nhận hồ sơ")).to_be_visible()
    expect(nav.get_by_role("link", name="Ký kết quả")).to_have_count(0)
    expect(page.locator("#nav-signing")).to_have_count(0)
    response = page.goto("/signing")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", name="Không có quyền truy cập")).to_be_visible()
    shot(page, "1-signing-forbidden")
