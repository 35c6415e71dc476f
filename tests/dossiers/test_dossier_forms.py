"""PDF forms and result documents: Vietnamese text extracted back, QR decoded from pixels."""

from __future__ import annotations

import datetime as dt
import unicodedata
from pathlib import Path

import pypdfium2
import pytest
import zxingcpp
from pypdf import PdfReader

from dossiers.calendar import VN_TZ
from dossiers.forms.notices import (
    Citizen,
    render_apology,
    render_receipt,
    render_supplement_request,
)
from dossiers.forms.pdf import Office
from dossiers.forms.results import render_result
from dossiers.forms.words import date_words, number_words
from dossiers.procedures import Catalogue
from motcua.errors import BadArgumentError
from motcua.pdfium import page_image

CODE = "H40.29.10-260424-0007"
CITIZEN = Citizen("Nguyễn Thị Hằng", "thôn Lệ Sơn 1, xã Hòa Tiến", "0905 123 456")
A4 = (595.28, 841.89)
A5 = (419.53, 595.28)


def text_of(path: Path) -> str:
    reader = PdfReader(path)
    text = "\n".join(page.extract_text() or "" for page in reader.pages)
    return " ".join(unicodedata.normalize("NFC", text).split())


def page_size(path: Path) -> tuple[float, float]:
    box = PdfReader(path).pages[0].mediabox
    return (round(float(box.width), 2), round(float(box.height), 2))


def fonts_of(path: Path) -> set[str]:
    page = PdfReader(path).pages[0]
    resources = page["/Resources"]["/Font"]
    return {str(resources[name].get_object()["/BaseFont"]) for name in resources}


def test_receipt(tmp_path: Path, office: Office, catalogue: Catalogue) -> None:
    out = tmp_path / "receipt.pdf"
    rendered = render_receipt(
        out,
        office=office,
        dossier_code=CODE,
        citizen=CITIZEN,
        procedure=catalogue.get("dang-ky-khai-sinh"),
        received_kinds=["to-khai-khai-sinh", "cccd"],
        received_at=dt.datetime(2026, 4, 24, 9, 5, tzinfo=VN_TZ),
        due_date=dt.date(2026, 4, 24),
        clerk_name="Lê Văn Tâm",
    )
    assert rendered.pages == 1 and page_size(out) == A5
    text = text_of(out)
    for expected in [
        "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ",
        f"Mã hồ sơ: {CODE}",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "Hòa Tiến, ngày 24 tháng 4 năm 2026",
        "Tiếp nhận hồ sơ của: Nguyễn Thị Hằng",
        "Nội dung yêu cầu giải quyết: Đăng ký khai sinh",
        "1) Tờ khai đăng ký khai sinh",
        "2) Căn cước công dân của người yêu cầu",
        "4. Thời gian nhận hồ sơ: 09 giờ 05 phút, ngày 24 tháng 4 năm 2026",
        "5. Thời gian trả kết quả giải quyết hồ sơ: ngày 24 tháng 4 năm 2026",
        "NGƯỜI TIẾP NHẬN HỒ SƠ",
        "Lê Văn Tâm",
    ]:
        assert expected in text, expected
    assert any("LiberationSerif" in f for f in fonts_of(out))  # embedded Vietnamese font

    pdf = pypdfium2.PdfDocument(out)
    image = pdf[0].render(scale=200 / 72).to_pil()
    codes = zxingcpp.read_barcodes(image)
    assert [(c.format, c.text) for c in codes] == [(zxingcpp.BarcodeFormat.QRCode, CODE)]


STATUS_URL = "https://tracuu.hoatien.gov.vn/tra-cuu/7KQ2M9XD4PAR3TWB"
LOOKUP = "7KQ2-M9XD-4PAR-3TWB"


def qr_texts(path: Path) -> list[str]:
    """The QR codes decoded from the first page's pixels (200 dpi), as a phone would read them."""
    image, _ = page_image(path, 0, dpi=200)
    return [c.text for c in zxingcpp.read_barcodes(image)
            if c.format == zxingcpp.BarcodeFormat.QRCode]  # fmt: skip


