"""`motcua notices list|send`: a notice that could not go while the SMTP server was down waits
in the queue (recipient masked in the list), `send` says so with exit 3, and once the server
(a real aiosmtpd) is up `send` delivers it at once, without waiting for its next try."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from test_notices_intake import Mailbox

from dossiers.contact import Contact
from dossiers.register import DocumentIn
from flows.context import current_office
from motcua.cli import main

EMAIL = "thu.ha@example.vn"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as done:
        main(list(args))
    out, err = capsys.readouterr()
    return int(done.value.code or 0), out, err


def test_a_notice_kept_while_smtp_is_down_is_sent_by_hand_once_it_is_back(
    office_home: Path, unused_port: Any, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    port = unused_port()  # nothing listens there yet
    monkeypatch.setenv("MOTCUA_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("MOTCUA_SMTP_PORT", str(port))
    current_office.cache_clear()
    office = current_office()
    assert office.notices is not None
    doc = DocumentIn(path="/scans/tk.pdf", kind="to-khai-khai-sinh",
                     sha256=hashlib.sha256(b"tk").hexdigest(), fields={})  # fmt: skip
    dossier = office.register.intake(
        office.catalogue.get("dang-ky-khai-sinh"), [doc], citizen_name="Lê Thu Hà",
        contact=Contact.of(None, EMAIL, True),
    ).dossier  # fmt: skip
    office.notify("dossier.received", dossier.code)
    assert office.notices.wait_idle(30)

    code, out, _ = run(capsys, "notices", "list", "--pending", "--json")
    assert code == 0
    rows = json.loads(out)
    assert [(r["dossier_code"], r["kind"], r["channel"], r["state"]) for r in rows] == [
        (dossier.code, "supplement", "email", "waiting")  # taken in incomplete
    ]
    assert rows[0]["recipient"] == "t•••@example.vn" and rows[0]["rounds"] == 1
    assert rows[0]["last_error"]
    assert EMAIL not in out

    code, out, err = run(capsys, "notices", "send")
    assert code == 3, (out, err)
    assert "1 thông báo chưa gửi được" in err
    assert "Traceback" not in err

    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        code, out, err = run(capsys, "notices", "send", "--json")
    finally:
        controller.stop()
    assert code == 0, err
    assert json.loads(out) == {"sent": 1, "failed": 0, "waiting": 0}
    assert [rcpt for rcpt, _ in box.messages] == [[EMAIL]]
    assert dossier.code.encode() in box.messages[0][1]

    code, out, _ = run(capsys, "notices", "list")
    assert code == 0
    assert "yêu cầu bổ sung" in out and "đã gửi" in out and EMAIL not in out
    code, out, _ = run(capsys, "notices", "list", "--pending", "--json")
    assert json.loads(out) == []


def test_notices_without_a_channel_say_what_to_set(
    office_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "notices", "list")
    assert code == 4
    assert "MOTCUA_SMTP_HOST" in err and "Traceback" not in err
