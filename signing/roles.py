"""Which certificate may sign in which role: the office's one binding of certificates to roles
(the organisation, each leader account), kept in `<home>/signers.json`.

`verify_pdf(..., roles=...)` decides a signature's role from its certificate, not from the field
name: a bound certificate in the other role's field is a mismatch (the signature is not ok), and
an unbound one fills no role. Without a binding the field name gives the role, and one
certificate still cannot fill both. `motcua signers bind|list|unbind` edits the file; signing
refuses a leader signature made with the organisation's certificate, and a certificate bound to
another leader account.

The same file holds each leader account's own key (`SignerBinding.key`): a PKCS#12 the server
keeps under `<home>/signers/` (opened with the password the leader types at signing, never
stored), or a PKCS#11 token slot; `CertificateRoles.key_of(account)` finds it and
`motcua signers bind ACCOUNT --p12 FILE | --pkcs11-token LABEL` sets it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from motcua.errors import BadArgumentError, ConfigurationError
from motcua.types import nfc

SIGNERS_FILE = "signers.json"
KEYS_DIR = "signers"  # <home>/signers/<account>.p12: the leaders' own PKCS#12 files
KEY_KINDS = ("pkcs12", "pkcs11")
ROLE_LABELS = {"leader": "lãnh đạo", "organization": "cơ quan"}


def fingerprint(cert: Any) -> str:
    """The SHA-256 of a certificate's DER encoding (asn1crypto), as lowercase hex."""
    return hashlib.sha256(cert.dump()).hexdigest()


def common_name(cert: Any) -> str:
    return nfc(str(cert.subject.native.get("common_name", ""))) or "?"


@dataclass(frozen=True)
class SignerBinding:
    role: str  # leader | organization
    fingerprint: str
    name: str  # the certificate's common name, for people to read
    account: str | None = None  # the leader's account (user name); None: any leader account
    # the account's own key, when the server holds it: None (a certificate only: the leader
    # signs on a device, or with the server's configured key), "pkcs12" or "pkcs11"
    key: str | None = None
    p12: str | None = None  # pkcs12: the file, relative to <home>
    pkcs11_module: str | None = None  # pkcs11: None = MOTCUA_SIGNING_LEADER_PKCS11_MODULE
    pkcs11_token: str | None = None
    pkcs11_key: str | None = None
    title: str | None = None  # printed above the name on the stamp (Phó Chủ tịch ...)

    def as_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None or k == "account"}


@dataclass(frozen=True)
class CertificateRoles:
    bindings: tuple[SignerBinding, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.bindings)

    def of(self, cert_sha256: str | None) -> SignerBinding | None:
        return next((b for b in self.bindings if b.fingerprint == cert_sha256), None)

    def bind(self, role: str, certs: Iterable[Any], account: str | None = None) -> CertificateRoles:
        """These certificates (a leader may have several) in `role`; one role per certificate."""
        if role not in ROLE_LABELS:
            raise BadArgumentError(
                f"vai trò “{role}” không có", hint="một trong: leader, organization"
            )
        if role == "organization" and account:
            raise BadArgumentError("chứng thư của cơ quan không gắn với tài khoản lãnh đạo nào")
        owner = account or None
        added = [SignerBinding(role, fingerprint(c), common_name(c), owner) for c in certs]
        kept = list(self.bindings)
        for new in added:
            old = self.of(new.fingerprint)
            if old is not None and old.role != new.role:
                raise BadArgumentError(
                    f"chứng thư số {new.name} đã được gán vai trò {ROLE_LABELS[old.role]}:"
                    " một chứng thư không thể giữ cả hai vai trò",
                    hint="gỡ gán trước (motcua signers unbind FINGERPRINT)",
                )
            kept = [b for b in kept if b.fingerprint != new.fingerprint]
            kept.append(new)
        return replace(self, bindings=tuple(kept))

    def key_of(self, account: str) -> SignerBinding | None:
        """The account's own server-held key (a PKCS#12 or a token slot), if bound."""
        return next((b for b in self.bindings if b.account == account and b.key), None)

    def bind_key(self, account: str, cert: Any, **key: str | None) -> CertificateRoles:
        """`cert`'s key is `account`'s own (`key=`, and `p12=` or `pkcs11_*=`); the account's
        earlier key stays bound as a certificate only (its signatures still verify)."""
        if key.get("key") not in KEY_KINDS:
            raise BadArgumentError("khóa ký phải là pkcs12 hoặc pkcs11")
        if not account.strip():
            raise BadArgumentError("thiếu tài khoản lãnh đạo")
        bound = self.bind("leader", [cert], account)
        own = fingerprint(cert)
        kept = []
        for b in bound.bindings:
            if b.fingerprint == own:
                b = replace(b, **key)  # type: ignore[arg-type]
            elif b.account == account and b.key:
                b = replace(b, key=None, p12=None, pkcs11_module=None, pkcs11_token=None,
                            pkcs11_key=None, title=None)  # fmt: skip
            kept.append(b)
        return replace(self, bindings=tuple(kept))

    def unbind(self, prefix: str) -> CertificateRoles:
        prefix = prefix.strip().lower()
        left = tuple(b for b in self.bindings if not b.fingerprint.startswith(prefix))
        if len(prefix) < 8 or len(left) == len(self.bindings):
            raise BadArgumentError(
                f"không có chứng thư nào có dấu vân tay bắt đầu bằng “{prefix}”",
                hint="xem motcua signers list (ít nhất 8 ký tự đầu)",
            )
        return replace(self, bindings=left)

    def as_json(self) -> list[dict[str, Any]]:
        return [b.as_json() for b in self.bindings]


def load_roles(home: Path) -> CertificateRoles:
    """The office's binding (empty when `signers.json` does not exist)."""
    path = home / SIGNERS_FILE
    if not path.is_file():
        return CertificateRoles()
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
        return CertificateRoles(tuple(SignerBinding(**row) for row in rows))
    except (ValueError, TypeError) as exc:
        raise ConfigurationError(
            f"{path}: không đọc được bảng gán chứng thư số ({exc})",
            hint="sửa tệp, hoặc xoá rồi gán lại bằng motcua signers bind",
        ) from None


def store_p12(home: Path, account: str, source: Path) -> str:
    """Copy a leader's PKCS#12 into `<home>/signers/` (private to the office's user); the path
    relative to `home`, as the binding records it."""
    folder = home / KEYS_DIR
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    name = re.sub(r"[^A-Za-z0-9._-]", "_", account) + ".p12"
    target = folder / name
    part = target.with_suffix(".p12.part")
    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out, source.open("rb") as src:
        shutil.copyfileobj(src, out)
    part.replace(target)
    return f"{KEYS_DIR}/{name}"


def save_roles(home: Path, roles: CertificateRoles) -> Path:
    """Write the binding atomically, private to the office's user."""
    home.mkdir(parents=True, exist_ok=True)
    path = home / SIGNERS_FILE
    part = path.with_suffix(".json.part")
    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(roles.as_json(), out, ensure_ascii=False, indent=2)
    part.replace(path)
    return path
