"""Mẫu 03, 05 and 06 rendered from real register dossiers; Vietnamese text extracted back."""

from __future__ import annotations

import datetime as dt
import hashlib
import subprocess
import unicodedata
from pathlib import Path

import pytest
from pypdf import PdfReader

from dossiers.calendar import VN_TZ
from dossiers.forms.notices import Citizen
from dossiers.forms.pdf import Office
from dossiers.forms.registers import (
    render_control_sheet,
    render_refusal,
    render_tracking_register,
    status_label,
)
from dossiers.procedures import Catalogue
from dossiers.register import DocumentIn, Dossier, DossierRegister, Status
from motcua.errors import BadArgumentError

UNIT = "H40.29.10"
A4_LANDSCAPE = (841.89, 595.28)


def text_of(path: Path) -> str:
    reader = PdfReader(path)
    text = "\n".join(page.extract_text() or "" for page in reader.pages)
    assert unicodedata.is_normalized("NFC", unicodedata.normalize("NFC", text))
    return " ".join(unicodedata.normalize("NFC", text).split())


def pdftotext(path: Path) -> str:
    out = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
    return unicodedata.normalize("NFC", out)


def at(m: int, d: int, hh: int = 9) -> dt.datetime:
    return dt.datetime(2026, m, d, hh, 0, tzinfo=VN_TZ)


@pytest.fixture
def sqlite_register(tmp_path: Path) -> DossierRegister:
    register = DossierRegister(f"sqlite:///{tmp_path / 'catalog.sqlite3'}", unit_code=UNIT)
    register.create_tables()
    return register


def take(
    register: DossierRegister, catalogue: Catalogue, name: str, when: dt.datetime, key: str
) -> Dossier:
    procedure = catalogue.get(key)
    docs = [
        DocumentIn(f"/{name}/{k}.pdf", k, hashlib.sha256((name + k).encode()).hexdigest())
        for k in procedure.required_kinds
    ]
    return register.intake(procedure, docs, received_at=when, citizen_name=name).dossier


def test_refusal_lists_the_reasons(
    tmp_path: Path, office: Office, catalogue: Catalogue, sqlite_register: DossierRegister
) -> None:
    dossier = take(sqlite_register, catalogue, "Trần Văn Bình", at(4, 24), "chung-thuc-ban-sao")
    out = tmp_path / "mau03.pdf"
    rendered = render_refusal(
        out,
        office=office,
        dossier=dossier,
        procedure=catalogue.get("chung-thuc-ban-sao"),
        reasons=["Bản chính bị tẩy xóa, sửa chữa", "Giấy tờ do cơ quan nước ngoài cấp"],
        refused_on=dt.date(2026, 4, 24),
        citizen=Citizen("Trần Văn Bình", "thôn Lệ Sơn 1, xã Hòa Tiến"),
        clerk_name="Lê Văn Tâm",
    )
    assert rendered.pages == 1
    text = text_of(out)
    for expected in [
        "PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ",
        f"Mã hồ sơ: {dossier.code}",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Hòa Tiến, ngày 24 tháng 4 năm 2026",
        "Của ông/bà: Trần Văn Bình",
        "Địa chỉ: thôn Lệ Sơn 1, xã Hòa Tiến",
        "Chứng thực bản sao từ bản chính",
        "Căn cứ quy định tại Nghị định 23/2015/NĐ-CP, Điều 18",
        "1. Bản chính bị tẩy xóa, sửa chữa",
        "2. Giấy tờ do cơ quan nước ngoài cấp",
        "NGƯỜI TIẾP NHẬN HỒ SƠ",
        "Lê Văn Tâm",
    ]:
        assert expected in text, expected
    with pytest.raises(BadArgumentError, match="phải nêu rõ lý do"):
        render_refusal(
            tmp_path / "none.pdf",
            office=office,
            dossier=dossier,
            procedure=catalogue.get("chung-thuc-ban-sao"),
            reasons=["  "],
            refused_on=dt.date(2026, 4, 24),
        )
    assert not (tmp_path / "none.pdf").exists()


def test_control_sheet_follows_the_history(
    tmp_path: Path, office: Office, catalogue: Catalogue, sqlite_register: DossierRegister
) -> None:
    key = "xac-nhan-tinh-trang-hon-nhan"
    code = take(sqlite_register, catalogue, "Lê Thị Thu Hà", at(4, 24), key).code
    sqlite_register.start_processing(code, at=at(4, 28))
    sqlite_register.mark_result_signed(code, at=at(5, 4, 16))
    dossier = sqlite_register.mark_returned(code, at=at(5, 5, 10))
    out = tmp_path / "mau05.pdf"
    render_control_sheet(
        out,
        office=office,
        dossier=dossier,
        procedure=catalogue.get(key),
        processing_unit="Công chức Tư pháp - Hộ tịch",
    )
    text = text_of(out)
    for expected in [
        "PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ",
        f"Mã hồ sơ: {code}",
        f"(Kèm theo Giấy tiếp nhận hồ sơ và hẹn trả kết quả mã hồ sơ: {code})",
        "Cơ quan (bộ phận) giải quyết hồ sơ: Công chức Tư pháp - Hộ tịch",
        "Hẹn trả kết quả: 04/05/2026",
        "TÊN CƠ QUAN",
        "KẾT QUẢ GIẢI QUYẾT HỒ SƠ",
        "1. Giao: Bộ phận Tiếp nhận và Trả kết quả",
        "09 giờ 00 phút, ngày 24 tháng 4 năm 2026",
        "16 giờ 00 phút, ngày 04 tháng 5 năm 2026",
        "Đúng hạn",
        "Nhận: người nộp hồ sơ",
        "Đã trả kết quả",
    ]:
        assert expected in text, expected