def test_receipt_qr_opens_the_status_page(
    tmp_path: Path, office: Office, catalogue: Catalogue
) -> None:
    out = tmp_path / "receipt.pdf"
    render_receipt(
        out,
        office=office,
        dossier_code=CODE,
        citizen=CITIZEN,
        procedure=catalogue.get("dang-ky-khai-sinh"),
        received_kinds=["to-khai-khai-sinh", "cccd"],
        received_at=dt.datetime(2026, 4, 24, 9, 5, tzinfo=VN_TZ),
        due_date=dt.date(2026, 4, 24),
        status_url=STATUS_URL,
        lookup_code=LOOKUP,
    )
    assert qr_texts(out) == [STATUS_URL]
    text = text_of(out)
    assert f"Mã tra cứu hồ sơ {LOOKUP}" in text
    assert (
        "7. Tra cứu tình trạng hồ sơ: quét mã QR, hoặc vào https://tracuu.hoatien.gov.vn/tra-cuu "
        f"và nhập mã tra cứu {LOOKUP}" in text
    )
    assert f"Mã hồ sơ: {CODE}" in text  # the code is still printed, only the QR changed


def test_supplement_request_carries_the_status_qr(
    tmp_path: Path, office: Office, catalogue: Catalogue
) -> None:
    out = tmp_path / "mau02.pdf"
    render_supplement_request(
        out,
        office=office,
        citizen=CITIZEN,
        procedure=catalogue.get("xac-nhan-tinh-trang-hon-nhan"),
        missing_kinds=["cccd"],
        requested_on=dt.date(2026, 4, 24),
        dossier_code=CODE,
        status_url=STATUS_URL,
        lookup_code=LOOKUP,
    )
    assert qr_texts(out) == [STATUS_URL]
    assert f"Mã tra cứu hồ sơ {LOOKUP}" in text_of(out)


def test_supplement_request(tmp_path: Path, office: Office, catalogue: Catalogue) -> None:
    out = tmp_path / "mau02.pdf"
    render_supplement_request(
        out,
        office=office,
        citizen=CITIZEN,
        procedure=catalogue.get("xac-nhan-tinh-trang-hon-nhan"),
        missing_kinds=["cccd"],
        requested_on=dt.date(2026, 4, 24),
        reasons=["Chưa xuất trình giấy tờ tùy thân"],
    )
    text = text_of(out)
    assert page_size(out) == A4
    for expected in [
        "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ",
        "Hồ sơ của: Nguyễn Thị Hằng",
        "1. Căn cước công dân của người yêu cầu",
        "Lý do: Chưa xuất trình giấy tờ tùy thân",
        "số điện thoại 0236 3846 123",
    ]:
        assert expected in text, expected


def test_apology(tmp_path: Path, office: Office, catalogue: Catalogue) -> None:
    out = tmp_path / "mau04.pdf"
    render_apology(
        out,
        office=office,
        dossier_code=CODE,
        citizen=CITIZEN,
        procedure=catalogue.get("xac-nhan-tinh-trang-hon-nhan"),
        received_at=dt.datetime(2026, 4, 24, 9, tzinfo=VN_TZ),
        due_date=dt.date(2026, 5, 4),
        new_due_date=dt.date(2026, 5, 6),
        reasons=["Cần xác minh nơi cư trú trước đây"],
        issued_on=dt.date(2026, 5, 4),
        signer_name="Phạm Văn Hùng",
    )
    text = text_of(out)
    for expected in [
        "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ",
        "Thời hạn trả kết quả giải quyết hồ sơ: ngày 04 tháng 5 năm 2026",
        "xin lỗi ông/bà và sẽ trả kết quả giải quyết hồ sơ cho ông/bà vào ngày 06 tháng 5 năm 2026",
        f"Mã hồ sơ: {CODE}",
        "TM. ỦY BAN NHÂN DÂN CHỦ TỊCH",
        "Phạm Văn Hùng",
    ]:
        assert expected in text, expected


