"""The signing parameters of a result: which keys sign, at which level, with what appearance.

`SigningSetup` is what the office's settings say (`SigningSetup.from_settings`); the keys are
opened here, once per flow run, with their secrets from the environment (never from a flag):
`MOTCUA_P12_PASSWORD`, `MOTCUA_ORG_P12_PASSWORD` when the organisation's differs,
`MOTCUA_PKCS11_PIN` for a token. Certificates bound to roles and accounts
(`<home>/signers.json`, `signing.roles`) decide who may sign with which key.

A leader account with a key of its own in that file (a PKCS#12 kept under `<home>/signers/`,
or a token slot) signs only with it: `open_personal_key(account, pin)` opens it with the PIN
the leader typed (held in memory for the job, never stored nor logged), and
`personal_key_in_use(key)` makes it the leader's key of the flows run in that context. An
office that binds leader certificates to accounts lets no account sign with the server's
shared key unless that key's certificate is bound to the account.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flows.context import Office, current_office
from motcua.errors import (
    BadArgumentError,
    CheckFailedError,
    ConfigurationError,
    InputFileError,
    MissingDependencyError,
    WrongPinError,
)
from signing import Level, LoadedSigner, Role, SignatureSpec, load_pkcs12, open_pkcs11
from signing.roles import CertificateRoles, SignerBinding, common_name, fingerprint, load_roles

if TYPE_CHECKING:
    from motcua.settings import Settings

log = logging.getLogger("motcua.flows.signing_keys")

__all__ = [
    "PersonalKey",
    "SigningSetup",
    "check_server_key_account",
    "check_signer_account",
    "leader_signer",
    "office_roles",
    "open_personal_key",
    "organization_fingerprint",
    "organization_spec",
    "personal_binding",
    "personal_key_in_use",
    "secret_from_env",
]


def office_roles() -> CertificateRoles:
    """The office's binding of certificates to roles (`<home>/signers.json`)."""
    return load_roles(current_office().settings.home)


def organization_fingerprint(setup: SigningSetup) -> str:
    from signing.roles import fingerprint

    organization = load_pkcs12(
        Path(setup.organization_p12),
        secret_from_env("MOTCUA_ORG_P12_PASSWORD", "MOTCUA_P12_PASSWORD"),
    )
    return fingerprint(organization.certificate)


def check_signer_account(signer: str | None, bound_account: str | None, actor: str) -> None:
    """A leader certificate bound to an account signs only for that account (`user:<name>`)."""
    account = actor.removeprefix("user:") if actor.startswith("user:") else None
    if bound_account and account and bound_account != account:
        raise CheckFailedError(
            f"chứng thư số của {signer or 'lãnh đạo'} được gán cho tài khoản {bound_account},"
            f" không phải {account}: mỗi lãnh đạo ký bằng chứng thư của mình",
            hint="đăng nhập bằng tài khoản của người ký, hoặc gán chứng thư cho tài khoản này"
            " (motcua signers bind)",
        )


def _account(actor: str) -> str | None:
    return actor.removeprefix("user:") if actor.startswith("user:") else None


def check_server_key_account(setup: SigningSetup, actor: str) -> None:
    """The key about to sign is the acting account's: its own key (`personal_key_in_use`), or
    the server's shared key when its certificate is bound to no other account (and, once the
    office binds leaders to accounts, bound to this one)."""
    personal = _PERSONAL.get()
    roles = office_roles()
    if personal is not None:
        cert = personal.certificate
        binding = roles.of(fingerprint(cert))
        check_signer_account(common_name(cert), binding.account if binding else None, actor)
        return
    account = _account(actor)
    if account and roles.key_of(account):
        raise CheckFailedError(
            f"tài khoản {account} có khóa ký riêng: hãy ký bằng khóa đó (nhập mã PIN)",
            hint="không ký bằng khóa chung của máy chủ",
        )
    if not roles:
        return
    with leader_signer(setup) as shared:
        cert = shared.certificate
    binding = roles.of(fingerprint(cert))
    bound_account = binding.account if binding else None
    accounts_bound = any(b.account for b in roles.bindings if b.role == "leader")
    if account and accounts_bound and bound_account is None:
        raise CheckFailedError(
            f"tài khoản {account} chưa được gán khóa ký riêng, và khóa chung của máy chủ"
            f" ({common_name(cert)}) không phải của tài khoản này",
            hint="quản trị gán khóa cho tài khoản (motcua signers bind TÀI_KHOẢN --p12 TỆP),"
            " hoặc ký bằng thiết bị ký số",
        )
    check_signer_account(common_name(cert), bound_account, actor)


