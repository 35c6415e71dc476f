"""Issue 12 in a real browser: the clerk's checklist and the supplement.

A citizen asks for a certified copy (chứng thực bản sao từ bản chính) and hands in a paper the
reader cannot name: the checklist shows the original to certify as missing and the dossier waits
for a supplement (Mẫu 02). The citizen comes back with a second paper: the clerk takes it in on
the same dossier (same code), says on the checklist that it is the original, and the dossier is
complete, with a due date. Text-layer PDFs, so no OCR wait."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from browser_helpers import Served, wait_for_job
from playwright.sync_api import Page, expect
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
PROCEDURE = "chung-thuc-ban-sao"
ORIGINAL = "ban-chinh"


def _text_pdf(path: Path, lines: list[str]) -> Path:
    if "DejaVu" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("DejaVu", FONT))
    page = canvas.Canvas(str(path), pagesize=A4)
    page.setFont("DejaVu", 12)
    for i, line in enumerate(lines):
        page.drawString(60, 780 - 18 * i, line)
    page.showPage()
    page.save()
    return path


@pytest.fixture(scope="module")
def papers(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("papers")
    return {
        "request": _text_pdf(
            folder / "don-de-nghi.pdf",
            ["ĐƠN ĐỀ NGHỊ CHỨNG THỰC", "Người yêu cầu: Trần Thị Mai", "Số bản sao: 02"],
        ),
        "original": _text_pdf(
            folder / "bang-tot-nghiep.pdf",
            ["BẰNG TỐT NGHIỆP TRUNG HỌC PHỔ THÔNG", "Cấp cho: Trần Thị Mai", "Năm: 2012"],
        ),
    }


def _dossier(served: Served, code: str) -> dict[str, Any]:
    shown: dict[str, Any] = json.loads(served.cli("dossier", "show", code, "--json").stdout)
    return shown


def _component(shown: dict[str, Any], key: str) -> dict[str, Any]:
    return next(c for c in shown["components"] if c["key"] == key)


def test_clerk_takes_in_a_supplement_and_names_the_original_on_the_checklist(
    page_as: Callable[[str], Page],
    shot: Callable[[Page, str], Path],
    served: Served,
    papers: dict[str, Path],
) -> None:
    page = page_as("clerk")
    page.get_by_role("navigation", name="Chức năng").get_by_role(
        "link", name="Tiếp nhận hồ sơ"
    ).click()
    page.locator("#intake-procedure").select_option(PROCEDURE)
    page.locator("#intake-files").set_input_files([papers["request"]])
    page.locator("#intake-submit").click()
    page.wait_for_url("**/jobs/*")
    wait_for_job(page)
    link = page.get_by_role("link", name="Xem hồ sơ")
    code = (link.text_content() or "").removeprefix("Xem hồ sơ").strip()
    assert code, page.content()
    link.click()

    # Nothing names the original yet: the checklist says so and the dossier waits.
    checklist = page.locator('[data-testid="components"] .checklist')
    missing = checklist.locator("li.missing")
    expect(missing).to_have_count(1)
    expect(missing).to_contain_text("Bản chính giấy tờ")
    expect(page.locator("dl.facts")).to_contain_text("Yêu cầu bổ sung hồ sơ")
    shown = _dossier(served, code)
    assert shown["status"] == "supplement_requested" and shown["due_date"] is None, shown
    assert _component(shown, ORIGINAL)["files"] == []
    page.locator('[data-testid="components"]').scroll_into_view_if_needed()
    shot(page, "components-1-missing")

    # The citizen comes back: the supplement joins the same dossier.
    form = page.locator('[data-testid="supplement-form"]')
    form.scroll_into_view_if_needed()
    form.locator('input[type="file"]').set_input_files([papers["original"]])
    form.locator('[data-testid="supplement-button"]').click()
    page.wait_for_url("**/jobs/*")
    wait_for_job(page)
    page.get_by_role("link", name=f"Xem hồ sơ {code}").click()
    expect(page.locator('[data-testid="document-2"]')).to_be_visible()
    shown = _dossier(served, code)
    assert shown["dossier_code"] == code and len(shown["documents"]) == 2, shown

    # The reader cannot tell a diploma is the original to certify: still waiting, until the
    # clerk says so on the checklist.
    assert shown["status"] == "supplement_requested", shown
    choice = page.locator('[data-testid="component-2"]')
    choice.scroll_into_view_if_needed()
    choice.select_option(ORIGINAL)
    shot(page, "components-2-assigning")
    page.locator('[data-testid="components-button"]').click()
    checklist = page.locator('[data-testid="components"] .checklist')
    expect(checklist.locator("li.missing")).to_have_count(0)
    expect(checklist.locator("li.ok").first).to_contain_text("bang-tot-nghiep.pdf")
    expect(page.locator("dl.facts")).to_contain_text("Đã tiếp nhận")
    page.locator('[data-testid="components"]').scroll_into_view_if_needed()
    shot(page, "components-3-complete")

    shown = _dossier(served, code)
    assert shown["status"] == "received" and shown["due_date"], shown
    original = _component(shown, ORIGINAL)
    assert original["confirmed"] is True, original
    assert [Path(f).name for f in original["files"]] == ["bang-tot-nghiep.pdf"], original
    history = json.loads(served.cli("dossier", "history", code, "--json").stdout)
    actions = [entry["action"] for entry in history]
    assert "dossier.supplement_received" in actions and "dossier.components_confirmed" in actions
