"""Mẫu 01, 02 and 04 of Circular 01/2018/TT-VPCP (Phụ lục), in Vietnamese."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import segno
from reportlab.lib.pagesizes import A4, A5
from reportlab.lib.units import mm

from dossiers.calendar import to_local
from dossiers.forms.pdf import BOLD, ITALIC, REGULAR, Office, Sheet, date_line
from dossiers.procedures import Procedure
from motcua.types import nfc


@dataclass(frozen=True)
class Citizen:
    """The person handing in the dossier, as printed on the forms."""

    name: str
    address: str | None = None
    phone: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class RenderedForm:
    path: Path
    pages: int


def qr_png(text: str, *, scale: int = 8) -> bytes:
    """A QR code (error correction M, quiet zone 4 modules) as PNG bytes."""
    buffer = io.BytesIO()
    segno.make(text, error="m", micro=False).save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()


def _status_qr(sheet: Sheet, text: str, lookup_code: str | None, *, size: float) -> float:
    """The QR at the top right under the header, the lookup code printed under it; returns
    the height below which the page is clear of them."""
    x, y = sheet.width - sheet.right - size, sheet.y - size + 6
    sheet.image(qr_png(text), x=x, y=y, size=size)
    if lookup_code:
        sheet.canvas.setFont(REGULAR, 6.5)
        sheet.canvas.drawCentredString(x + size / 2, y - 5, "Mã tra cứu hồ sơ")
        sheet.canvas.setFont(BOLD, 6.5)
        sheet.canvas.drawCentredString(x + size / 2, y - 12.5, lookup_code)
    return y - (16 if lookup_code else 2)


def _moment(at: dt.datetime) -> str:
    local = to_local(at)
    return f"{local.hour:02d} giờ {local.minute:02d} phút, {date_line('', local.date())}"


def render_receipt(
    out: Path,
    *,
    office: Office,
    dossier_code: str,
    citizen: Citizen,
    procedure: Procedure,
    received_kinds: Sequence[str],
    received_at: dt.datetime,
    due_date: dt.date,
    return_time: dt.time | None = None,
    clerk_name: str | None = None,
    status_url: str | None = None,
    lookup_code: str | None = None,
) -> RenderedForm:
    """Mẫu 01: Giấy tiếp nhận hồ sơ và hẹn trả kết quả (A5).

    The QR carries `status_url` (the citizen's status page) when given, else the dossier code;
    `lookup_code`, the same link's token as printed, goes under the QR and into item 7, for a
    citizen who types it in at the lookup page instead."""
    local = to_local(received_at)
    sheet = Sheet(
        out,
        A5,
        margins=(10 * mm, 10 * mm, 10 * mm, 12 * mm),
        title=f"Giấy tiếp nhận hồ sơ và hẹn trả kết quả {dossier_code}",
        base_size=10,
    )
    sheet.header(
        office,
        issuing_body=office.desk,
        parent=office.name,
        number_line=None,
        place_date=date_line(office.place, local.date()),
        size=8.5,
    )
    qr_size = 24 * mm
    _status_qr(sheet, status_url or dossier_code, lookup_code, size=qr_size)
    text_right = sheet.right
    sheet.right = text_right + qr_size  # keep the title clear of the QR
    sheet.space(4)
    sheet.centered("GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ", size=11.5, font=BOLD)
    sheet.centered(f"Mã hồ sơ: {dossier_code}", size=11, font=BOLD)
    sheet.centered("(Liên: Giao người nộp hồ sơ)", size=9, font=ITALIC)
    sheet.right = text_right
    sheet.y = min(sheet.y, sheet.height - sheet.top - 95)
    sheet.space(2)
    sheet.paragraph(f"{office.desk} — {office.name}")
    sheet.labelled("Tiếp nhận hồ sơ của", citizen.name, value_font=BOLD)
    if citizen.address:
        sheet.labelled("Địa chỉ", citizen.address)
    contact = "; ".join(
        x for x in (citizen.phone and f"Số điện thoại: {citizen.phone}",
                    citizen.email and f"Email: {citizen.email}") if x
    )  # fmt: skip
    if contact:
        sheet.paragraph(contact)
    sheet.labelled("Nội dung yêu cầu giải quyết", procedure.name)
    sheet.paragraph("1. Thành phần hồ sơ nộp gồm:")
    for i, kind in enumerate(received_kinds, start=1):
        sheet.paragraph(f"{i}) {procedure.label_of(kind)}", indent=12)
    sheet.paragraph("2. Số lượng hồ sơ: 01 (bộ)")
    sheet.paragraph(
        f"3. Thời gian giải quyết hồ sơ theo quy định là: {procedure.processing.label_vi}"
    )
    sheet.paragraph(f"4. Thời gian nhận hồ sơ: {_moment(local)}")
    when = date_line("", due_date)
    if return_time is not None:
        when = f"{return_time.hour:02d} giờ {return_time.minute:02d} phút, {when}"
    sheet.paragraph(f"5. Thời gian trả kết quả giải quyết hồ sơ: {when}", font=BOLD)
    sheet.paragraph(f"6. Đăng ký nhận kết quả tại: {office.desk}, {office.name}")
    if status_url and lookup_code:
        page = status_url.rstrip("/").rsplit("/", 1)[0]
        sheet.paragraph(
            f"7. Tra cứu tình trạng hồ sơ: quét mã QR, hoặc vào {page} và nhập mã tra cứu "
            f"{lookup_code}"
        )
    sheet.paragraph(f"Lệ phí: {procedure.fee.label_vi}", size=9, font=ITALIC)
    sheet.space(6)
    half = sheet.text_width / 2
    top = sheet.y
    sheet.centered("NGƯỜI NỘP HỒ SƠ", font=BOLD, x_center=sheet.left + half / 2, width=half)
    sheet.centered("(Ký và ghi rõ họ tên)", size=8.5, font=ITALIC,
                   x_center=sheet.left + half / 2, width=half)  # fmt: skip
    sheet.y = top
    right_c = sheet.left + half + half / 2
    sheet.centered("NGƯỜI TIẾP NHẬN HỒ SƠ", font=BOLD, x_center=right_c, width=half)
    sheet.centered("(Ký và ghi rõ họ tên)", size=8.5, font=ITALIC, x_center=right_c, width=half)
    if clerk_name:
        sheet.space(28)
        sheet.centered(clerk_name, font=BOLD, x_center=right_c, width=half)
    return RenderedForm(out, sheet.save())


def render_supplement_request(
    out: Path,
    *,
    office: Office,
    citizen: Citizen,
    procedure: Procedure,
    missing_kinds: Sequence[str],
    requested_on: dt.date,
    dossier_code: str | None = None,
    reasons: Sequence[str] = (),
    contact: str | None = None,
    clerk_name: str | None = None,
    status_url: str | None = None,
    lookup_code: str | None = None,
) -> RenderedForm:
    """Mẫu 02: Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ (A4); with a status link, its QR and
    lookup code at the top right, as on Mẫu 01."""
    sheet = Sheet(out, A4, title="Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ")
    sheet.header(
        office,
        issuing_body=office.desk,
        parent=office.name,
        number_line=None,
        place_date=date_line(office.place, requested_on),
    )
    clear_below, text_right = sheet.y, sheet.right
    if status_url:
        clear_below = _status_qr(sheet, status_url, lookup_code, size=22 * mm)
        sheet.right += 22 * mm  # keep the title clear of the QR
    sheet.space(6)
    sheet.centered("PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ", size=14, font=BOLD)
    if dossier_code:
        sheet.centered(f"Mã hồ sơ: {dossier_code}", font=BOLD)
    sheet.right = text_right
    sheet.y = min(sheet.y, clear_below)
    sheet.space(8)
    sheet.labelled("Hồ sơ của", citizen.name, value_font=BOLD)
    sheet.labelled("Nội dung yêu cầu giải quyết", procedure.name)
    sheet.paragraph(
        "Sau khi xem xét, đối chiếu với quy định hiện hành, yêu cầu ông/bà bổ sung, hoàn thiện "
        "hồ sơ gồm những nội dung sau:",
        first_line_indent=20,
    )
    for i, kind in enumerate(missing_kinds, start=1):
        sheet.paragraph(f"{i}. {procedure.label_of(kind)}", indent=20)
    if reasons:
        sheet.paragraph("Lý do: " + "; ".join(nfc(r) for r in reasons), first_line_indent=20)
    sheet.paragraph(
        "Trong quá trình hoàn thiện hồ sơ nếu có vướng mắc, ông/bà liên hệ với "
        f"{contact or office.desk + ' ' + office.name}"
        + (f", số điện thoại {office.phone}" if office.phone else "")
        + " để được hướng dẫn.",
        first_line_indent=20,
    )
    sheet.space(10)
    sheet.signature_block(
        ["NGƯỜI HƯỚNG DẪN"],
        note="(Ký và ghi rõ họ tên)",
        signer_name=clerk_name,
        box_height=22 * mm,
    )
    return RenderedForm(out, sheet.save())


def render_apology(
    out: Path,
    *,
    office: Office,
    dossier_code: str,
    citizen: Citizen,
    procedure: Procedure,
    received_at: dt.datetime,
    due_date: dt.date,
    new_due_date: dt.date,
    reasons: Sequence[str],
    issued_on: dt.date,
    signer_title: str = "CHỦ TỊCH",
    signer_name: str | None = None,
) -> RenderedForm:
    """Mẫu 04: Phiếu xin lỗi và hẹn lại ngày trả kết quả (A4), signed by the head of office."""
    sheet = Sheet(out, A4, title=f"Phiếu xin lỗi và hẹn lại ngày trả kết quả {dossier_code}")
    sheet.header(
        office,
        issuing_body=office.name,
        number_line=None,
        place_date=date_line(office.place, issued_on),
    )
    sheet.space(6)
    sheet.centered("PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ", size=14, font=BOLD)
    sheet.space(8)
    received = to_local(received_at).date()
    sheet.paragraph(
        f"{date_line('', received).capitalize()}, {office.name} tiếp nhận giải quyết hồ sơ "
        f"của ông/bà {citizen.name}.",
        first_line_indent=20,
    )
    sheet.paragraph(f"Nội dung yêu cầu giải quyết: {procedure.name}.", first_line_indent=20)
    sheet.paragraph(f"Mã hồ sơ: {dossier_code}.", first_line_indent=20)
    sheet.paragraph(
        f"Thời hạn trả kết quả giải quyết hồ sơ: {date_line('', due_date)}.", first_line_indent=20
    )
    sheet.paragraph(
        f"Tuy nhiên đến nay, {office.name} chưa trả kết quả giải quyết hồ sơ của ông/bà.",
        first_line_indent=20,
    )
    sheet.paragraph("Lý do: " + "; ".join(nfc(r) for r in reasons) + ".", first_line_indent=20)
    sheet.paragraph(
        f"Sự chậm trễ này đã gây phiền hà cho ông/bà. {office.name} xin lỗi ông/bà và sẽ trả kết "
        f"quả giải quyết hồ sơ cho ông/bà vào {date_line('', new_due_date)}.",
        first_line_indent=20,
    )
    sheet.paragraph("Xin trân trọng cảm ơn sự hợp tác của ông/bà!", first_line_indent=20)
    sheet.space(10)
    sheet.signature_block(
        [f"TM. {office.signing_body}", signer_title],
        note="(Ký, ghi rõ họ tên và đóng dấu)",
        signer_name=signer_name,
        box_height=28 * mm,
    )
    return RenderedForm(out, sheet.save())
