"""How journal entries read on a page: Vietnamese names of the actions, the person's name
instead of `user:<login>`, and the details as short Vietnamese phrases instead of JSON.

The journal keeps its codes (`dossier.fields_corrected`, `user:lan`): programs read them through
the API. Pages show these labels (`Services` builds one `JournalLabels` per request).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from dossiers.register import Status
from motcua.types import vn_date
from motcua.web.permissions import Role

ACTIONS_VI: Mapping[str, str] = {
    "auth.login": "Đăng nhập",
    "auth.logout": "Đăng xuất",
    "user.created": "Tạo tài khoản",
    "user.disabled": "Khóa tài khoản",
    "user.password_set": "Đặt lại mật khẩu",
    "user.enabled": "Mở khóa tài khoản",
    "user.role_changed": "Đổi vai trò",
    "token.created": "Cấp khóa truy cập cho hệ thống khác",
    "token.revoked": "Thu hồi khóa truy cập",
    "dossier.intake_submitted": "Gửi hồ sơ để tiếp nhận",
    "dossier.intake_failed": "Tiếp nhận không thành công",
    "dossier.received": "Tiếp nhận hồ sơ",
    "dossier.fields_corrected": "Sửa thông tin trích xuất",
    "dossier.components_confirmed": "Xác nhận thành phần hồ sơ",
    "dossier.accepted": "Chuyển giải quyết",
    "dossier.supplement_requested": "Yêu cầu bổ sung hồ sơ",
    "dossier.supplement_received": "Tiếp nhận hồ sơ bổ sung",
    "dossier.refused": "Từ chối hồ sơ",
    "dossier.withdrawn": "Rút hồ sơ",
    "dossier.procedure_changed": "Đổi thủ tục",
    "dossier.returned": "Trả kết quả",
    "dossier.apology_issued": "Phiếu xin lỗi và hẹn lại ngày trả",
    "dossier.receipt_printed": "In lại giấy tiếp nhận",
    "dossier.supplement_notice_printed": "In lại phiếu yêu cầu bổ sung",
    "dossier.note_added": "Ghi chú",
    "dossier.assigned": "Phân công xử lý",
    "result.draft_requested": "Yêu cầu lập dự thảo kết quả",
    "result.drafted": "Lập dự thảo kết quả",
    "result.draft_failed": "Lập dự thảo không thành công",
    "result.draft_viewed": "Xem dự thảo kết quả",
    "result.sign_requested": "Yêu cầu ký kết quả",
    "result.leader_signed": "Lãnh đạo ký trên thiết bị",
    "result.leader_sign_failed": "Ký trên thiết bị không thành công",
    "result.signed": "Ký số và lưu trữ kết quả",
    "result.sign_failed": "Ký không thành công",
    "result.uploaded": "Tải lên kết quả đã ký",
    "result.downloaded": "Tải kết quả đã ký",
    "result.signature_renewed": "Gia hạn chữ ký số của kết quả",
    "signing.prepared": "Chuẩn bị ký trên thiết bị",
    "signing.refused": "Từ chối phiên ký",
    "archive.file_downloaded": "Tải tệp lưu trữ",
    "archive.verified": "Kiểm tra toàn vẹn",
    "archive.exported": "Xuất gói hồ sơ",
    "archive.signature_renewed": "Gia hạn chữ ký số, lưu thành bản mới",
    "archive.renewal_stored": "Lưu bản gia hạn chữ ký số",
}

TARGETS_VI: Mapping[str, str] = {
    "dossier": "Hồ sơ",
    "record": "Hồ sơ lưu trữ",
    "user": "Tài khoản",
    "token": "Khóa truy cập",
    "job": "Công việc",
}

# the detail keys worth a reader's eye, in this order; others (hashes, paths) stay in the API
_DETAILS_VI: Mapping[str, str] = {
    "status": "trạng thái",
    "procedure": "thủ tục",
    "reasons": "lý do",
    "reason": "lý do",
    "requested_by": "người yêu cầu",
    "collected_by": "người nhận",
    "method": "cách thức",
    "missing": "còn thiếu",
    "fields": "trường",
    "changed": "trường đã sửa",
    "result_number": "số kết quả",
    "template": "mẫu",
    "pages": "số trang",
    "file": "tệp",
    "ok": "toàn vẹn",
    "findings": "số vấn đề",
    "objects_checked": "số đối tượng đã kiểm tra",
    "level": "mức chữ ký",
    "record_id": "mã lưu trữ",
    "new_due_date": "ngày hẹn mới",
    "error": "lỗi",
    "step": "bước",
    "assignee": "giao cho",
    "previous_assignee": "trước đó giao cho",
    "role": "vai trò",
}
_VALUES_VI: Mapping[str, str] = {
    "device": "trên thiết bị của lãnh đạo",
    "server": "tại máy chủ",
    "prepare": "chuẩn bị",
    "finish": "hoàn tất",
    "reused": "phiên ký đã dùng",
    "expired": "phiên ký hết hạn",
    "draft_changed": "dự thảo đã thay đổi",
    "signature_mismatch": "chữ ký không khớp chứng thư",
    "in_person": "trực tiếp",
    "post": "qua bưu chính",
}


@dataclass(frozen=True)
class JournalLabels:
    """Labels of journal entries for one page: `person` names an actor, `procedure` a key,
    `field` a field key of any document kind."""

    person: Callable[[str], str | None]
    procedure: Callable[[str], str]
    field: Callable[[str], str]

    def action(self, code: str) -> str:
        return ACTIONS_VI.get(code, "Thao tác khác")

    def target(self, kind: str) -> str:
        return TARGETS_VI.get(kind, "Đối tượng")

    def actor(self, actor: str) -> str:
        """`user:lan` → the account's full name; `cli:x` → at the terminal; `eoffice:x`."""
        kind, _, name = actor.partition(":")
        if kind == "user":
            return self.person(name) or f"Tài khoản {name}"
        if kind == "cli":
            return f"Dòng lệnh trên máy chủ ({name})"
        if kind in ("eoffice", "token"):
            return f"Hệ thống một cửa điện tử ({name})"
        return "Hệ thống"

    def details(self, details: Mapping[str, Any] | None) -> str:
        """The details a reader needs, as `nhãn: giá trị; …`."""
        parts = []
        for key, label in _DETAILS_VI.items():
            if details and key in details and details[key] not in (None, "", [], {}):
                parts.append(f"{label}: {self._value(key, details[key])}")
        return "; ".join(parts)

    def _value(self, key: str, value: Any) -> str:
        if isinstance(value, bool):
            return "có" if value else "không"
        if isinstance(value, list | tuple):
            return ", ".join(self._value(key, v) for v in value)
        if isinstance(value, dt.date | dt.datetime):
            return vn_date(value)
        text = str(value)
        if key == "status":
            try:
                return Status(text).label_vi
            except ValueError:
                return text
        if key == "procedure":
            return self.procedure(text)
        if key in ("assignee", "previous_assignee"):
            return self.person(text) or text
        if key == "role" and text in Role.__members__:
            return Role(text).label_vi
        if key in ("fields", "changed", "missing"):
            return self.field(text)
        if key == "new_due_date":
            try:
                return vn_date(dt.date.fromisoformat(text))
            except ValueError:
                return text
        return _VALUES_VI.get(text, text)
