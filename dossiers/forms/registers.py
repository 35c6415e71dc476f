"""Mẫu 03, 05 and 06 of Circular 01/2018/TT-VPCP (Phụ lục), in Vietnamese.

Mẫu 03 refuses a dossier with its reasons; Mẫu 05, the processing control sheet, follows one
dossier's hand-overs from its status history; Mẫu 06, the tracking register, lists the dossiers
received in a date range as a landscape table. Inputs are `Dossier` snapshots of the register
plus plain parameters; a status prints through its `label_vi` (any status the register adds,
such as `refused` or `withdrawn`) or, for a plain string, through `STATUS_LABELS`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol
from xml.sax.saxutils import escape

from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import LongTable, Paragraph, TableStyle
from reportlab.platypus.tables import Table

from dossiers.calendar import to_local
from dossiers.forms.notices import Citizen, RenderedForm
from dossiers.forms.pdf import BOLD, ITALIC, REGULAR, Office, Sheet, date_line
from dossiers.procedures import Procedure
from motcua.errors import BadArgumentError
from motcua.types import nfc

# Labels of statuses given as plain strings (a status of the register has its own `label_vi`).
STATUS_LABELS: Mapping[str, str] = {
    "received": "Đã tiếp nhận",
    "processing": "Đang giải quyết",
    "supplement_requested": "Yêu cầu bổ sung hồ sơ",
    "result_signed": "Đã có kết quả",
    "returned": "Đã trả kết quả",
    "refused": "Từ chối",
    "withdrawn": "Đã rút",
}


class _StatusLike(Protocol):
    @property
    def label_vi(self) -> str: ...


class _ChangeLike(Protocol):
    @property
    def status(self) -> Any: ...
    @property
    def at(self) -> dt.datetime: ...
    @property
    def note(self) -> str | None: ...


class DossierLike(Protocol):
    """What the forms read of `dossiers.register.Dossier` (kept structural: no import cycle)."""

    @property
    def code(self) -> str: ...
    @property
    def procedure_key(self) -> str: ...
    @property
    def citizen_name(self) -> str | None: ...
    @property
    def status(self) -> Any: ...
    @property
    def received_at(self) -> dt.datetime: ...
    @property
    def due_date(self) -> dt.date | None: ...
    @property
    def resolved_at(self) -> dt.datetime | None: ...
    @property
    def returned_at(self) -> dt.datetime | None: ...
    @property
    def new_due_date(self) -> dt.date | None: ...
    @property
    def documents(self) -> Sequence[Any]: ...
    @property
    def history(self) -> Sequence[_ChangeLike]: ...


def status_label(status: _StatusLike | str) -> str:
    """The Vietnamese label of a status: its `label_vi`, or `STATUS_LABELS` for a string."""
    label = getattr(status, "label_vi", None)
    if isinstance(label, str):
        return label
    text = str(getattr(status, "value", status))
    return STATUS_LABELS.get(text, text)


def _status_key(status: Any) -> str:
    return str(getattr(status, "value", status))


def _moment(at: dt.datetime) -> str:
    local = to_local(at)
    return f"{local.hour:02d} giờ {local.minute:02d} phút, {date_line('', local.date())}"


def _day(value: dt.date | dt.datetime | None) -> str:
    if value is None:
        return ""
    day = to_local(value).date() if isinstance(value, dt.datetime) else value
    return day.strftime("%d/%m/%Y")


# --- Mẫu 03 ---------------------------------------------------------------------------------


def render_refusal(
    out: Path,
    *,
    office: Office,
    dossier: DossierLike,
    procedure: Procedure,
    reasons: Sequence[str],
    refused_on: dt.date,
    citizen: Citizen | None = None,
    legal_basis: str | None = None,
    clerk_name: str | None = None,
) -> RenderedForm:
    """Mẫu 03: Phiếu từ chối tiếp nhận giải quyết hồ sơ (A4), with the reasons numbered."""
    listed = [nfc(r.strip()) for r in reasons if r and r.strip()]
    if not listed:
        raise BadArgumentError(
            f"hồ sơ {dossier.code}: phiếu từ chối phải nêu rõ lý do",
            hint="give at least one reason (--reason TEXT)",
        )
    person = citizen or Citizen(dossier.citizen_name or "")
    sheet = Sheet(out, A4, title=f"Phiếu từ chối tiếp nhận giải quyết hồ sơ {dossier.code}")
    sheet.header(
        office,
        issuing_body=office.desk,
        parent=office.name,
        number_line=None,
        place_date=date_line(office.place, refused_on),
    )
    sheet.space(6)
    sheet.centered("PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ", size=14, font=BOLD)
    sheet.centered(f"Mã hồ sơ: {dossier.code}", font=BOLD)
    sheet.space(8)
    sheet.paragraph(
        f"{office.desk} {office.name} tiếp nhận hồ sơ đề nghị giải quyết thủ tục hành chính: "
        f"{procedure.name}.",
        first_line_indent=20,
    )
    if person.name:
        sheet.labelled("Của ông/bà", person.name, value_font=BOLD)
    if person.address:
        sheet.labelled("Địa chỉ", person.address)
    sheet.labelled("Thời gian tiếp nhận hồ sơ", _moment(dossier.received_at))
    basis = legal_basis or "; ".join(procedure.legal_basis)
    lead = f"Căn cứ quy định tại {basis}, hồ sơ" if basis else "Hồ sơ"
    sheet.paragraph(
        f"{lead} của ông/bà không đủ điều kiện giải quyết với lý do cụ thể như sau:",
        first_line_indent=20,
    )
    for i, reason in enumerate(listed, start=1):
        sheet.paragraph(f"{i}. {reason}", indent=20)
    sheet.paragraph(
        f"{office.desk} {office.name} xin thông báo để ông/bà được biết và thực hiện./.",
        first_line_indent=20,
    )
    sheet.space(10)
    sheet.signature_block(
        ["NGƯỜI TIẾP NHẬN HỒ SƠ"],
        note="(Ký và ghi rõ họ tên)",
        signer_name=clerk_name,
        box_height=22 * mm,
    )
    return RenderedForm(out, sheet.save())


# --- tables ---------------------------------------------------------------------------------


def _styles(size: float) -> tuple[ParagraphStyle, ParagraphStyle]:
    cell = ParagraphStyle("cell", fontName=REGULAR, fontSize=size, leading=size * 1.2)
    head = ParagraphStyle(
        "head", parent=cell, fontName=BOLD, alignment=TA_CENTER, leading=size * 1.2
    )
    return cell, head


def _cells(rows: Sequence[Sequence[str]], style: ParagraphStyle) -> list[list[Paragraph]]:
    return [[Paragraph(escape(nfc(text)).replace("\n", "<br/>"), style) for text in row]
            for row in rows]  # fmt: skip


_GRID = TableStyle(
    [
        ("GRID", (0, 0), (-1, -1), 0.5, "black"),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
)


def _draw_table(sheet: Sheet, table: Table) -> None:
    """Draw `table` from `sheet.y` down, splitting it over pages (heading rows repeat)."""
    pending: list[Table] = [table]
    while pending:
        part = pending.pop(0)
        available = sheet.y - sheet.bottom
        _, height = part.wrap(sheet.text_width, available)
        if height <= available:
            part.drawOn(sheet.canvas, sheet.left, sheet.y - height)
            sheet.y -= height
            continue
        pieces = part.split(sheet.text_width, available)
        if len(pieces) < 2:  # not even one row fits here: next page
            if sheet.y >= sheet.height - sheet.top - 1:
                raise BadArgumentError("a table row is taller than a page")
            sheet.new_page()
            pending.insert(0, part)
            continue
        first = pieces[0]
        _, h = first.wrap(sheet.text_width, available)
        first.drawOn(sheet.canvas, sheet.left, sheet.y - h)
        sheet.new_page()
        pending[:0] = list(pieces[1:])


# --- Mẫu 05 ---------------------------------------------------------------------------------


def render_control_sheet(
    out: Path,
    *,
    office: Office,
    dossier: DossierLike,
    procedure: Procedure,
    processing_unit: str | None = None,
    cooperating_units: Sequence[str] = (),
    issued_on: dt.date | None = None,
) -> RenderedForm:
    """Mẫu 05: Phiếu kiểm soát quá trình giải quyết hồ sơ (A4), one row per hand-over."""
    unit = processing_unit or f"Công chức chuyên môn {office.name}"
    day = issued_on or to_local(dossier.received_at).date()
    sheet = Sheet(out, A4, title=f"Phiếu kiểm soát quá trình giải quyết hồ sơ {dossier.code}")
    sheet.header(
        office,
        issuing_body=office.desk,
        parent=office.name,
        number_line=None,
        place_date=date_line(office.place, day),
    )
    sheet.space(6)
    sheet.centered("PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ", size=14, font=BOLD)
    sheet.centered(f"Mã hồ sơ: {dossier.code}", font=BOLD)
    sheet.centered(
        f"(Kèm theo Giấy tiếp nhận hồ sơ và hẹn trả kết quả mã hồ sơ: {dossier.code})",
        size=11,
        font=ITALIC,
    )
    sheet.space(6)
    sheet.labelled("Nội dung yêu cầu giải quyết", procedure.name)
    if dossier.citizen_name:
        sheet.labelled("Người nộp hồ sơ", dossier.citizen_name)
    sheet.labelled("Cơ quan (bộ phận) giải quyết hồ sơ", unit)
    sheet.labelled("Cơ quan phối hợp giải quyết hồ sơ", ", ".join(cooperating_units) or "Không")
    sheet.labelled("Hẹn trả kết quả", _day(dossier.new_due_date or dossier.due_date) or
                   "Chờ bổ sung hồ sơ")  # fmt: skip
    sheet.space(6)
    cell, head = _styles(10.5)
    rows = [["TÊN CƠ QUAN", "THỜI GIAN GIAO, NHẬN HỒ SƠ",
             "KẾT QUẢ GIẢI QUYẾT HỒ SƠ (Trước hạn/đúng hạn/quá hạn)", "GHI CHÚ"]]  # fmt: skip
    for i, (who, note) in enumerate(_hand_overs(dossier, office, unit), start=1):
        change = dossier.history[i - 1]
        result = ""
        if _status_key(change.status) == "result_signed" and dossier.due_date is not None:
            result = _timeliness_label(change.at, dossier.due_date, dossier.new_due_date)
        rows.append([f"{i}. {who}", f"{_moment(change.at)}\nNgười giao / Người nhận:", result,
                     note])  # fmt: skip
    table = LongTable(
        [*_cells(rows[:1], head), *_cells(rows[1:], cell)],
        colWidths=[w * sheet.text_width for w in (0.34, 0.30, 0.18, 0.18)],
        repeatRows=1,
    )
    table.setStyle(_GRID)
    _draw_table(sheet, table)
    return RenderedForm(out, sheet.save())


def _timeliness_label(at: dt.datetime, due: dt.date, new_due: dt.date | None) -> str:
    from dossiers.calendar import timeliness

    label = timeliness(to_local(at).date(), due).label_vi
    if new_due is not None and label == "Quá hạn":
        label += f" (hẹn lại {_day(new_due)})"
    return label


_HAND_OVER: Mapping[str, Callable[[str, str], str]] = {
    "received": lambda desk, unit: f"Giao: {desk}\nNhận: {unit}",
    "processing": lambda desk, unit: f"Nhận và giải quyết: {unit}",
    "supplement_requested": lambda desk, unit: f"Giao: {unit}\nNhận: {desk} (yêu cầu bổ sung)",
    "result_signed": lambda desk, unit: f"Giao: {unit}\nNhận: {desk} (kết quả)",
    "returned": lambda desk, unit: f"Giao: {desk}\nNhận: người nộp hồ sơ",
}


def _hand_overs(dossier: DossierLike, office: Office, unit: str) -> list[tuple[str, str]]:
    """(who gives and who takes, note) for each status change of the dossier, in order."""
    out = []
    for change in dossier.history:
        key = _status_key(change.status)
        make = _HAND_OVER.get(key)
        who = make(office.desk, unit) if make else f"{office.desk}: {status_label(change.status)}"
        out.append((who, nfc(change.note) if change.note else status_label(change.status)))
    return out


# --- Mẫu 06 ---------------------------------------------------------------------------------

_REGISTER_COLUMNS = (
    ("TT", 0.04),
    ("Mã hồ sơ", 0.13),
    ("Tên thủ tục hành chính", 0.17),
    ("Số lượng hồ sơ (bộ)", 0.05),
    ("Tên cá nhân, tổ chức", 0.12),
    ("Nhận hồ sơ", 0.085),
    ("Hẹn trả kết quả", 0.085),
    ("Có kết quả giải quyết", 0.085),
    ("Trả kết quả cho cá nhân, tổ chức", 0.085),
    ("Ghi chú", 0.15),
)


def render_tracking_register(
    out: Path,
    *,
    office: Office,
    dossiers: Sequence[DossierLike],
    procedure_names: Mapping[str, str],
    date_from: dt.date,
    date_to: dt.date,
    printed_on: dt.date,
) -> RenderedForm:
    """Mẫu 06: Sổ theo dõi hồ sơ (A4 landscape) of the dossiers received `date_from`–`date_to`.

    Dossiers received outside the range are left out; the rest print in order of receipt.
    """
    if date_to < date_from:
        raise BadArgumentError(
            f"khoảng ngày không hợp lệ: {_day(date_from)} đến {_day(date_to)} "
            "(ngày đầu sau ngày cuối)",
            hint="--from must not be after --to",
        )
    chosen = sorted(
        (d for d in dossiers if date_from <= to_local(d.received_at).date() <= date_to),
        key=lambda d: (d.received_at, d.code),
    )
    sheet = Sheet(
        out,
        landscape(A4),
        margins=(15 * mm, 12 * mm, 15 * mm, 15 * mm),
        title=f"Sổ theo dõi hồ sơ {date_from.isoformat()} – {date_to.isoformat()}",
        base_size=11,
    )
    sheet.header(
        office,
        issuing_body=office.desk,
        parent=office.name,
        number_line=None,
        place_date=date_line(office.place, printed_on),
        size=11,
    )
    sheet.space(4)
    sheet.centered("SỔ THEO DÕI HỒ SƠ", size=14, font=BOLD)
    sheet.centered(f"Từ ngày {_day(date_from)} đến ngày {_day(date_to)}", font=ITALIC)
    sheet.space(6)
    cell, head = _styles(9)
    # Two heading rows: the four dates share "Ngày, tháng, năm"; the other columns span both.
    names = [name for name, _ in _REGISTER_COLUMNS]
    group = [*names[:5], "Ngày, tháng, năm", "", "", "", names[9]]
    heads = ["", "", "", "", "", *names[5:9], ""]
    body = [
        [
            str(i),
            d.code,
            procedure_names.get(d.procedure_key, d.procedure_key),
            "01",
            d.citizen_name or "",
            _day(d.received_at),
            _day(d.due_date) or "Chờ bổ sung",
            _day(d.resolved_at),
            _day(d.returned_at),
            _register_note(d),
        ]
        for i, d in enumerate(chosen, start=1)
    ]
    if not body:
        body = [["", "", "Không có hồ sơ tiếp nhận trong khoảng thời gian này", *[""] * 7]]
    data = [*_cells([group, heads], head), *_cells(body, cell)]
    table = LongTable(
        data,
        colWidths=[w * sheet.text_width for _, w in _REGISTER_COLUMNS],
        repeatRows=2,
    )
    style = TableStyle(_GRID.getCommands())
    style.add("SPAN", (5, 0), (8, 0))
    for column in (0, 1, 2, 3, 4, 9):
        style.add("SPAN", (column, 0), (column, 1))
    style.add("VALIGN", (0, 0), (-1, 1), "MIDDLE")
    table.setStyle(style)
    _draw_table(sheet, table)
    sheet.space(4)
    sheet.paragraph(f"Tổng số: {len(chosen)} hồ sơ.", size=10, font=ITALIC)
    return RenderedForm(out, sheet.save())


def _register_note(d: DossierLike) -> str:
    notes = [status_label(d.status)]
    if d.resolved_at is not None and d.due_date is not None:
        notes.append(_timeliness_label(d.resolved_at, d.due_date, None))
    if d.new_due_date is not None:
        notes.append(f"Đã xin lỗi, hẹn lại {_day(d.new_due_date)}")
    return "; ".join(notes)
