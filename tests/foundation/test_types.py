"""The shared text rules of `motcua.types`: NFC, folding for search, masking, dates as read."""

from __future__ import annotations

import datetime as dt

from motcua.types import fold, mask_id, nfc, vn_date


def test_text_is_nfc_and_folds_for_search() -> None:
    assert nfc("Nguye\u0302\u0303n") == "Nguyễn"
    assert fold("  ĐẶNG   Thị Ánh ") == "dang thi anh"


def test_id_numbers_are_masked_in_lists() -> None:
    assert mask_id("001203012345") == "001******345"


def test_dates_read_as_vietnamese_readers_write_them() -> None:
    assert vn_date(dt.date(2026, 12, 1)) == "01/12/2026"
    assert vn_date("2026-12-01") == "01/12/2026"
    assert vn_date("2026-12-01T08:30:00+07:00") == "01/12/2026"
    assert vn_date("chờ bổ sung") == "chờ bổ sung"
    assert vn_date(None) == ""
