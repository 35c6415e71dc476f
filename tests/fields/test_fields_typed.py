"""Values a clerk types for a field: stored in extraction's form, or refused with the reason."""

from __future__ import annotations

import pytest

from extractors.fields.typed import Typed, shown, typed_value

DECL = "to-khai-khai-sinh"


@pytest.mark.parametrize(
    ("kind", "key", "text", "stored"),
    [
        ("cccd", "ngay_sinh", "5/4/2003", "2003-04-05"),
        ("cccd", "ngay_sinh", "05-04-2003", "2003-04-05"),
        ("cccd", "ngay_sinh", "2003-04-05", "2003-04-05"),
        ("cccd", "co_gia_tri_den", "KHÔNG THỜI HẠN", "Không thời hạn"),
        ("cccd", "so_dinh_danh", "001 203 012 345", "001203012345"),
        ("cccd", "gioi_tinh", "nu", "Nữ"),
        (DECL, "me.nam_sinh", "1985", "1985"),
        (DECL, "khai_sinh.dan_toc", "h'mong", "H'Mông"),
        (DECL, "khai_sinh.dan_toc", "Mông", "Mông"),
        (DECL, "khai_sinh.ho_ten", "  Phạm   Gia Bảo ", "Phạm Gia Bảo"),
        (DECL, "khai_sinh.ho_ten", "Pha\u0323m Gia Ba\u0309o", "Phạm Gia Bảo"),  # NFD → NFC
        ("van-ban", "so_ky_hieu", "12 /QĐ-UBND", "12/QĐ-UBND"),
        ("van-ban", "loai_van_ban", "quyet dinh", "Quyết định"),
        ("cccd", "ngay_sinh", "", ""),  # clearing a field
        ("no-such-kind", "x", "as typed", "as typed"),
    ],
)
def test_a_good_value_is_stored_in_extractions_form(
    kind: str, key: str, text: str, stored: str
) -> None:
    assert typed_value(kind, key, text) == Typed(stored)


@pytest.mark.parametrize(
    ("kind", "key", "text", "reason"),
    [
        ("cccd", "ngay_sinh", "31/02/2003", "phải là ngày có thật, dạng dd/mm/yyyy"),
        ("cccd", "ngay_sinh", "2003-13-01", "phải là ngày có thật, dạng dd/mm/yyyy"),
        ("cccd", "so_dinh_danh", "0012O3012345", "chỉ được gồm chữ số"),
        ("cccd", "so_dinh_danh", "00120301234", "không đúng định dạng"),
        ("cccd", "so_dinh_danh", "999203012345", "mã tỉnh 999 không có trong danh mục"),
        ("cccd", "gioi_tinh", "khác", "giới tính phải là Nam hoặc Nữ"),
        (DECL, "me.nam_sinh", "85", "năm phải gồm 4 chữ số"),
        (DECL, "khai_sinh.dan_toc", "Kinhh", "không có trong danh mục; có phải “Kinh”?"),
        (DECL, "khai_sinh.quoc_tich", "Lào", "phải là một trong: Việt Nam"),
    ],
)
def test_a_wrong_value_is_refused_with_the_reason(
    kind: str, key: str, text: str, reason: str
) -> None:
    typed = typed_value(kind, key, text)
    assert typed.problem is not None and typed.problem.startswith(reason), typed
    assert typed.value == text  # kept as typed, for the message


def test_list_fields_keep_their_lines_for_the_caller_to_split() -> None:
    assert typed_value("van-ban", "noi_nhan", "Như trên;\r\nLưu: VT.") == Typed(
        "Như trên;\r\nLưu: VT."
    )


def test_stored_dates_are_shown_as_people_write_them() -> None:
    assert shown("cccd", "ngay_sinh", "2003-04-05") == "05/04/2003"
    assert shown("cccd", "co_gia_tri_den", "Không thời hạn") == "Không thời hạn"
    assert shown("cccd", "ngay_sinh", "không rõ") == "không rõ"
    assert shown("cccd", "ho_ten", "2003-04-05") == "2003-04-05"  # not a date field
