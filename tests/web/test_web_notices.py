"""Citizens' notices: e-mail received by a real local SMTP server (aiosmtpd), SMS/Zalo gateway
messages received by a real local HTTP server; only with a contact and consent; a gateway that
is down delays a notice without touching the operation, and the queue sends it once back."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import hashlib
import json
import logging
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from web_helpers import Receiver, WebWorld, build_world, serve_receiver, services, sign_in

from dossiers.calendar import VN_TZ
from dossiers.contact import Contact
from dossiers.register import DocumentIn, Dossier
from flows import dossier as ops

PHONE, EMAIL = "0912345678", "hang.nguyen@example.vn"
TEMPLATE = '{"so_dien_thoai": "$phone", "noi_dung": "$message", "ma_ho_so": "$dossier_code"}'


@dataclass
class Mailbox:
    messages: list[tuple[list[str], bytes]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), bytes(envelope.content)))
        return "250 OK"


@pytest.fixture
def mailbox(unused_port: Any) -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    port = unused_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


@pytest.fixture
def gateway() -> Iterator[Receiver]:
    with serve_receiver() as receiver:
        yield receiver


@pytest.fixture
def world(tmp_path: Path, mailbox: tuple[Mailbox, int], gateway: Receiver) -> WebWorld:
    return build_world(tmp_path / "home", smtp_host="127.0.0.1", smtp_port=mailbox[1],
                       smtp_sender="motcua@hoatien.example.vn", notice_http_url=gateway.url,
                       notice_http_template=TEMPLATE, notice_http_token="bi-mat")  # fmt: skip


def take_in(
    world: WebWorld, tag: str, contact: Contact | None, *, complete: bool = True
) -> Dossier:
    svc = services(world.app)
    kinds = ["to-khai-xac-nhan-hon-nhan", "cccd"] if complete else ["to-khai-xac-nhan-hon-nhan"]
    docs = [DocumentIn(f"/s/{tag}{k}.pdf", k, hashlib.sha256(f"{tag}{k}".encode()).hexdigest())
            for k in kinds]  # fmt: skip
    result = svc.register.intake(svc.catalogue.get("xac-nhan-tinh-trang-hon-nhan"), docs,
                                 received_at=dt.datetime(2026, 4, 24, 9, 30, tzinfo=VN_TZ),
                                 citizen_name="Nguyễn Thị Hằng", contact=contact)  # fmt: skip
    svc.core.notify("dossier.received", result.dossier.code)  # what the intake flow's end does
    return result.dossier


def settle(world: WebWorld) -> None:
    queue = services(world.app).core.notices
    assert queue is not None
    assert queue.wait_idle(30)


def mails(box: Mailbox) -> list[tuple[list[str], email.message.EmailMessage]]:
    out = []
    for rcpt, raw in box.messages:
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(parsed, email.message.EmailMessage)
        out.append((rcpt, parsed))
    return out


def sms(gateway: Receiver) -> list[dict[str, str]]:
    return [json.loads(body) for _, body in gateway.received]


def test_every_notice_reaches_the_mailbox_and_the_gateway_in_vietnamese(
    world: WebWorld, mailbox: tuple[Mailbox, int], gateway: Receiver
) -> None:
    box, _ = mailbox
    svc = services(world.app)
    dossier = take_in(world, "a", Contact.of("0912 345 678", EMAIL, True))
    settle(world)
    ops.request_supplement(svc.core, dossier.code, ["cccd"], actor="user:clerk")
    settle(world)
    late = take_in(world, "b", Contact.of(None, EMAIL, True))
    ops.apologise(svc.core, late.code, dt.date(2026, 5, 20), ["Chờ xác minh"], actor="user:clerk")
    ops.refuse(svc.core, late.code, ["Không thuộc thẩm quyền"], actor="user:clerk")
    signed = take_in(world, "c", Contact.of(PHONE, None, True))
    svc.register.mark_result_signed(signed.code)
    svc.core.notify("result.signed", signed.code)
    settle(world)

    subjects = [(rcpt, m["Subject"]) for rcpt, m in mails(box)]
    assert subjects == [
        ([EMAIL], f"Đã tiếp nhận hồ sơ {dossier.code}"),
        ([EMAIL], f"Hồ sơ {dossier.code} cần bổ sung"),
        ([EMAIL], f"Đã tiếp nhận hồ sơ {late.code}"),
        ([EMAIL], f"Xin lỗi: hồ sơ {late.code} được hẹn lại ngày trả kết quả"),
        ([EMAIL], f"Hồ sơ {late.code} không được giải quyết"),
    ]
    bodies = [m.get_content() for _, m in mails(box)]
    assert all(unicodedata.is_normalized("NFC", b) for b in bodies)
    assert "Ngày hẹn trả kết quả: 04/05/2026" in bodies[0]
    assert "/tra-cuu/" in bodies[0]  # the status page's link
    label = svc.catalogue.get("xac-nhan-tinh-trang-hon-nhan").label_of("cccd")
    assert f"cần bổ sung: {label}." in bodies[1]
    assert "Ngày hẹn trả kết quả mới: 20/05/2026" in bodies[3]
    assert "Lý do: Không thuộc thẩm quyền" in bodies[4]
    assert mails(box)[0][1]["From"].addresses[0].addr_spec == "motcua@hoatien.example.vn"

    texts = sms(gateway)
    assert [t["ma_ho_so"] for t in texts] == [dossier.code] * 2 + [signed.code] * 2
    assert {t["so_dien_thoai"] for t in texts} == {PHONE}
    assert texts[3]["noi_dung"].startswith(f"Hồ sơ {signed.code} (")
    assert "đã có kết quả" in texts[3]["noi_dung"]
    headers = gateway.received[0][0]
    assert headers["authorization"] == "Bearer bi-mat"
    assert headers["content-type"].startswith("application/json")


def test_no_consent_or_no_contact_sends_nothing(
    world: WebWorld, mailbox: tuple[Mailbox, int], gateway: Receiver
) -> None:
    take_in(world, "a", Contact.of(PHONE, EMAIL, False))
    take_in(world, "b", Contact.of(None, None, True))
    take_in(world, "c", None)
    settle(world)
    queue = services(world.app).core.notices
    assert queue is not None and queue.notices() == []
    assert mailbox[0].messages == [] and gateway.received == []


def test_a_gateway_that_is_down_delays_the_notice_never_the_operation(
    world: WebWorld, gateway: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    svc = services(world.app)
    queue = svc.core.notices
    assert queue is not None
    gateway.script = [503]
    caplog.set_level(logging.INFO)
    dossier = take_in(world, "a", Contact.of(PHONE, EMAIL, True))
    settle(world)
    http = [n for n in queue.notices(dossier.code) if n.channel == "http"]
    assert len(http) == 1 and http[0].sent_at is None and http[0].rounds == 1
    assert http[0].last_error is not None and "503" in http[0].last_error
    assert queue.deliver_pending() == (0, 0)  # not due yet: it waits its back-off
    assert svc.register.get(dossier.code).status.value == "received"  # the operation stands
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
    queue.clock = lambda: later
    assert queue.deliver_pending() == (1, 0)
    assert [t["ma_ho_so"] for t in sms(gateway)] == [dossier.code, dossier.code]  # 503, then 200
    assert queue.notices(dossier.code)[-1].sent_at is not None
    assert queue.deliver_pending() == (0, 0)  # sent once
    ours = ("dossiers", "motcua", "flows")  # the test SMTP server (mail.log) logs addresses
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith(ours))
    assert dossier.code in logged
    assert PHONE not in logged and EMAIL not in logged and "Hằng" not in logged


def test_a_refused_message_is_given_up_not_retried(world: WebWorld, gateway: Receiver) -> None:
    queue = services(world.app).core.notices
    assert queue is not None
    gateway.script = [400]
    dossier = take_in(world, "a", Contact.of(PHONE, None, True))
    settle(world)
    (notice,) = queue.notices(dossier.code)
    assert notice.gave_up_at is not None and notice.sent_at is None
    queue.clock = lambda: dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
    assert queue.deliver_pending() == (0, 0)


def test_the_api_and_the_form_refuse_a_bad_contact(world: WebWorld) -> None:
    client = sign_in(world.app, "clerk")
    _, secret = services(world.app).accounts.add_token("cong-dich-vu", ["intake"])
    token = {"Authorization": f"Bearer {secret}"}
    answer = client.post("/api/v1/dossiers", headers=token,
                         data={"procedure": "xac-nhan-tinh-trang-hon-nhan", "phone": "12345",
                               "notice_consent": "true"},
                         files={"files": ("a.pdf", b"%PDF-1.4\n", "application/pdf")})  # fmt: skip
    assert answer.status_code == 400
    assert "số điện thoại không hợp lệ" in answer.text
    page = client.get("/dossiers/new")
    assert 'name="notice_consent"' in page.text and 'name="phone"' in page.text
