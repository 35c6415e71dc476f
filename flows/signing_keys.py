"""The signing parameters of a result: which keys sign, at which level, with what appearance.

`SigningSetup` is what the office's settings say (`SigningSetup.from_settings`); the keys are
opened here, once per flow run, with their secrets from the environment (never from a flag):
`MOTCUA_P12_PASSWORD`, `MOTCUA_ORG_P12_PASSWORD` when the organisation's differs,
`MOTCUA_PKCS11_PIN` for a token. Certificates bound to roles and accounts
(`<home>/signers.json`, `signing.roles`) decide who may sign with which key.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flows.context import Office, current_office
from motcua.errors import CheckFailedError, ConfigurationError
from signing import Level, LoadedSigner, Role, SignatureSpec, load_pkcs12, open_pkcs11
from signing.roles import CertificateRoles, load_roles

if TYPE_CHECKING:
    from motcua.settings import Settings

__all__ = [
    "SigningSetup",
    "check_server_key_account",
    "check_signer_account",
    "leader_signer",
    "office_roles",
    "organization_fingerprint",
    "organization_spec",
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


def check_server_key_account(setup: SigningSetup, actor: str) -> None:
    from signing.roles import common_name, fingerprint

    roles = office_roles()
    if not roles:
        return
    cert = leader_signer(setup).certificate
    binding = roles.of(fingerprint(cert))
    check_signer_account(common_name(cert), binding.account if binding else None, actor)


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
