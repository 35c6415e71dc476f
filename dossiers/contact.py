"""The citizen's contact for notices: a phone number and/or an e-mail address, and consent.

Taken at intake (every door: CLI, web form, API) and stored on the dossier. Notices go out only
when a contact is on record *and* the citizen ticked consent (`Contact.reachable`). The values
are personal data: never logged; `masked()` is what lists and logs may show.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from motcua.errors import BadArgumentError
from motcua.types import nfc

# Vietnamese numbers: 0 + 9 digits (mobile), or +84 / 84 + 9 digits; spaces, dots and dashes
# between groups are allowed when typed and dropped when stored.
_PHONE_SEPARATORS = re.compile(r"[\s.\-()]")
_PHONE = re.compile(r"^(?:0|\+?84)(\d{9})$")
# A practical check, not RFC 5322: one @, a dot in the domain, no spaces.
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")


def normalise_phone(value: str) -> str:
    """`0912 345 678`, `+84 912.345.678` → `0912345678`; BadArgumentError otherwise."""
    digits = _PHONE_SEPARATORS.sub("", value.strip())
    match = _PHONE.match(digits)
    if match is None:
        raise BadArgumentError(
            "số điện thoại không hợp lệ (invalid phone number)",
            hint="10 chữ số bắt đầu bằng 0, hoặc +84 và 9 chữ số, ví dụ 0912 345 678",
        )
    return "0" + match.group(1)


def normalise_email(value: str) -> str:
    address = nfc(value.strip())
    if len(address) > 254 or _EMAIL.match(address) is None:
        raise BadArgumentError(
            "địa chỉ thư điện tử không hợp lệ (invalid e-mail address)",
            hint="ví dụ nguyenvana@example.vn",
        )
    local, _, domain = address.rpartition("@")
    return f"{local}@{domain.lower()}"


@dataclass(frozen=True)
class Contact:
    """How to reach the citizen, as recorded at intake."""

    phone: str | None = None
    email: str | None = None
    consent: bool = False  # the citizen agreed to receive notices (ticked at intake)

    @classmethod
    def of(cls, phone: str | None, email: str | None, consent: bool) -> Contact:
        """Checked and normalised values; empty strings count as absent."""
        return cls(
            phone=normalise_phone(phone) if phone and phone.strip() else None,
            email=normalise_email(email) if email and email.strip() else None,
            consent=bool(consent),
        )

    @classmethod
    def from_json(cls, data: Any) -> Contact | None:
        """The flows' parameter form (`{"phone", "email", "consent"}`), checked; None for none."""
        if not data:
            return None
        if not isinstance(data, dict):
            raise BadArgumentError("contact must be an object with phone, email and consent")
        return cls.of(data.get("phone"), data.get("email"), bool(data.get("consent")))

    @property
    def reachable(self) -> bool:
        """Notices may be sent: something to send them to, and consent."""
        return self.consent and bool(self.phone or self.email)

    def to_json(self) -> dict[str, Any]:
        return {"phone": self.phone, "email": self.email, "consent": self.consent}

    def masked(self) -> dict[str, Any]:
        """For lists: the last three digits of the phone, the e-mail's first letter and domain."""
        phone = mask_phone(self.phone) if self.phone else None
        email = mask_email(self.email) if self.email else None
        return {"phone": phone, "email": email, "consent": self.consent}


def mask_phone(phone: str) -> str:
    return f"•••••••{phone[-3:]}"


def mask_email(address: str) -> str:
    local, _, domain = address.partition("@")
    return f"{local[:1]}•••@{domain}"


def mask_recipient(value: str) -> str:
    """A notice's recipient (an e-mail address or a phone number) as lists may show it."""
    return mask_email(value) if "@" in value else mask_phone(value)
