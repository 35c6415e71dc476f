"""A clerk in a real browser: take a birth-registration dossier in from two generated scans (the
real OCR flow), check the fields against the page images, correct one and confirm the flagged
ones, accept the dossier, print the receipt, and draft the result for the leader."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import pytest
from browser_helpers import FULL_NAMES, Served, wait_for_job
from playwright.sync_api import Locator, Page, expect
from pypdf import PdfReader

from dossiers.calendar import VN_TZ
from samples.documents import make_card, make_declaration

INTAKE_TIMEOUT = 300.0  # the real OCR flow: 25-60 s on two busy cores
DECLARATION = 1  # document positions: in the order the files were chosen
CARD = 2
CORRECTED = "khai_sinh.dan_toc"  # the child's ethnicity: "H'Mông" on the form ...
CORRECTED_TO = "Mông"  # ... the name in the official list of ethnic groups
NEEDS_REVIEW = re.compile(r"\bneeds-review\b")


@pytest.fixture(scope="module")
def scans(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The declaration (a scanned A4 page) and the requester's ID card (a phone photo)."""
    folder = tmp_path_factory.mktemp("scans")
    declaration, card = make_declaration(11, "clean"), make_card(12, "clean")
    paths = {"declaration": folder / "to-khai.png", "card": folder / "cccd.jpg"}
    cv2.imwrite(str(paths["declaration"]), declaration.image)
    cv2.imwrite(str(paths["card"]), card.image, [cv2.IMWRITE_JPEG_QUALITY, 92])
    return paths


def _testid(key: str, pos: int, name: str) -> str:
    return f'[data-testid="{key}-{pos}-{name}"]'


def _expect_loaded(image: Locator) -> None:
    """A page image shown and decoded (they load lazily: scroll to it first)."""
    image.scroll_into_view_if_needed()
    expect(image).to_be_visible()
    image.page.wait_for_function(
        "img => img.complete && img.naturalWidth > 100", arg=image.element_handle()
    )


def _dossier(served: Served, code: str) -> dict[str, Any]:
    """The dossier as the register holds it (`motcua dossier show --json`)."""
    shown: dict[str, Any] = json.loads(served.cli("dossier", "show", code, "--json").stdout)
    return shown