BIRTH_FIELDS = {
    "child_name": "Nguyễn Minh Khôi",
    "child_birth_date": "15/03/2026",
    "child_sex": "Nam",
    "child_ethnicity": "Kinh",
    "child_nationality": "Việt Nam",
    "child_birth_place": "Bệnh viện Phụ sản - Nhi Đà Nẵng",
    "child_home_town": "xã Hòa Tiến, huyện Hòa Vang, thành phố Đà Nẵng",
    "mother_name": unicodedata.normalize("NFD", "Trần Thị Hằng"),  # as some PDFs deliver it
    "mother_birth_year": "1995",
    "mother_ethnicity": "Kinh",
    "mother_nationality": "Việt Nam",
    "mother_residence": "thôn Lệ Sơn 1, xã Hòa Tiến, huyện Hòa Vang, thành phố Đà Nẵng",
}


def test_birth_extract(tmp_path: Path, office: Office) -> None:
    out = tmp_path / "tlks.pdf"
    result = render_result(
        "trich-luc-khai-sinh",
        out,
        fields=BIRTH_FIELDS,
        office=office,
        dossier_code=CODE,
        issued_on=dt.date(2026, 4, 24),
    )
    assert page_size(out) == A4
    text = text_of(out)
    for expected in [
        "TRÍCH LỤC KHAI SINH",
        "Họ, chữ đệm, tên: NGUYỄN MINH KHÔI",
        "Ngày, tháng, năm sinh: 15/03/2026",
        "Ghi bằng chữ: Ngày mười lăm, tháng ba, năm hai nghìn không trăm hai mươi sáu",
        "Họ, chữ đệm, tên người mẹ: TRẦN THỊ HẰNG",
        "Nơi đăng ký khai sinh: Ủy ban nhân dân xã Hòa Tiến",
        "NGƯỜI KÝ TRÍCH LỤC",
    ]:
        assert expected in text, expected
    assert "người cha" not in text  # no father declared: the optional rows are left out

    box = result.signature_box
    width, height = A4
    assert box.page == result.pages - 1 == 0
    assert width / 2 < box.x1 < box.x2 <= width and 0 < box.y1 < box.y2 < height / 3
    assert box.x2 - box.x1 > 150 and box.y2 - box.y1 > 80  # room for signature and seal
    page = pypdfium2.PdfDocument(out)[0]
    assert page.get_textpage().get_text_bounded(*box.box).strip() == ""  # the box is empty
    above = page.get_textpage().get_text_bounded(box.x1, box.y2, box.x2, box.y2 + 40)
    assert "NGƯỜI KÝ TRÍCH LỤC" in unicodedata.normalize("NFC", above)


def test_marital_status_confirmation(tmp_path: Path, office: Office) -> None:
    out = tmp_path / "xn.pdf"
    fields = {
        "requester_name": "Lê Thị Thu Hà",
        "birth_date": "1998-07-02",
        "sex": "Nữ",
        "ethnicity": "Kinh",
        "nationality": "Việt Nam",
        "id_paper": "Căn cước công dân số 048198000123",
        "residence": "thôn Lệ Sơn 2, xã Hòa Tiến",
        "marital_status": "Chưa đăng ký kết hôn với ai",
        "purpose": "Đăng ký kết hôn",
        "registration_number": "12/2026",
    }
    result = render_result(
        "xac-nhan-tinh-trang-hon-nhan",
        out,
        fields=fields,
        office=office,
        dossier_code=CODE,
        issued_on=dt.date(2026, 5, 4),
        signer_name="Phạm Văn Hùng",
    )
    text = text_of(out)
    for expected in [
        "GIẤY XÁC NHẬN TÌNH TRẠNG HÔN NHÂN",
        "Số: 12/2026",
        "Xét đề nghị của ông/bà Lê Thị Thu Hà",
        "Ủy ban nhân dân xã Hòa Tiến xác nhận:",
        "Ngày, tháng, năm sinh: 02/07/1998",
        "Tình trạng hôn nhân: Chưa đăng ký kết hôn với ai",
        "Giấy này có giá trị sử dụng trong thời hạn 06 tháng, kể từ ngày cấp.",
        "TM. ỦY BAN NHÂN DÂN CHỦ TỊCH",
        "Phạm Văn Hùng",
    ]:
        assert expected in text, expected
    assert result.signature_box.x1 > A4[0] / 2


