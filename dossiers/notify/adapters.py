"""How a notice goes out: e-mail over SMTP (stdlib `smtplib`), or a JSON POST to an SMS/Zalo
gateway whose URL and body template are configuration.

`send` raises `SendError` (`permanent` when trying again cannot help: a refused address, a 4xx).
Error texts name the server and the SMTP/HTTP code, never the recipient.
"""

from __future__ import annotations

import json
import smtplib
import ssl
import string
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Protocol
from urllib.parse import urlsplit

import httpx

from motcua.errors import ConfigurationError

# The gateway's body by default; `$phone`, `$message`, `$subject`, `$dossier_code` are replaced
# by JSON-escaped values (the template is JSON with placeholders inside its strings).
DEFAULT_HTTP_TEMPLATE = '{"to": "$phone", "text": "$message", "ref": "$dossier_code"}'


class SendError(Exception):
    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason[:300]
        self.permanent = permanent


class Adapter(Protocol):
    @property
    def channel(self) -> str:
        """ "email" or "http": which contact field it sends to."""
        ...

    def send(self, recipient: str, subject: str, body: str, *, dossier_code: str) -> None: ...


@dataclass(frozen=True)
class SmtpAdapter:
    host: str
    port: int = 25
    sender: str = "motcua@localhost"
    sender_name: str = "Bộ phận Một cửa"
    username: str | None = None
    password: str | None = None
    security: str = "none"  # none, starttls, ssl
    timeout: float = 20.0
    channel: str = "email"

    def send(self, recipient: str, subject: str, body: str, *, dossier_code: str) -> None:
        msg = EmailMessage()
        msg["From"] = formataddr((self.sender_name, self.sender))
        msg["To"] = recipient
        msg["Subject"] = subject
        msg["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        msg["X-Motcua-Dossier"] = dossier_code
        msg.set_content(body, charset="utf-8")
        where = f"SMTP {self.host}:{self.port}"
        try:
            if self.security == "ssl":
                tls = ssl.create_default_context()
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=self.timeout, context=tls
                )
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            with smtp:
                if self.security == "starttls":
                    smtp.starttls(context=ssl.create_default_context())
                if self.username:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused:
            raise SendError(f"{where}: recipient refused", permanent=True) from None
        except smtplib.SMTPResponseException as exc:
            raise SendError(f"{where}: {exc.smtp_code}", permanent=500 <= exc.smtp_code < 600
                            and exc.smtp_code not in (421, 450, 451, 452)) from None  # fmt: skip
        except (smtplib.SMTPException, OSError) as exc:
            raise SendError(f"{where}: {type(exc).__name__}") from None


@dataclass(frozen=True)
class HttpAdapter:
    url: str
    template: str = DEFAULT_HTTP_TEMPLATE
    token: str | None = None  # sent as `Authorization: Bearer <token>`
    timeout: float = 15.0
    channel: str = "http"

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ConfigurationError(
                f"notice gateway URL {self.url!r} is not an http(s) URL",
                hint="set MOTCUA_NOTICE_HTTP_URL to e.g. https://sms.example.vn/api/send",
            )
        try:
            self.render("0900000000", "s", "m", "c")
        except (ValueError, KeyError) as exc:
            raise ConfigurationError(
                f"MOTCUA_NOTICE_HTTP_TEMPLATE is not JSON with $placeholders: {exc}",
                hint=f"e.g. {DEFAULT_HTTP_TEMPLATE}",
            ) from None

    def render(self, phone: str, subject: str, message: str, dossier_code: str) -> bytes:
        def escaped(value: str) -> str:
            return json.dumps(value, ensure_ascii=False)[1:-1]

        values = {"phone": phone, "subject": subject, "message": message,
                  "dossier_code": dossier_code}  # fmt: skip
        body = string.Template(self.template).substitute({k: escaped(v) for k, v in values.items()})
        json.loads(body)  # a template that does not give JSON is a configuration error
        return body.encode("utf-8")

    def send(self, recipient: str, subject: str, body: str, *, dossier_code: str) -> None:
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        content = self.render(recipient, subject, body, dossier_code)
        host = urlsplit(self.url).netloc
        try:
            response = httpx.post(self.url, content=content, headers=headers, timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise SendError(f"gateway {host}: {type(exc).__name__}") from None
        status = response.status_code
        if status >= 500 or status in (408, 425, 429):
            raise SendError(f"gateway {host}: HTTP {status}")
        if status >= 400:
            raise SendError(f"gateway {host}: HTTP {status}", permanent=True)
