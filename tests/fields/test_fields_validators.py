"""Validators: ID number structure, dates, the card expiry rule, names, numbers in words."""

from __future__ import annotations

import datetime as dt

import pytest

from extractors.fields import validators as v
from extractors.fields.locate import Value
from extractors.fields.normalise import normalise
from extractors.fields.numwords import (
    date_to_words,
    number_to_words,
    words_to_date,
    words_to_number,
)
from extractors.fields.templates import FieldSpec


def test_province_list_is_the_circular_07_2016_list() -> None:
    codes = v.provinces()
    assert len(codes) == 63
    assert codes["001"] == "Hà Nội" and codes["079"] == "Hồ Chí Minh" and codes["096"] == "Cà Mau"
    assert "003" not in codes


def test_valid_number_consistent_with_birth_and_sex() -> None:
    assert v.check_cccd("038093001234", birth=dt.date(1993, 5, 1), sex="Nam") == []
    assert v.check_cccd("001305001234", birth=dt.date(2005, 5, 1), sex="Nữ") == []
    assert v.check_cccd("079195000001", birth_year=1995, sex="Nữ") == []


@pytest.mark.parametrize(
    ("number", "fragment"),
    [
        ("03809300123", "12 chữ số"),
        ("0380930012a4", "12 chữ số"),
        ("003093001234", "mã tỉnh 003"),
        ("038193001234", "thế kỷ/giới tính"),  # female digit for a man
        ("038293001234", "thế kỷ/giới tính"),  # 2000s digit for a man born 1993
        ("038094001234", "năm sinh"),
    ],
)
def test_number_problems(number: str, fragment: str) -> None:
    problems = v.check_cccd(number, birth=dt.date(1993, 5, 1), sex="Nam")
    assert any(fragment in p for p in problems), problems


def test_century_sex_digit() -> None:
    assert v.century_sex_digit(1999, "Nam") == 0
    assert v.century_sex_digit(1999, "Nữ") == 1
    assert v.century_sex_digit(2000, "Nam") == 2
    assert v.century_sex_digit(2024, "Nữ") == 3
    assert v.century_sex_digit(2100, "Nam") == 4


def test_real_dates_only() -> None:
    assert v.parse_date("29/02/2024") == dt.date(2024, 2, 29)
    assert v.parse_date("29/02/2023") is None
    assert v.parse_date("31/04/2020") is None
    assert v.parse_date("15-03-1990") == dt.date(1990, 3, 15)
    assert v.parse_date("15/3/90") is None


def test_date_order() -> None:
    birth, issued, expiry = dt.date(1990, 1, 2), dt.date(2021, 5, 1), dt.date(2030, 1, 2)
    assert v.check_dates_order(birth, issued, expiry) == []
    assert v.check_dates_order(issued, birth, expiry)
    assert v.check_dates_order(birth, expiry, issued)


@pytest.mark.parametrize(
    ("issued_age", "expected_age"),
    [
        (14.5, 25),
        (22.9, 25),  # more than two years before 25: to 25
        (23.1, 40),
        (24.9, 40),  # within two years of 25: to 40
        (30, 40),
        (38.1, 60),  # within two years of 40: to 60
        (45, 60),
        (57.9, 60),
        (58.1, None),
        (70, None),  # within two years of 60, or older: no expiry
    ],
)
def test_expiry_rule(issued_age: float, expected_age: int | None) -> None:
    birth = dt.date(1960, 6, 15)
    issued = birth + dt.timedelta(days=round(issued_age * 365.25))
    expiry = v.expected_expiry(birth, issued)
    if expected_age is None:
        assert expiry is None
    else:
        assert expiry == dt.date(1960 + expected_age, 6, 15)


def test_check_expiry_text() -> None:
    birth, issued = dt.date(1990, 3, 15), dt.date(2021, 6, 1)
    assert v.check_expiry("2030-03-15", birth=birth, issued=issued) == []
    assert v.check_expiry("2031-03-15", birth=birth, issued=issued)
    assert v.check_expiry("Không thời hạn", birth=birth, issued=issued)
    assert v.check_expiry("Không thời hạn", birth=dt.date(1950, 1, 1), issued=issued) == []
    # Without the issue date only the milestone birthdays are allowed.
    assert v.check_expiry("2050-03-15", birth=birth, issued=None) == []
    assert v.check_expiry("2050-03-16", birth=birth, issued=None)


@pytest.mark.parametrize("name", ["NGUYỄN VĂN AN", "Nguyễn Văn An", "Đỗ Thị Ánh Ngọc", "LÝ A"])
def test_good_names(name: str) -> None:
    assert v.check_name(name) == []


@pytest.mark.parametrize(
    "name",
    ["nguyễn văn an", "NguyỄn Văn An", "Nguyễn văn An", "Nguyễn", "Nguy3n Văn An", "Trần Thị B."],
)
def test_bad_names(name: str) -> None:
    assert v.check_name(name)