# --- a leader's own key ---------------------------------------------------------------------


@dataclass(frozen=True)
class PersonalKey:
    """What the signing page tells a leader about the key they will sign with."""

    account: str
    kind: str  # pkcs12 | pkcs11
    signer_name: str  # the certificate's common name: the name on the stamp
    title: str | None = None

    @property
    def label_vi(self) -> str:
        return {"pkcs12": "tệp khóa (PKCS#12) lưu tại máy chủ",
                "pkcs11": "thiết bị ký số (token) gắn vào máy chủ"}[self.kind]  # fmt: skip


def personal_binding(office: Office, actor: str) -> PersonalKey | None:
    """The acting account's own key, as the binding file records it (None: it has none)."""
    account = _account(actor)
    binding = load_roles(office.settings.home).key_of(account) if account else None
    if account is None or binding is None or binding.key is None:
        return None
    return PersonalKey(account, binding.key, binding.name, binding.title)


_PERSONAL: contextvars.ContextVar[LoadedSigner | None] = contextvars.ContextVar(
    "motcua_personal_key", default=None
)


@contextlib.contextmanager
def personal_key_in_use(key: LoadedSigner) -> Iterator[LoadedSigner]:
    """Sign the leader's signatures of the flows run in this context with `key` (the caller
    opened it and closes it)."""
    token = _PERSONAL.set(key)
    try:
        yield key
    finally:
        _PERSONAL.reset(token)


def open_personal_key(office: Office, setup: SigningSetup, actor: str, pin: str) -> LoadedSigner:
    """Open the acting account's own key with the PIN (or PKCS#12 password) the leader typed.

    `WrongPinError` (Vietnamese, no path) when the PIN does not open it; the reason in English
    goes to the log, never the PIN."""
    account = _account(actor)
    binding = load_roles(office.settings.home).key_of(account) if account else None
    if account is None or binding is None:
        raise CheckFailedError(
            "tài khoản này chưa được gán khóa ký riêng",
            hint="quản trị gán khóa: motcua signers bind TÀI_KHOẢN --p12 TỆP",
        )
    if not pin:
        raise WrongPinError("hãy nhập mã PIN (mật khẩu) của khóa ký")
    chain = [Path(p) for p in setup.chain]
    if binding.key == "pkcs12":
        return _open_p12(office.settings.home, binding, pin, chain)
    return _open_token(setup, binding, pin, chain)


def _open_p12(home: Path, binding: SignerBinding, pin: str, chain: list[Path]) -> LoadedSigner:
    path = home / (binding.p12 or "")
    if not binding.p12 or not path.is_file():
        log.warning("the PKCS#12 of account %s is missing", binding.account)
        raise ConfigurationError(
            "không tìm thấy tệp khóa ký của tài khoản này trên máy chủ",
            hint="báo quản trị hệ thống gán lại khóa (motcua signers bind)",
        )
    try:
        key = load_pkcs12(path, pin, chain)
    except (InputFileError, ValueError) as exc:
        log.info("the PKCS#12 of account %s did not open: %s", binding.account, type(exc).__name__)
        raise WrongPinError("mã PIN (mật khẩu) không đúng: khóa ký không mở được") from None
    return _checked(key, binding)


