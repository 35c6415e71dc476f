"""Decree 30/2020 header shapes on word boxes laid out in code: a body with no parent on two
lines, parent and issuer, two-level issuers, old tone placement, received and urgency stamps."""

from __future__ import annotations

from test_fields_engine import page_of

from extractors.fields import extract_from_pages
from extractors.fields.normalise import modern_tones
from extractors.ocr import OcrPage


def letter(left: list[str], *, number: str = "Số: 575 /UBND-KTTH", extra=()) -> OcrPage:
    """A one-page letter whose left header column holds `left` (one string per line)."""
    rows = [(300, 200 + 60 * n, text) for n, text in enumerate(left)]
    rows += [
        (1250, 200, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"),
        (1400, 260, "Độc lập - Tự do - Hạnh phúc"),
        (420, 520, number),
        (1300, 520, "Quảng Ngãi, ngày 04 tháng 02 năm 2025"),
        (330, 580, "V/v tham gia ý kiến dự thảo"),
        (600, 700, "Kính gửi: Các sở, ban, ngành"),
        (300, 800, "Thực hiện chỉ đạo của cấp trên, đề nghị các đơn vị triển khai."),
        (300, 1000, "Nơi nhận:"),
        (1500, 1000, "KT. CHỦ TỊCH"),
        (300, 1050, "- Như trên;"),
        (1480, 1050, "PHÓ CHỦ TỊCH"),
        (300, 1100, "- Lưu: VT, KTTH."),
        (1450, 1300, "Trần Văn Hùng"),
        *extra,
    ]
    return page_of(sorted(rows, key=lambda r: (r[1], r[0])))


def fields(page: OcrPage) -> dict[str, tuple[object, bool]]:
    result = extract_from_pages([page], "van-ban")
    return {k: (f.value, f.needs_review) for k, f in result.fields.items()}


def test_body_without_parent_on_two_lines_is_one_issuer() -> None:
    got = fields(letter(["ỦY BAN NHÂN DÂN", "TỈNH QUẢNG NGÃI"]))
    assert got["co_quan_ban_hanh"] == ("ỦY BAN NHÂN DÂN TỈNH QUẢNG NGÃI", False)
    assert "co_quan_chu_quan" not in got or got["co_quan_chu_quan"][0] is None


def test_council_without_parent_and_old_tone_placement() -> None:
    got = fields(letter(["HỘI ĐỒNG NHÂN DÂN", "HUYỆN SƠN TỊNH"]))
    assert got["co_quan_ban_hanh"] == ("HỘI ĐỒNG NHÂN DÂN HUYỆN SƠN TỊNH", False)
    got = fields(letter(["UỶ BAN NHÂN DÂN", "XÃ HOÀ BÌNH"]))
    assert got["co_quan_ban_hanh"] == ("ỦY BAN NHÂN DÂN XÃ HÒA BÌNH", False)


def test_parent_line_goes_to_co_quan_chu_quan() -> None:
    got = fields(letter(["UBND THÀNH PHỐ ĐÀ NẴNG", "SỞ GIÁO DỤC VÀ ĐÀO TẠO"]))
    assert got["co_quan_chu_quan"] == ("UBND THÀNH PHỐ ĐÀ NẴNG", False)
    assert got["co_quan_ban_hanh"] == ("SỞ GIÁO DỤC VÀ ĐÀO TẠO", False)
    got = fields(letter(["BỘ TƯ PHÁP", "CỤC HỘ TỊCH, QUỐC TỊCH, CHỨNG THỰC"]))
    assert got["co_quan_chu_quan"] == ("BỘ TƯ PHÁP", False)
    assert got["co_quan_ban_hanh"] == ("CỤC HỘ TỊCH, QUỐC TỊCH, CHỨNG THỰC", False)


def test_two_level_issuer_under_a_parent() -> None:
    got = fields(letter(["UBND TỈNH QUẢNG NGÃI", "BAN CHỈ ĐẠO 138"], number="Số: 04/QĐ-BCĐ138"))
    assert got["co_quan_chu_quan"] == ("UBND TỈNH QUẢNG NGÃI", False)
    assert got["co_quan_ban_hanh"] == ("BAN CHỈ ĐẠO 138", False)


def test_issuer_name_continued_on_a_second_line() -> None:
    got = fields(letter(["UBND TỈNH QUẢNG NGÃI", "SỞ TÀI NGUYÊN", "VÀ MÔI TRƯỜNG"]))
    assert got["co_quan_ban_hanh"] == ("SỞ TÀI NGUYÊN VÀ MÔI TRƯỜNG", False)


def test_closed_set_words_of_the_header_are_respelled() -> None:
    got = fields(letter(["ỦY BAN NHÂN DÂN", "TĨNH QUẢNG NGÃI"]))  # OCR: TĨNH for TỈNH
    assert got["co_quan_ban_hanh"] == ("ỦY BAN NHÂN DÂN TỈNH QUẢNG NGÃI", False)
    got = fields(letter(["UBND HUYÊN SƠN TỊNH", "PHÒNG TƯ PHÁP"]))
    assert got["co_quan_chu_quan"][0] == "UBND HUYỆN SƠN TỊNH"


def test_standalone_head_without_its_place_line_is_flagged() -> None:
    got = fields(letter(["ỦY BAN NHÂN DÂN"]))
    assert got["co_quan_ban_hanh"] == ("ỦY BAN NHÂN DÂN", True)


def test_unexplained_first_line_is_flagged_not_guessed() -> None:
    got = fields(letter(["NGUYỄN VĂN AN", "SỞ TƯ PHÁP"]))
    assert got["co_quan_ban_hanh"][1] is True
    assert got["co_quan_chu_quan"][1] is True


def test_received_stamp_is_never_the_number_or_date() -> None:
    stamp = [
        (120, 380, "CV ĐẾN"),
        (120, 420, "Số: 2352"),
        (120, 460, "Ngày: 21/3/18"),
    ]
    page = letter(["ỦY BAN NHÂN DÂN", "TỈNH QUẢNG NGÃI"], extra=stamp)
    got = fields(page)
    assert got["so_ky_hieu"] == ("575/UBND-KTTH", False)
    assert got["ngay_ban_hanh"] == ("2025-02-04", False)
    assert got["co_quan_ban_hanh"] == ("ỦY BAN NHÂN DÂN TỈNH QUẢNG NGÃI", False)


def test_received_stamp_above_the_header_number_with_its_own_symbol() -> None:
    stamp = [(1700, 560, "ĐẾN Số: 12/VP"), (1700, 600, "Ngày: 05 tháng 02 năm 2025")]
    got = fields(letter(["ỦY BAN NHÂN DÂN", "TỈNH QUẢNG NGÃI"], extra=stamp))
    assert got["so_ky_hieu"] == ("575/UBND-KTTH", False)
    assert got["ngay_ban_hanh"] == ("2025-02-04", False)


def test_urgency_stamp_goes_to_do_khan_not_the_issuer() -> None:
    page = letter(["ỦY BAN NHÂN DÂN", "TỈNH QUẢNG NGÃI"], extra=[(320, 640, "HỎA TỐC")])
    got = fields(page)
    assert got["do_khan"] == ("Hỏa tốc", False)
    assert got["co_quan_ban_hanh"] == ("ỦY BAN NHÂN DÂN TỈNH QUẢNG NGÃI", False)
    page = letter(["UBND TỈNH QUẢNG NGÃI", "SỞ TƯ PHÁP"], extra=[(320, 100, "KHẨN")])
    got = fields(page)
    assert got["do_khan"] == ("Khẩn", False)
    assert got["co_quan_chu_quan"] == ("UBND TỈNH QUẢNG NGÃI", False)


def test_modern_tones_only_at_the_end_of_a_syllable() -> None:
    assert modern_tones("UỶ BAN") == "ỦY BAN"
    assert modern_tones("Hoà Bình, khoẻ") == "Hòa Bình, khỏe"
    assert modern_tones("HOÀNG quý thuỷ") == "HOÀNG quý thủy"


def test_date_with_glued_words_and_unreadable_digits() -> None:
    def with_date(date: str) -> dict[str, tuple[object, bool]]:
        lines = [
            (300, 200, "ỦY BAN NHÂN DÂN"),
            (300, 260, "TỈNH QUẢNG NGÃI"),
            (1250, 200, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"),
            (420, 520, "Số: 01/CT-UBND"),
            (1300, 520, date),
            (1100, 600, "CHỈ THỊ"),
            (700, 660, "Về việc triển khai hóa đơn điện tử"),
        ]
        return fields(page_of(lines))

    assert with_date("Quảng Ngãi, ngày 04tháng 02 năm 2025")["ngay_ban_hanh"] == (
        "2025-02-04",
        False,
    )
    assert with_date("Quảng Ngãi, ngày 04 tháng01 năm 2021")["ngay_ban_hanh"][0] == "2021-01-04"
    unread = with_date("Quảng Ngãi, ngày0P tháng 02 năm 2025")
    assert unread["ngay_ban_hanh"][1] is True
    assert unread["dia_danh"] == ("Quảng Ngãi", False)
    assert with_date("Quảng Ngãi, ngày 3 năm 2018")["ngay_ban_hanh"][1] is True


def test_parent_line_glued_to_the_motto_on_one_row() -> None:
    lines = [
        (300, 200, "UBND TỈNH QUẢNG NGÃI CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"),
        (330, 260, "BAN CHỈ ĐẠO 138"),
        (1300, 270, "Độc lập - Tự do - Hạnh phúc"),
        (420, 380, "Số: 04/QĐ-BCĐ138"),
        (1300, 390, "Quảng Ngãi, ngày 05 tháng 02 năm 2025"),
        (1100, 480, "QUYẾT ĐỊNH"),
        (700, 540, "Về việc công nhận địa bàn trọng điểm"),
    ]
    got = fields(page_of(lines))
    assert got["co_quan_chu_quan"] == ("UBND TỈNH QUẢNG NGÃI", False)
    assert got["co_quan_ban_hanh"] == ("BAN CHỈ ĐẠO 138", False)


def test_a_stamp_beside_the_title_is_not_the_subject() -> None:
    lines = [
        (300, 200, "ỦY BAN NHÂN DÂN"),
        (300, 260, "TỈNH QUẢNG NGÃI"),
        (1250, 200, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"),
        (420, 380, "Số: 07/CT-UBND"),
        (1300, 380, "Quảng Ngãi, ngày 20 tháng 3 năm 2018"),
        (1100, 480, "CHỈ THỊ"),
        (40, 540, "CV ĐẾN"),
        (40, 580, "Số: 2352"),
        (700, 560, "Về việc tăng cường công tác thi hành án hành chính"),
        (40, 620, "Ngày: 21/3/18"),
        (900, 620, "trên địa bàn tỉnh"),
    ]
    got = fields(page_of(sorted(lines, key=lambda r: (r[1], r[0]))))
    assert got["trich_yeu"] == (
        "Về việc tăng cường công tác thi hành án hành chính trên địa bàn tỉnh",
        False,
    )
    assert got["so_ky_hieu"] == ("07/CT-UBND", False)
