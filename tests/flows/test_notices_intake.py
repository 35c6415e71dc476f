"""Issue 17, item 3, end to end: `motcua intake --email --notice-consent` on real scans (OCR,
archive on the session's S3) stores the contact, and the citizen's e-mail reaches a real local
SMTP server (aiosmtpd); without consent nothing is sent."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from flows.context import current_office
from motcua.cli import main

EMAIL = "tran.binh@example.vn"


@dataclass
class Mailbox:
    messages: list[tuple[list[str], bytes]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), bytes(envelope.content)))
        return "250 OK"


@pytest.fixture
def mailbox(
    office_home: Path, unused_port: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Mailbox]:
    box = Mailbox()
    port = unused_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("MOTCUA_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("MOTCUA_SMTP_PORT", str(port))
    current_office.cache_clear()
    try:
        yield box
    finally:
        controller.stop()


def intake(files: list[str], *flags: str, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    with pytest.raises(SystemExit) as done:
        main(["intake", *files, "--procedure", "dang-ky-khai-sinh",
              "--received-at", "2026-11-23T09:00:00+07:00", "--json", *flags])  # fmt: skip
    assert done.value.code in (0, None)
    result: dict[str, Any] = json.loads(capsys.readouterr().out)
    return result


def test_cli_intake_with_consent_mails_the_citizen(
    mailbox: Mailbox, birth_dossier_scans: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    files = [str(birth_dossier_scans["declaration"]), str(birth_dossier_scans["card"])]
    result = intake(files, "--email", EMAIL, "--phone", "0987 654 321", "--notice-consent",
                    capsys=capsys)  # fmt: skip
    assert result["notices"] is True
    office = current_office()
    contact = office.register.get(result["dossier_code"]).contact
    assert (contact.email, contact.phone, contact.consent) == (EMAIL, "0987654321", True)
    deadline = time.monotonic() + 30
    while not mailbox.messages and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [rcpt for rcpt, _ in mailbox.messages] == [[EMAIL]]
    assert result["dossier_code"].encode() in mailbox.messages[0][1]


def test_cli_intake_without_consent_sends_nothing(
    mailbox: Mailbox, birth_dossier_scans: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    result = intake([str(birth_dossier_scans["card"])], "--email", EMAIL, capsys=capsys)
    assert result["notices"] is False
    office = current_office()
    assert office.notices is not None
    assert office.notices.notices(result["dossier_code"]) == []
    with pytest.raises(SystemExit) as done:
        main(["intake", str(birth_dossier_scans["card"]), "--procedure", "dang-ky-khai-sinh",
              "--phone", "12", "--notice-consent"])  # fmt: skip
    assert done.value.code != 0
    assert "số điện thoại không hợp lệ" in capsys.readouterr().err