def test_tracking_register_for_a_date_range(
    tmp_path: Path, office: Office, catalogue: Catalogue, sqlite_register: DossierRegister
) -> None:
    reg = sqlite_register
    before = take(reg, catalogue, "Ngoài Khoảng Trước", at(4, 20), "dang-ky-khai-sinh")
    first = take(reg, catalogue, "Nguyễn Thị Hằng", at(4, 24), "xac-nhan-tinh-trang-hon-nhan")
    second = take(reg, catalogue, "Phạm Quốc Việt", at(4, 28, 16), "dang-ky-khai-sinh")
    after = take(reg, catalogue, "Ngoài Khoảng Sau", at(5, 2), "dang-ky-khai-sinh")
    reg.start_processing(first.code, at=at(4, 28))
    reg.mark_result_signed(first.code, at=at(5, 6))  # due 4/5: late
    reg.mark_result_signed(second.code, at=at(4, 29, 10))
    reg.mark_returned(second.code, at=at(4, 29, 14))
    names = {p.key: p.name for p in catalogue}
    out = tmp_path / "mau06.pdf"
    rendered = render_tracking_register(
        out,
        office=office,
        dossiers=reg.list(),
        procedure_names=names,
        date_from=dt.date(2026, 4, 21),
        date_to=dt.date(2026, 5, 1),
        printed_on=dt.date(2026, 5, 8),
    )
    box = PdfReader(out).pages[0].mediabox
    assert (round(float(box.width), 2), round(float(box.height), 2)) == A4_LANDSCAPE
    assert rendered.pages == 1
    text = text_of(out)
    for expected in [
        "SỔ THEO DÕI HỒ SƠ",
        "Từ ngày 21/04/2026 đến ngày 01/05/2026",
        "Mã hồ sơ",
        "Ngày, tháng, năm",
        "Nguyễn Thị Hằng",
        "Phạm Quốc Việt",
        "Quá hạn",
        "Đúng hạn",
        "Tổng số: 2 hồ sơ.",
    ]:
        assert expected in text, expected
    assert first.code in text and second.code in text
    assert before.code not in text and after.code not in text
    assert "Ngoài Khoảng" not in text
    layout = pdftotext(out)
    row = next(line for line in layout.splitlines() if second.code in line)
    # the row holds its receipt, due, resolution and return days, in column order
    assert row.index("28/04/2026") < row.index("29/04/2026")
    assert "Đã trả kết quả" in layout


def test_tracking_register_runs_over_pages(
    tmp_path: Path, office: Office, catalogue: Catalogue, sqlite_register: DossierRegister
) -> None:
    codes = [
        take(sqlite_register, catalogue, f"Người nộp số {i}", at(4, 24, 8) + dt.timedelta(
            minutes=i), "chung-thuc-ban-sao").code
        for i in range(45)
    ]  # fmt: skip
    out = tmp_path / "long.pdf"
    rendered = render_tracking_register(
        out,
        office=office,
        dossiers=sqlite_register.list(),
        procedure_names={},
        date_from=dt.date(2026, 4, 24),
        date_to=dt.date(2026, 4, 24),
        printed_on=dt.date(2026, 4, 24),
    )
    assert rendered.pages >= 2
    reader = PdfReader(out)
    assert len(reader.pages) == rendered.pages
    last = unicodedata.normalize("NFC", reader.pages[-1].extract_text())
    assert "Mã hồ sơ" in last  # the heading repeats on every page
    text = text_of(out)
    assert all(code in text for code in codes) and "Tổng số: 45 hồ sơ." in text
    with pytest.raises(BadArgumentError, match="khoảng ngày không hợp lệ"):
        render_tracking_register(
            tmp_path / "bad.pdf",
            office=office,
            dossiers=[],
            procedure_names={},
            date_from=dt.date(2026, 4, 25),
            date_to=dt.date(2026, 4, 24),
            printed_on=dt.date(2026, 4, 24),
        )


def test_status_labels() -> None:
    assert status_label(Status.processing) == "Đang giải quyết"
    assert status_label("refused") == "Từ chối"
    assert status_label("withdrawn") == "Đã rút"
    assert status_label("something_new") == "something_new"