def _open_token(
    setup: SigningSetup, binding: SignerBinding, pin: str, chain: list[Path]
) -> LoadedSigner:
    module = binding.pkcs11_module or setup.leader_pkcs11_module
    if not (module and binding.pkcs11_token and binding.pkcs11_key):
        raise ConfigurationError(
            "khóa ký trên thiết bị của tài khoản này chưa được cấu hình đủ",
            hint="báo quản trị hệ thống (motcua signers bind --pkcs11-token --pkcs11-key)",
        )
    try:
        key = open_pkcs11(Path(module), binding.pkcs11_token, binding.pkcs11_key, pin, chain=chain)
    except BadArgumentError as exc:
        log.info("the token of account %s did not open: %s", binding.account, exc.message)
        if "PinIncorrect" in exc.message or "PinLenRange" in exc.message:
            raise WrongPinError("mã PIN không đúng: thiết bị ký số không mở được") from None
        if "PinLocked" in exc.message:
            raise WrongPinError("thiết bị ký số đã bị khóa do nhập sai PIN nhiều lần") from None
        raise CheckFailedError(
            "không mở được thiết bị ký số (token) của tài khoản này",
            hint="kiểm tra thiết bị đã cắm vào máy chủ, hoặc báo quản trị hệ thống",
        ) from None
    except MissingDependencyError:
        log.warning("the PKCS#11 module of account %s is missing", binding.account)
        raise ConfigurationError(
            "máy chủ thiếu trình điều khiển của thiết bị ký số", hint="báo quản trị hệ thống"
        ) from None
    return _checked(key, binding)


def _checked(key: LoadedSigner, binding: SignerBinding) -> LoadedSigner:
    """The opened key holds the certificate bound to the account (not a swapped file)."""
    if fingerprint(key.certificate) != binding.fingerprint:
        key.close()
        raise CheckFailedError(
            "khóa ký trên máy chủ không khớp chứng thư số đã gán cho tài khoản",
            hint="báo quản trị hệ thống gán lại khóa (motcua signers bind)",
        )
    return key


# --- signing parameters ---------------------------------------------------------------------