@pytest.mark.parametrize(
    ("number", "words"),
    [
        (0, "không"),
        (5, "năm"),
        (10, "mười"),
        (15, "mười lăm"),
        (21, "hai mươi mốt"),
        (24, "hai mươi tư"),
        (105, "một trăm linh năm"),
        (1990, "một nghìn chín trăm chín mươi"),
        (2005, "hai nghìn không trăm linh năm"),
        (2024, "hai nghìn không trăm hai mươi tư"),
    ],
)
def test_number_words(number: int, words: str) -> None:
    assert number_to_words(number) == words
    assert words_to_number(words) == number


def test_number_word_variants() -> None:
    assert words_to_number("hai ngàn không trăm lẻ năm") == 2005
    assert words_to_number("hai mươi bốn") == 24
    assert words_to_number("hai mươi lăm") == 25
    assert words_to_number("hai ba") is None
    assert words_to_number("hai mươi bảy con") is None


def test_dates_in_words_round_trip_and_may() -> None:
    day = dt.date(2024, 5, 5)  # "tháng năm năm": May, then the word for year
    assert date_to_words(day) == "ngày năm tháng năm năm hai nghìn không trăm hai mươi tư"
    assert words_to_date(date_to_words(day)) == day
    for offset in range(0, 20000, 137):
        d = dt.date(1950, 1, 1) + dt.timedelta(days=offset)
        assert words_to_date(date_to_words(d)) == d
    assert words_to_date("Ngày mười lăm tháng ba năm hai nghìn không trăm hai mươi tư") == (
        dt.date(2024, 3, 15)
    )
    assert words_to_date("ngày ba mươi tháng hai năm hai nghìn") is None


def test_date_words_against_digits() -> None:
    words = "Ngày mười lăm tháng ba năm hai nghìn không trăm hai mươi tư"
    assert v.check_date_words(words, "2024-03-15") == []
    assert v.check_date_words(words, "2024-03-16")
    assert v.check_date_words("mười lăm tháng", "2024-03-15")


def test_surname_repair_only_when_one_family_name_fits() -> None:
    assert v.repair_surname("NGUYÊN HỮU THẮNG") == "NGUYỄN HỮU THẮNG"
    assert v.repair_surname("Trân Ngọc Lan") == "Trần Ngọc Lan"
    assert v.repair_surname("Nguyễn Văn An") is None  # already a known family name
    assert v.repair_surname("Xyz Văn An") is None  # nothing fits: left alone
    assert v.check_name("NGUYÊN HỮU THẮNG")  # the unrepaired name is flagged


def test_name_syllable_with_a_lost_or_wrong_mark_is_flagged() -> None:
    assert v.check_name("LÊ MINH HỪNG")  # Hùng / Hưng
    assert v.check_name("Vũ Thành Thẳng")
    assert v.check_name("Lê Minh Hưng") == []
    assert v.check_name("Lê Minh Zyx") == []  # unknown syllables are not judged


def test_address_unit_words_and_province_respelled() -> None:
    assert v.repair_address("Tố 4, Phường Bãi Cháy, Thành phố Hạ Long, Quảng Ninh") == (
        "Tổ 4, Phường Bãi Cháy, Thành phố Hạ Long, Quảng Ninh"
    )
    assert v.repair_address("Thôn 3, Xá Quảng Tân, Huyên Quảng Xương, Thanh Hoá") == (
        "Thôn 3, Xã Quảng Tân, Huyện Quảng Xương, Thanh Hóa"
    )
    assert v.repair_address("Số 12, đường Lê Lợi, Phường 5, Quận Gò Vấp, Hồ Chí Minh") is None
    assert v.check_address("Thôn 3, Xã Quảng Tân, Huyện Quảng Xương, Thanh Hóa") == []
    assert v.check_address("Thôn 3, Xã Quảng Tân, Huyện Quảng Xương, Thanh Hỏa")


@pytest.mark.parametrize(
    ("line", "number"),
    [
        ("Căn cước công dân số 001190012345, cấp ngày 01/02/2021", "001190012345"),
        ("CCCD số 0011 9001 2345 cấp ngày 01-02-2021 tại Cục Cảnh sát", "001190012345"),
        ("Chứng minh nhân dân số 123456789 do Công an tỉnh cấp", "123456789"),
        ("001190012345", "001190012345"),
    ],
)
def test_identity_paper_sentence_gives_its_number(line: str, number: str) -> None:
    spec = FieldSpec(key="so_dinh_danh", labels=("Giấy tờ tùy thân",), normalise="id_paper")
    value, problems = normalise(spec, Value(line, ()))
    assert (value, problems) == (number, [])


def test_identity_paper_sentence_without_a_number_is_flagged() -> None:
    spec = FieldSpec(key="so_dinh_danh", labels=("Giấy tờ tùy thân",), normalise="id_paper")
    value, problems = normalise(spec, Value("Hộ chiếu cấp ngày 01/02/2021", ()))
    assert value == "Hộ chiếu cấp ngày 01/02/2021"  # kept as read, for the clerk
    assert problems == ["không tìm thấy số giấy tờ (9 hoặc 12 chữ số) trong dòng"]
