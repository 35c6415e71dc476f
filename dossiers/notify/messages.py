"""What a notice says, in Vietnamese (NFC): short enough for an SMS, the same text by e-mail."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dossiers.dossier import Dossier, Status
from motcua.types import nfc

# The dossier events a citizen hears about, and the notice each one is.
EVENT_KINDS = {
    "dossier.received": "received",
    "dossier.supplement_requested": "supplement",
    "result.signed": "result_ready",
    "dossier.apology_issued": "late",
    "dossier.refused": "refused",
}


@dataclass(frozen=True)
class Message:
    kind: str
    subject: str
    body: str


def _day(value: object) -> str:
    return f"{value:%d/%m/%Y}" if value is not None else "…"


def compose(
    kind: str,
    dossier: Dossier,
    *,
    office_name: str,
    procedure_name: str,
    missing_labels: Sequence[str] = (),
    status_url: str | None = None,
) -> Message:
    """The notice of `kind` (a value of EVENT_KINDS) for `dossier`."""
    code = dossier.code
    if kind == "received" and dossier.status is Status.supplement_requested:
        kind = "supplement"  # taken in incomplete: what the citizen needs is the list
    if kind == "received":
        subject = f"Đã tiếp nhận hồ sơ {code}"
        text = (
            f"{office_name} đã tiếp nhận hồ sơ {code} ({procedure_name}) ngày "
            f"{_day(dossier.received_at)}. Ngày hẹn trả kết quả: {_day(dossier.due_date)}."
        )
    elif kind == "supplement":
        missing = ", ".join(missing_labels) or ", ".join(dossier.missing_components)
        subject = f"Hồ sơ {code} cần bổ sung"
        text = (
            f"Hồ sơ {code} ({procedure_name}) cần bổ sung: {missing}. Đề nghị ông/bà mang "
            f"giấy tờ bổ sung đến {office_name}."
        )
    elif kind == "result_ready":
        subject = f"Hồ sơ {code} đã có kết quả"
        text = (
            f"Hồ sơ {code} ({procedure_name}) đã có kết quả. Mời ông/bà đến {office_name} "
            "để nhận kết quả."
        )
    elif kind == "late":
        subject = f"Xin lỗi: hồ sơ {code} được hẹn lại ngày trả kết quả"
        text = (
            f"{office_name} xin lỗi vì hồ sơ {code} ({procedure_name}) chưa giải quyết "
            f"đúng hẹn {_day(dossier.due_date)}. Ngày hẹn trả kết quả mới: "
            f"{_day(dossier.new_due_date)}."
        )
    elif kind == "refused":
        reasons = next((h.note for h in reversed(dossier.history)
                        if h.status is Status.refused and h.note), "")  # fmt: skip
        subject = f"Hồ sơ {code} không được giải quyết"
        text = (
            f"Hồ sơ {code} ({procedure_name}) không được giải quyết"
            + (f". Lý do: {reasons}." if reasons else ".")
            + f" Chi tiết xin liên hệ {office_name}."
        )
    else:
        raise ValueError(f"no notice of kind {kind!r}")
    if status_url:
        text += f" Tra cứu: {status_url}"
    return Message(kind, nfc(subject), nfc(text))