@dataclass(frozen=True)
class SigningSetup:
    """Plain, serialisable signing parameters (a flow parameter a remote worker can receive).

    The leader's key is a PKCS#12 file (`leader_p12`) or a PKCS#11 token (`leader_pkcs11_*`);
    neither is needed when the leader signed on their own device (`complete_result`'s
    `leader_signed_pdf`).
    """

    leader_p12: str | None
    organization_p12: str
    chain: list[str] = field(default_factory=list)
    trust: list[str] = field(default_factory=list)
    tsa_url: str | None = None
    level: str = "B-LTA"
    signer_name: str | None = None
    signer_title: str | None = "Chủ tịch"
    signature_image: str | None = None
    seal_image: str | None = None
    leader_pkcs11_module: str | None = None
    leader_pkcs11_token: str | None = None
    leader_pkcs11_key: str | None = None
    leader_cert: str | None = None  # the token key's certificate, when the token holds none

    @property
    def leader_key_source(self) -> str | None:
        """`pkcs11`, `pkcs12` or None (no server-side leader key)."""
        if self.leader_pkcs11_module:
            return "pkcs11"
        return "pkcs12" if self.leader_p12 else None

    @classmethod
    def from_test_pki(cls, directory: Path, **overrides: Any) -> SigningSetup:
        from signing import testpki

        pki = testpki.load(directory)
        os.environ.setdefault("MOTCUA_P12_PASSWORD", pki.p12_password)
        values: dict[str, Any] = {
            "leader_p12": str(pki.p12("leader")),
            "organization_p12": str(pki.p12("organization")),
            "chain": [str(pki.chain)],
            "trust": [str(pki.root_cert)],
            "tsa_url": pki.tsa_url,
            "signature_image": str(pki.signature_image),
            "seal_image": str(pki.seal_image),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    @classmethod
    def from_settings(cls, settings: Settings) -> SigningSetup:
        """The web server's signing settings (`MOTCUA_SIGNING_*`)."""
        s = settings
        if s.signing_organization_p12 is None:
            raise ConfigurationError(
                "MOTCUA_SIGNING_ORGANIZATION_P12 is not set: the organisation cannot sign results",
                hint="set it to the organisation's PKCS#12 file, its password in "
                "MOTCUA_ORG_P12_PASSWORD (or MOTCUA_P12_PASSWORD)",
            )
        pkcs11 = s.signing_leader_pkcs11_module is not None
        if pkcs11 and not (s.signing_leader_pkcs11_token and s.signing_leader_pkcs11_key):
            raise ConfigurationError(
                "MOTCUA_SIGNING_LEADER_PKCS11_MODULE is set without the token and key labels",
                hint="set MOTCUA_SIGNING_LEADER_PKCS11_TOKEN and MOTCUA_SIGNING_LEADER_PKCS11_KEY",
            )

        def text(path: Path | None) -> str | None:
            return str(path) if path is not None else None

        return cls(
            leader_p12=None if pkcs11 else text(s.signing_leader_p12),
            organization_p12=str(s.signing_organization_p12),
            chain=[str(s.signing_chain)] if s.signing_chain else [],
            trust=[str(s.signing_trust)] if s.signing_trust else [],
            tsa_url=s.signing_tsa_url,
            level=s.signing_level,
            signer_name=s.signing_leader_name,
            signer_title=s.signing_leader_title,
            signature_image=text(s.signing_signature_image),
            seal_image=text(s.signing_seal_image),
            leader_pkcs11_module=text(s.signing_leader_pkcs11_module),
            leader_pkcs11_token=s.signing_leader_pkcs11_token,
            leader_pkcs11_key=s.signing_leader_pkcs11_key,
            leader_cert=text(s.signing_leader_cert),
        )


def secret_from_env(name: str, fallback: str | None = None) -> str:
    value = os.environ.get(name) or (os.environ.get(fallback) if fallback else None)
    if value is None:
        raise ConfigurationError(
            f"{name} is not set", hint=f"export {name}=... (the PKCS#12 password; never a flag)"
        )
    return value


def organization_spec(setup: SigningSetup, office: Office) -> SignatureSpec:
    return SignatureSpec(
        role=Role.organization,
        level=Level(setup.level),
        organization=office.printed.name,
        tsa_url=setup.tsa_url,
        trust=tuple(Path(p) for p in setup.trust),
        extra_certs=tuple(Path(p) for p in setup.chain),
    )


def leader_signer(setup: SigningSetup) -> LoadedSigner:
    """The leader's key: the account's own key in use in this context (left open: its opener
    closes it), else the server's configured one."""
    personal = _PERSONAL.get()
    if personal is not None:
        return LoadedSigner(signer=personal.signer, source=personal.source)
    chain = [Path(p) for p in setup.chain]
    if setup.leader_pkcs11_module:
        if not (setup.leader_pkcs11_token and setup.leader_pkcs11_key):
            raise ConfigurationError("a PKCS#11 leader key needs its token and key labels")
        return open_pkcs11(
            Path(setup.leader_pkcs11_module),
            setup.leader_pkcs11_token,
            setup.leader_pkcs11_key,
            os.environ.get("MOTCUA_PKCS11_PIN"),
            cert=Path(setup.leader_cert) if setup.leader_cert else None,
            chain=chain,
        )
    if setup.leader_p12:
        return load_pkcs12(Path(setup.leader_p12), secret_from_env("MOTCUA_P12_PASSWORD"), chain)
    raise ConfigurationError(
        "no server-side key of the leader is configured",
        hint="set MOTCUA_SIGNING_LEADER_P12 or MOTCUA_SIGNING_LEADER_PKCS11_MODULE/_TOKEN/_KEY, "
        "or let the leader sign on their own device (prepare, then finish)",
    )