def test_missing_fields_are_named(tmp_path: Path, office: Office) -> None:
    fields = {k: v for k, v in BIRTH_FIELDS.items() if k not in {"child_sex", "mother_name"}}
    with pytest.raises(BadArgumentError, match=r"child_sex \(Giới tính\).*mother_name"):
        render_result(
            "trich-luc-khai-sinh",
            tmp_path / "x.pdf",
            fields=fields,
            office=office,
            dossier_code=CODE,
            issued_on=dt.date(2026, 4, 24),
        )
    with pytest.raises(BadArgumentError, match="not a date"):
        render_result(
            "trich-luc-khai-sinh",
            tmp_path / "x.pdf",
            fields={**BIRTH_FIELDS, "child_birth_date": "tháng ba"},
            office=office,
            dossier_code=CODE,
            issued_on=dt.date(2026, 4, 24),
        )
    with pytest.raises(BadArgumentError, match="no result template"):
        render_result(
            "giay-phep-xay-dung",
            tmp_path / "x.pdf",
            fields={},
            office=office,
            dossier_code=CODE,
            issued_on=dt.date(2026, 4, 24),
        )


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (1, "một"),
        (15, "mười lăm"),
        (21, "hai mươi mốt"),
        (105, "một trăm lẻ năm"),
        (1975, "một nghìn chín trăm bảy mươi lăm"),
        (2005, "hai nghìn không trăm lẻ năm"),
        (2026, "hai nghìn không trăm hai mươi sáu"),
    ],
)
def test_number_words(n: int, words: str) -> None:
    assert number_words(n) == words


def test_date_words() -> None:
    assert (
        date_words(dt.date(2026, 4, 1))
        == "Ngày một, tháng tư, năm hai nghìn không trăm hai mươi sáu"
    )


def test_signing_body() -> None:
    assert Office(name="Ủy ban nhân dân xã Hòa Tiến").signing_body == "ỦY BAN NHÂN DÂN"
    centre = Office(name="Trung tâm Phục vụ hành chính công xã Hòa Tiến")
    assert centre.signing_body == "TRUNG TÂM PHỤC VỤ HÀNH CHÍNH CÔNG XÃ HÒA TIẾN"
    assert Office(name="x", collective="Hội đồng nhân dân").signing_body == "HỘI ĐỒNG NHÂN DÂN"


def test_result_number_is_printed(tmp_path: Path, office: Office) -> None:
    def render(name: str, **extra: str) -> str:
        render_result(
            "trich-luc-khai-sinh",
            tmp_path / name,
            fields={**BIRTH_FIELDS, "registration_number": "99/typed"},
            office=office,
            dossier_code=CODE,
            issued_on=dt.date(2026, 4, 24),
            **extra,
        )
        return text_of(tmp_path / name)

    numbered = render("numbered.pdf", result_number="12/TLKS")
    assert "Số: 12/TLKS" in numbered and "99/typed" not in numbered  # the book's number wins
    assert "Số: 99/typed" in render("typed.pdf")
    render_result(
        "loi-chung-ban-sao",
        tmp_path / "copy.pdf",
        fields={"document_title": "Bằng tốt nghiệp", "book_number": "01/2026-SCT/BS"},
        office=office,
        dossier_code=CODE,
        issued_on=dt.date(2026, 4, 24),
        result_number="7/SCT-BS",
    )
    assert "Số chứng thực: 7/SCT-BS" in text_of(tmp_path / "copy.pdf")


def test_unnumbered_result_prints_a_blank(tmp_path: Path, office: Office) -> None:
    fields = {k: v for k, v in BIRTH_FIELDS.items() if k != "registration_number"}
    render_result(
        "trich-luc-khai-sinh",
        tmp_path / "blank.pdf",
        fields=fields,
        office=office,
        dossier_code=CODE,
        issued_on=dt.date(2026, 4, 24),
    )
    assert "Số: …………" in text_of(tmp_path / "blank.pdf")
