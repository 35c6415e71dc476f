"""A citizen with a phone: the receipt's QR code, decoded from the printed PDF's pixels, opens
the public status page at 390×844 with no account; the page says what the receipt says, in
plain Vietnamese, with the name as initials only."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cv2
import pytest
import zxingcpp
from browser_helpers import Served
from playwright.sync_api import Browser, BrowserContext, Page, expect
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from motcua.pdfium import page_image
from samples.documents import make_card, make_declaration

PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def taken_in(served: Served, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A birth-registration dossier taken in at the terminal (`motcua intake --json`), from a
    generated declaration scan and ID-card photo, through the real OCR flow."""
    folder = tmp_path_factory.mktemp("citizen-scans")
    declaration, card = make_declaration(31, "clean"), make_card(32, "clean")
    paths = [folder / "to-khai.png", folder / "cccd.jpg"]
    cv2.imwrite(str(paths[0]), declaration.image)
    cv2.imwrite(str(paths[1]), card.image, [cv2.IMWRITE_JPEG_QUALITY, 92])
    done = served.cli("intake", *map(str, paths), "--procedure", "dang-ky-khai-sinh", "--json")
    result: dict[str, Any] = json.loads(done.stdout)
    result["citizen_name"] = json.loads(
        served.cli("dossier", "show", result["dossier_code"], "--json").stdout
    )["citizen_name"]
    return result


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    """A phone-sized page with no account and no cookies."""
    context: BrowserContext = browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="vi-VN"
    )
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def decoded_qr(pdf: Path) -> str:
    """The text of the one QR code on the PDF's first page, read from its pixels at 200 dpi."""
    image, _ = page_image(pdf, 0, dpi=200)
    codes = [c for c in zxingcpp.read_barcodes(image) if c.format == zxingcpp.BarcodeFormat.QRCode]
    assert len(codes) == 1, f"{len(codes)} QR codes on {pdf.name}"
    return str(codes[0].text)


def test_the_receipt_qr_opens_the_status_page_on_a_phone(
    served: Served,
    taken_in: dict[str, Any],
    phone: Page,
    shot: Callable[[Page, str], Path],
) -> None:
    code = taken_in["dossier_code"]
    assert taken_in["status"] == "received" and taken_in["receipt_pdf"], taken_in
    url = decoded_qr(Path(taken_in["receipt_pdf"]))
    assert url == taken_in["status_url"]
    assert url.startswith(f"{served.url}/tra-cuu/") and code not in url
    shown = json.loads(served.cli("dossier", "show", code, "--json").stdout)
    assert shown["status_url"] == url  # the same link from every door

    phone.goto(url)
    expect(phone.get_by_test_id("status-procedure")).to_have_text("Đăng ký khai sinh")
    expect(phone.get_by_test_id("status-label")).to_have_text("Đã tiếp nhận")
    due = taken_in["due_date"]  # yyyy-mm-dd
    expect(phone.get_by_test_id("status-due")).to_contain_text(f"{due[8:10]}/{due[5:7]}/{due[0:4]}")
    expect(phone.get_by_test_id("status-collect")).to_contain_text(
        "Bộ phận Tiếp nhận và Trả kết quả"
    )
    expect(phone.get_by_test_id("status-code")).to_have_text(code)
    name = taken_in["citizen_name"]
    assert name, "the intake read no citizen's name"
    initials = " ".join(f"{part[0].upper()}." for part in name.split())
    expect(phone.get_by_test_id("status-initials")).to_have_text(initials)
    body = phone.locator("body").inner_text()
    for part in name.split():
        assert len(part) < 2 or part not in body, f"the name's part {part!r} is on the page"
    # Laid out for the phone: nothing wider than the screen, nothing to scroll sideways.
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], width
    assert phone.context.cookies() == []
    saved = shot(phone, "status-received")
    assert saved.stat().st_size > 10_000

    # The lookup code printed beside the QR, typed in by hand, leads to the same page.
    phone.goto(f"{served.url}/tra-cuu")
    printed = url.rsplit("/", 1)[-1]
    typed = "-".join(printed[i : i + 4] for i in range(0, 16, 4)).lower()
    phone.get_by_test_id("lookup-code").fill(typed)
    phone.get_by_test_id("lookup-submit").click()
    phone.wait_for_url(url)
    expect(phone.get_by_test_id("status-label")).to_have_text("Đã tiếp nhận")

    # A revoked link: the neutral page, the same as for a code nobody issued.
    served.cli("dossier", "status-link", code, "--revoke")
    phone.goto(url)
    expect(phone.get_by_test_id("status-neutral")).to_be_visible()
    assert code not in phone.locator("body").inner_text()
    shot(phone, "status-revoked")
    renewed = json.loads(served.cli("dossier", "status-link", code, "--renew", "--json").stdout)
    assert renewed["status_url"] != url
    phone.goto(renewed["status_url"])
    expect(phone.get_by_test_id("status-label")).to_have_text("Đã tiếp nhận")


def test_after_the_return_the_citizen_rates_once_from_the_phone(
    served: Served,
    taken_in: dict[str, Any],
    phone: Page,
    shot: Callable[[Page, str], Path],
    tmp_path: Path,
) -> None:
    code = taken_in["dossier_code"]
    scan = tmp_path / "ket-qua-giay.pdf"  # the paper result, scanned (no signatures)
    canvas = Canvas(str(scan), pagesize=A4)
    canvas.drawString(72, 760, f"Trich luc khai sinh - ho so {code}")
    canvas.save()
    served.cli("dossier", "upload-result", code, str(scan))
    served.cli("dossier", "return", code, "--method", "truc-tiep")
    url = json.loads(served.cli("dossier", "show", code, "--json").stdout)["status_url"]

    phone.goto(url)
    expect(phone.get_by_test_id("status-label")).to_have_text("Đã trả kết quả")
    phone.locator('label:has([data-testid="rating-5"])').click()
    phone.get_by_test_id("rating-comment").fill("Nhanh, cán bộ hướng dẫn tận tình")
    shot(phone, "rating-form")
    phone.get_by_test_id("rating-submit").click()
    expect(phone.get_by_test_id("rating-done")).to_contain_text("5/5")
    expect(phone.get_by_test_id("rating-form")).to_have_count(0)
    shot(phone, "rating-done")

    # Once per dossier: the desk cannot rate it again either.
    again = served.cli("dossier", "rate", code, "2", check=False)
    assert again.returncode == 1 and "đã được đánh giá" in again.stderr
    report = json.loads(served.cli("report", "--json").stdout)["satisfaction"]
    assert report["counts"]["5"] >= 1 and report["by_procedure"]["dang-ky-khai-sinh"]["rated"] == 1