def test_clerk_takes_in_corrects_accepts_and_drafts_the_result(
    page_as: Callable[[str], Page],
    shot: Callable[[Page, str], Path],
    served: Served,
    scans: dict[str, Path],
) -> None:
    page = page_as("clerk")
    page.get_by_role("navigation", name="Chức năng").get_by_role(
        "link", name="Tiếp nhận hồ sơ"
    ).click()
    expect(page.get_by_role("heading", name="Tiếp nhận hồ sơ")).to_be_visible()
    page.locator("#intake-procedure").select_option("dang-ky-khai-sinh")
    page.locator("#intake-files").set_input_files([scans["declaration"], scans["card"]])
    files = page.locator("#intake-file-list li")
    expect(files).to_have_count(2)
    expect(files.first).to_contain_text("to-khai.png")
    shot(page, "1-intake-form")

    page.locator("#intake-submit").click()
    page.wait_for_url("**/jobs/*")
    shot(page, "2-job-running")
    wait_for_job(page, INTAKE_TIMEOUT)
    link = page.get_by_role("link", name="Xem hồ sơ")
    code = (link.text_content() or "").removeprefix("Xem hồ sơ").strip()
    assert code, page.content()
    shot(page, "3-job-done")

    link.click()
    expect(page.get_by_role("heading", name=f"Hồ sơ {code}")).to_be_visible()
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text("Đăng ký khai sinh")
    expect(facts).to_contain_text("Đã tiếp nhận")
    for pos in (DECLARATION, CARD):
        _expect_loaded(page.locator(_testid("page-image", pos, "1")))
    expect(page.locator('[data-testid="document-1"] h3')).to_contain_text(
        "Tờ khai đăng ký khai sinh"
    )
    expect(page.locator('[data-testid="document-2"] h3')).to_contain_text("Căn cước công dân")
    form = page.locator(f'[data-testid="fields-form-{DECLARATION}"]')
    expect(form.locator(_testid("field", DECLARATION, "khai_sinh.ho_ten"))).not_to_have_value("")
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "4-dossier-read")

    # The clerk corrects the ethnicity and confirms what else the reader was unsure of.
    field = form.locator(_testid("field", DECLARATION, CORRECTED))
    old = field.input_value()
    assert old and old != CORRECTED_TO, old
    flagged_rows = form.locator(".field-row.needs-review")
    flagged = [
        (row.get_attribute("data-testid") or "").removeprefix(f"field-row-{DECLARATION}-")
        for row in flagged_rows.all()
    ]
    field.fill(CORRECTED_TO)
    for key in flagged:
        form.locator(_testid("confirm", DECLARATION, key)).check()
    form.locator(_testid("field-row", DECLARATION, CORRECTED)).scroll_into_view_if_needed()
    shot(page, "5-correcting")
    form.locator(f'[data-testid="fields-submit-{DECLARATION}"]').click()

    saved = len(set(flagged) | {CORRECTED})
    expect(page.locator(".flash")).to_contain_text(f"Đã lưu {saved} trường")
    form = page.locator(f'[data-testid="fields-form-{DECLARATION}"]')
    expect(form.locator(_testid("field", DECLARATION, CORRECTED))).to_have_value(CORRECTED_TO)
    note = form.locator(_testid("correction", DECLARATION, CORRECTED))
    expect(note).to_contain_text(f"Đã sửa bởi {FULL_NAMES['clerk']}")
    expect(note).to_contain_text(f"giá trị cũ: “{old}”")
    expect(form.locator(_testid("field-row", DECLARATION, CORRECTED))).not_to_have_class(
        NEEDS_REVIEW
    )
    for key in flagged:
        if key != CORRECTED:
            expect(form.locator(_testid("correction", DECLARATION, key))).to_contain_text(
                f"Đã xác nhận bởi {FULL_NAMES['clerk']}"
            )
    expect(form.locator(".field-row.needs-review")).to_have_count(0)
    form.locator(_testid("field-row", DECLARATION, CORRECTED)).scroll_into_view_if_needed()
    shot(page, "6-corrected")

    # What the register holds: the corrected value, the flag cleared, the old value remembered.
    stored = _dossier(served, code)
    declaration = stored["documents"][DECLARATION - 1]
    value = declaration["fields"][CORRECTED]
    assert value["value"] == CORRECTED_TO and value["needs_review"] is False, value
    assert value["source"] == "clerk" and value["corrections"][-1]["old"] == old, value
    for key in flagged:
        assert declaration["fields"][key]["needs_review"] is False, key

    page.locator('[data-testid="accept-button"]').click()
    expect(page.locator(".flash")).to_contain_text(f"Đã tiếp nhận hồ sơ {code}")
    expect(facts).to_contain_text("Đang giải quyết")
    expect(page.locator('[data-testid="accept-button"]')).to_have_count(0)
    shot(page, "7-accepted")

    with page.expect_download() as downloading:
        page.locator('[data-testid="receipt-link"]').click()
    receipt = Path(downloading.value.path()).read_bytes()
    assert receipt.startswith(b"%PDF"), receipt[:20]
    text = "".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(receipt)).pages)
    assert code in text, text[:1000]
    shot(page, "8-receipt-downloaded")

    # The result: the corrected ethnicity is already there; the clerk fills in what is missing.
    result = page.locator('[data-testid="draft-result-form"]')
    result.scroll_into_view_if_needed()
    expect(result.locator('[data-testid="result-field-child_ethnicity"]')).to_have_value(
        CORRECTED_TO
    )
    office = page.locator("header .office").inner_text().strip()
    today = dt.datetime.now(VN_TZ).date().strftime("%d/%m/%Y")
    known = {"office_name": office, "issued_on": today, "dossier_code": code}
    for box in result.locator("input[required]").all():
        if box.input_value():
            continue
        key = (box.get_attribute("data-testid") or "").removeprefix("result-field-")
        assert key in known, f"the result form asks for {key}, which the test cannot fill"
        box.fill(known[key])
    shot(page, "9-result-form")
    result.locator('[data-testid="draft-result"]').click()
    page.wait_for_url("**/jobs/*")
    wait_for_job(page)
    page.get_by_role("link", name=f"Xem hồ sơ {code}").click()
    waiting = page.locator('[data-testid="result-waiting"]')
    expect(waiting).to_contain_text("đang chờ lãnh đạo ký")
    expect(page.locator('[data-testid="result-sign"]')).to_have_count(0)  # a clerk does not sign
    waiting.scroll_into_view_if_needed()
    shot(page, "10-result-drafted")
    assert _dossier(served, code)["status"] == "processing"
