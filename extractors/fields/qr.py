"""The QR code of the chip citizen-ID card: decode it (zxing-cpp) and parse its payload.

Payload, one line separated by `|` (DOMAIN.md): `number|old CMND|name|DOB ddmmyyyy|sex|address|
issue ddmmyyyy`; some readers see 6 fields (no CMND). Anything else — the 2024 card's back QR, a
truncated read, a mis-decoded text — is reported, never shifted into fields blindly.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, Final

import numpy as np

from extractors.fields.model import QrPayload
from motcua.types import nfc

_MOJIBAKE: Final = re.compile("Ã|Ä|Æ|Â|á»|áº")


@dataclass(frozen=True)
class DecodedQr:
    text: str
    center: tuple[float, float]  # in the image's pixels


class QrError(ValueError):
    """The QR text is not a chip citizen-ID payload; the message is for the clerk."""


def decode_qr(image: np.ndarray[Any, Any]) -> list[DecodedQr]:
    """All QR codes zxing-cpp finds in a grey or BGR image."""
    import zxingcpp

    found: list[DecodedQr] = []
    for barcode in zxingcpp.read_barcodes(
        image, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
    ):
        if not barcode.valid:
            continue
        pos = barcode.position
        points = [pos.top_left, pos.top_right, pos.bottom_right, pos.bottom_left]
        cx = sum(p.x for p in points) / 4
        cy = sum(p.y for p in points) / 4
        found.append(DecodedQr(text=barcode.text, center=(cx, cy)))
    return found


def _repair(text: str) -> tuple[str, bool]:
    """Undo the usual mis-decoding (UTF-8 read as Latin-1/cp1252); NFC the result."""
    if _MOJIBAKE.search(text):
        for codec in ("latin-1", "cp1252"):
            try:
                return nfc(text.encode(codec).decode("utf-8")), True
            except (UnicodeEncodeError, UnicodeDecodeError):
                continue
    return nfc(text), False


def _date(text: str, what: str) -> str:
    if not re.fullmatch(r"\d{8}", text):
        raise QrError(f"mã QR: {what} không phải dạng ngày ddmmyyyy")
    try:
        return dt.date(int(text[4:]), int(text[2:4]), int(text[:2])).isoformat()
    except ValueError:
        raise QrError(f"mã QR: {what} không phải ngày có thật") from None


def parse_cccd_qr(text: str) -> QrPayload:
    """Parse the 7-field or 6-field payload; raise `QrError` for any other text."""
    repaired_text, repaired = _repair(text.strip())
    if "\ufffd" in repaired_text:
        raise QrError("mã QR chứa ký tự hỏng (sai bảng mã), không dùng được")
    parts = [p.strip() for p in repaired_text.split("|")]
    if len(parts) == 7 and re.fullmatch(r"\d{9}|", parts[1]):
        number, cmnd, name, dob, sex, address, issued = parts
        layout = 7
    elif len(parts) == 6 and not re.search(r"\d", parts[1]):
        number, name, dob, sex, address, issued = parts
        cmnd, layout = "", 6
    else:
        raise QrError(
            f"mã QR có {len(parts)} trường, không phải mẫu 6 hoặc 7 trường của thẻ CCCD "
            "(có thể là mã QR mặt sau thẻ căn cước 2024)"
        )
    if not re.fullmatch(r"\d{12}", number):
        raise QrError("mã QR: số định danh không gồm 12 chữ số")
    if sex not in {"Nam", "Nữ"}:
        raise QrError("mã QR: giới tính không phải Nam/Nữ")
    if not name or not address:
        raise QrError("mã QR: thiếu họ tên hoặc nơi thường trú")
    return QrPayload(
        so_dinh_danh=number,
        so_cmnd=cmnd,
        ho_ten=" ".join(name.split()),
        ngay_sinh=_date(dob, "ngày sinh"),
        gioi_tinh=sex,
        noi_thuong_tru=" ".join(address.split()),
        ngay_cap=_date(issued, "ngày cấp"),
        layout=layout,
        repaired=repaired,
    )
