"""The chip-card QR: both payload layouts, mis-decoded text, other variants, real decoding."""

from __future__ import annotations

import io

import numpy as np
import pytest
import segno
from PIL import Image

from extractors.fields.qr import QrError, decode_qr, parse_cccd_qr

ADDRESS = "Số 12, Phường Kim Mã, Quận Ba Đình, Hà Nội"
SEVEN = f"001090012345|123456789|NGUYỄN VĂN AN|15031990|Nam|{ADDRESS}|20042021"
SIX = f"001090012345|NGUYỄN VĂN AN|15031990|Nam|{ADDRESS}|20042021"


def test_seven_field_layout() -> None:
    qr = parse_cccd_qr(SEVEN)
    assert qr.layout == 7
    assert (qr.so_dinh_danh, qr.so_cmnd, qr.ho_ten) == (
        "001090012345",
        "123456789",
        "NGUYỄN VĂN AN",
    )
    assert (qr.ngay_sinh, qr.gioi_tinh, qr.ngay_cap) == ("1990-03-15", "Nam", "2021-04-20")
    assert qr.noi_thuong_tru.endswith("Hà Nội")
    assert not qr.repaired


def test_seven_field_layout_with_empty_old_number() -> None:
    qr = parse_cccd_qr(SEVEN.replace("123456789", ""))
    assert qr.layout == 7 and qr.so_cmnd == "" and qr.ho_ten == "NGUYỄN VĂN AN"


def test_six_field_layout_is_not_shifted() -> None:
    qr = parse_cccd_qr(SIX)
    assert qr.layout == 6
    assert qr.so_cmnd == "" and qr.ho_ten == "NGUYỄN VĂN AN" and qr.ngay_sinh == "1990-03-15"
    assert qr.ngay_cap == "2021-04-20"


def test_utf8_read_as_latin1_is_repaired_and_marked() -> None:
    broken = SEVEN.encode("utf-8").decode("latin-1")
    assert "NGUYá»" in broken and "Ä" in broken
    qr = parse_cccd_qr(broken)
    assert qr.ho_ten == "NGUYỄN VĂN AN" and qr.repaired


def test_nfd_text_becomes_nfc() -> None:
    import unicodedata

    qr = parse_cccd_qr(unicodedata.normalize("NFD", SEVEN))
    assert qr.ho_ten == unicodedata.normalize("NFC", "NGUYỄN VĂN AN")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("001090012345|NGUY\ufffdN VĂN AN|15031990|Nam|Hà Nội|20042021", "bảng mã"),
        ("https://example.vn/verify?id=abc", "1 trường"),  # the 2024 card's back QR or a URL
        ("001090012345|123456789|NGUYỄN VĂN AN|15031990|Nam", "5 trường"),  # truncated read
        ("00109001234|123456789|NGUYỄN VĂN AN|15031990|Nam|Hà Nội|20042021", "12 chữ số"),
        ("001090012345|123456789|NGUYỄN VĂN AN|31021990|Nam|Hà Nội|20042021", "ngày có thật"),
        ("001090012345|123456789|NGUYỄN VĂN AN|1503199|Nam|Hà Nội|20042021", "ddmmyyyy"),
        ("001090012345|123456789|NGUYỄN VĂN AN|15031990|Male|Hà Nội|20042021", "Nam/Nữ"),
        # 7 fields but the 2nd is not an old ID number: not the chip-card layout
        ("001090012345|NGUYỄN|VĂN AN|15031990|Nam|Hà Nội|20042021", "7 trường"),
    ],
)
def test_other_payloads_are_refused(text: str, fragment: str) -> None:
    with pytest.raises(QrError, match=fragment):
        parse_cccd_qr(text)


def _qr_png(payload: str, scale: int = 6) -> np.ndarray:
    buffer = io.BytesIO()
    segno.make(payload, error="m").save(buffer, kind="png", scale=scale, border=4)
    return np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("L"))


def test_decode_generated_qr_both_layouts() -> None:
    for payload in (SEVEN, SIX):
        found = decode_qr(_qr_png(payload))
        assert [q.text for q in found] == [payload]
        assert parse_cccd_qr(found[0].text).so_dinh_danh == "001090012345"


def test_decode_nothing_in_a_blank_or_damaged_image() -> None:
    assert decode_qr(np.full((300, 300), 255, np.uint8)) == []
    damaged = _qr_png(SEVEN).copy()
    h, w = damaged.shape
    damaged[h // 4 : 3 * h // 4, w // 4 : 3 * w // 4] = 0  # half the modules inked over
    assert decode_qr(damaged) == []
