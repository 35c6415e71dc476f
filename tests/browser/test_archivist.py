"""An archivist in a real browser: search the archive without diacritics, open the record, check
its fixity, download a file and the export package; what the archivist's menu leaves out."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from browser_helpers import FULL_NAMES, Served
from playwright.sync_api import Page, expect
from reportlab.pdfgen import canvas

from storage.record import record_prefix
from storage.s3 import S3Config

ID_NUMBER = "048190012345"
NAME = "Nguyễn Thị Hằng"
CODE = "H40.29.10-260424-0007"
DECLARATION = "tờ-khai-khai-sinh.txt"  # a Vietnamese file name: the download keeps it


@dataclass(frozen=True)
class Record:
    record_id: str
    code: str
    files: dict[str, bytes]


def _archive(served: Served, folder: Path, code: str, title: str) -> Record:
    """Archive two files with `motcua archive put`, as an operator would."""
    folder.mkdir(parents=True)
    declaration = folder / DECLARATION
    declaration.write_text(
        f"TỜ KHAI ĐĂNG KÝ KHAI SINH\nHọ, chữ đệm, tên người yêu cầu: {NAME}\n"
        f"Số định danh cá nhân: {ID_NUMBER}\n",
        encoding="utf-8",
    )
    result = folder / "giay-khai-sinh.pdf"
    pdf = canvas.Canvas(str(result))
    pdf.drawString(72, 760, f"GIAY KHAI SINH - {code}")
    pdf.save()
    meta = [f"id_number={ID_NUMBER}", "procedure=dang-ky-khai-sinh", "keywords=khai sinh"]
    put = served.cli("archive", "put", str(declaration), str(result), "--dossier", code,
                     "--title", title, *(f"--meta={m}" for m in meta))  # fmt: skip
    files = {p.name: p.read_bytes() for p in (declaration, result)}
    return Record(put.stdout.strip(), code, files)


@pytest.fixture(scope="module")
def record(served: Served, tmp_path_factory: pytest.TempPathFactory) -> Record:
    title = f"Đăng ký khai sinh, người yêu cầu {NAME}"
    return _archive(served, tmp_path_factory.mktemp("seed") / "files", CODE, title)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _nav_links(page: Page) -> list[str]:
    nav = page.get_by_role("navigation", name="Chức năng")
    hrefs: list[str] = nav.locator("a").evaluate_all("all => all.map(a => a.getAttribute('href'))")
    return hrefs


def test_archivist_finds_checks_and_exports_a_record(
    page_as: Callable[[str], Page], shot: Callable[[Page, str], Path], record: Record
) -> None:
    page = page_as("archivist")
    shot(page, "1-signed-in")

    page.get_by_role("navigation", name="Chức năng").get_by_role("link", name="Lưu trữ").click()
    expect(page.get_by_role("heading", name="Tra cứu hồ sơ lưu trữ")).to_be_visible()
    page.get_by_label("Từ khóa (có hoặc không dấu)").press_sequentially("nguyen thi hang")
    page.get_by_role("button", name="Tìm").click()
    hit = page.get_by_role("link", name=record.code)
    expect(hit).to_be_visible()
    expect(page.get_by_text("1 kết quả")).to_be_visible()
    assert ID_NUMBER not in page.content()  # the snippets mask ID numbers
    shot(page, "2-search-without-diacritics")

    hit.click()
    expect(page.get_by_role("heading", name=f"Hồ sơ lưu trữ {record.code}")).to_be_visible()
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text(f"Đăng ký khai sinh, người yêu cầu {NAME}")
    expect(facts).to_contain_text("Thời hạn bảo quản")
    expect(facts).to_contain_text(ID_NUMBER)  # the archivist sees the number in full
    expect(page.locator("#fixity")).to_contain_text("Chưa kiểm tra")
    files = page.get_by_role("heading", name="Tệp").locator("xpath=..")
    for name, content in record.files.items():
        expect(files.get_by_role("link", name=name)).to_be_visible()
        expect(files).to_contain_text(_sha256(content)[:16])
    shot(page, "3-record")

    page.get_by_role("button", name="Kiểm tra toàn vẹn").click()
    expect(page.get_by_role("status")).to_contain_text("không có thay đổi")
    expect(page.locator("#fixity")).to_contain_text("Toàn vẹn")
    shot(page, "4-fixity-checked")

    with page.expect_download() as downloading:
        page.get_by_role("link", name=DECLARATION).click()
    download = downloading.value
    assert download.suggested_filename == DECLARATION
    assert _sha256(Path(download.path()).read_bytes()) == _sha256(record.files[DECLARATION])
    shot(page, "5-file-downloaded")

    with page.expect_download() as downloading:
        page.get_by_role("link", name="Xuất gói hồ sơ (.zip)").click()
    package = downloading.value
    assert package.suggested_filename == f"{record.code}.zip"
    with zipfile.ZipFile(Path(package.path())) as zf:
        names = set(zf.namelist())
        report = json.loads(zf.read("verification.json"))
        metadata = json.loads(zf.read(f"{record.record_id}/metadata.json"))
        for name, content in record.files.items():
            assert _sha256(zf.read(f"{record.record_id}/data/{name}")) == _sha256(content)
    assert report["ok"] is True and report["record_id"] == record.record_id
    assert metadata["id_numbers"] == [ID_NUMBER]
    assert f"{record.record_id}/manifest-sha256.txt" in names
    shot(page, "6-package-exported")

    page.goto(f"/archive/records/{record.record_id}")  # not reload(): that re-posts the check
    history = page.locator("ul.history")
    for label in ("Xuất gói hồ sơ", "Tải tệp", "Kiểm tra toàn vẹn"):
        expect(history).to_contain_text(label)
    expect(history).to_contain_text(FULL_NAMES["archivist"])  # the person, not `user:archivist`
    expect(history).not_to_contain_text("user:archivist")
    page.get_by_role("heading", name="Lịch sử").scroll_into_view_if_needed()
    shot(page, "7-history")


def test_archivist_menu_and_forbidden_pages(
    page_as: Callable[[str], Page], shot: Callable[[Page, str], Path]
) -> None:
    page = page_as("archivist")
    links = _nav_links(page)
    assert {"/archive", "/audit"} <= set(links)
    # Clerks' intake, leaders' report, admins' accounts: not in an archivist's menu.
    assert not {"/dossiers/new", "/reports/on-time", "/accounts"} & set(links), links
    shot(page, "1-menu")

    response = page.goto("/accounts")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", name="Không có quyền truy cập")).to_be_visible()
    shot(page, "2-accounts-forbidden")


def test_export_of_a_damaged_record_is_refused(
    page_as: Callable[[str], Page],
    shot: Callable[[Page, str], Path],
    served: Served,
    s3_config: S3Config,
    tmp_path: Path,
) -> None:
    damaged = _archive(served, tmp_path / "files", "H40.29.10-260424-0008", "Hồ sơ bị sửa")
    forged = b"%PDF-1.4 forged result"
    s3_config.client().put_object(
        served.env["MOTCUA_BUCKET_ARCHIVE"],
        record_prefix(damaged.record_id) + "data/giay-khai-sinh.pdf",
        io.BytesIO(forged),
        len(forged),
    )
    page = page_as("archivist")
    page.goto(f"/archive/records/{damaged.record_id}")
    page.get_by_role("link", name="Xuất gói hồ sơ (.zip)").click()
    expect(page.get_by_role("heading", name="Không thể thực hiện")).to_be_visible()
    expect(page.locator("main")).to_contain_text("không toàn vẹn")
    expect(page.locator("main")).to_contain_text("data/giay-khai-sinh.pdf")
    shot(page, "1-export-refused")
    page.goto(f"/archive/records/{damaged.record_id}")
    expect(page.locator("#fixity")).to_contain_text("Có vấn đề")

    # The e-office system's token reads the archive but may not export (unmasked metadata).
    secret = served.cli("tokens", "add", "ioffice-export").stdout.strip()
    url = f"{served.url}/api/v1/archive/records/{damaged.record_id}/export.zip"
    refused = httpx.get(url, headers={"Authorization": f"Bearer {secret}"}, timeout=60)
    assert refused.status_code == 403
    assert refused.json()["detail"] == "your role lacks the permission archive.verify"
