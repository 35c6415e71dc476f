"""A complete TEST public-key infrastructure for tests and the demo, built with certomancer.

`init(dir)` writes RSA keys, the certomancer configuration (times resolved relative to now, URLs
pointing at the local trust services on a free 127.0.0.1 port), every certificate as PEM, PKCS#12
bundles for the signers, and sample signature and seal images. `load(dir)` reads it back.
Everything here is TEST MATERIAL: the names say so, the password is public.
"""

from __future__ import annotations

import json
import re
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any, Final

import yaml

from motcua.errors import ConfigurationError, InputFileError

ARCH: Final = "motcua-test"
TEST_P12_PASSWORD: Final = "motcua-test"  # public on purpose: test material only
SIGNER_LABELS: Final = (
    "leader",
    "leader-2",
    "organization",
    "leader-expired",
    "leader-revoked",
)
_KEY_LABELS: Final = ("root", "interm", "tsa", "tsa-short", "ocsp", *SIGNER_LABELS)
_RELATIVE_RE: Final = re.compile(r"^@now(?:([+-])(\d+)([ydh]))?$")
_STATE_FILE: Final = "testpki.json"


@dataclass(frozen=True)
class TestPki:
    """Paths and URLs of a TEST PKI folder."""

    __test__ = False  # not a pytest class

    dir: Path
    port: int
    created: datetime

    @property
    def config_file(self) -> Path:
        return self.dir / "certomancer.yml"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def tsa_url(self) -> str:
        return f"{self.base_url}/{ARCH}/tsa/tsa"

    @property
    def short_tsa_url(self) -> str:
        """A TSA whose certificate ends 30 days after `init`: for the signature upkeep's tests."""
        return f"{self.base_url}/{ARCH}/tsa/tsa-short"

    @property
    def ocsp_url(self) -> str:
        return f"{self.base_url}/{ARCH}/ocsp/interm"

    @property
    def root_cert(self) -> Path:
        """The trust anchor to pass as `--trust`."""
        return self.cert("root")

    @property
    def chain(self) -> Path:
        """Intermediate + root, to pass as `--chain`."""
        return self.dir / "chain.pem"

    @property
    def signature_image(self) -> Path:
        return self.dir / "signature.png"

    @property
    def seal_image(self) -> Path:
        return self.dir / "seal.png"

    @property
    def p12_password(self) -> str:
        return TEST_P12_PASSWORD

    def cert(self, label: str) -> Path:
        return self.dir / "certs" / f"{label}.cert.pem"

    def key(self, label: str) -> Path:
        return self.dir / "keys" / f"{label}.key.pem"

    def p12(self, label: str) -> Path:
        return self.dir / f"{label}.p12"

    def not_after(self, label: str) -> datetime:
        """The end of a certificate's validity."""
        from cryptography import x509

        return x509.load_pem_x509_certificate(self.cert(label).read_bytes()).not_valid_after_utc

    def issue_signer_certificate(
        self, public_key_der: bytes, common_name: str, out: Path, *, days: int = 365
    ) -> Path:
        """Issue a signer certificate (non-repudiation) from the TEST intermediate for a public key
        held elsewhere, e.g. generated inside a PKCS#11 token. Revocation is checked via the CRL
        (certomancer's OCSP responder knows only its own certificates)."""
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.x509.oid import NameOID

        issuer_cert = x509.load_pem_x509_certificate(self.cert("interm").read_bytes())
        issuer_key = serialization.load_pem_private_key(
            self.key("interm").read_bytes(), password=None
        )
        public_key = serialization.load_der_public_key(public_key_der)
        now = datetime.now(UTC)
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "TEST motcua - không dùng thật"),
                x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            ]
        )
        crl_url = f"{self.base_url}/{ARCH}/crls/interm/latest.crl"
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer_cert.subject)
            .public_key(public_key)  # type: ignore[arg-type]
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=days))
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=True,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.CRLDistributionPoints(
                    [
                        x509.DistributionPoint(
                            [x509.UniformResourceIdentifier(crl_url)], None, None, None
                        )
                    ]
                ),
                critical=False,
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(
                    issuer_cert.public_key()  # type: ignore[arg-type]
                ),
                critical=False,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(public_key),  # type: ignore[arg-type]
                critical=False,
            )
        )
        cert = builder.sign(issuer_key, hashes.SHA256())  # type: ignore[arg-type]
        out.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return out

    def architecture(self) -> Any:
        """The certomancer PKIArchitecture (for the trust services)."""
        from certomancer.registry import CertomancerConfig

        config = CertomancerConfig.from_file(str(self.config_file), key_search_dir=str(self.dir))
        return config.get_pki_arch(ARCH)  # type: ignore[arg-type]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _resolve(node: Any, now: datetime, url: str) -> Any:
    """Replace "@now±N[ydh]" with ISO times and "@url" with the services' URL prefix."""
    if isinstance(node, dict):
        return {key: _resolve(value, now, url) for key, value in node.items()}
    if isinstance(node, list):
        return [_resolve(value, now, url) for value in node]
    if node == "@url":
        return url
    if isinstance(node, str) and (match := _RELATIVE_RE.match(node)):
        sign, amount, unit = match.groups()
        delta = timedelta()
        if amount:
            days = {"y": 365 * int(amount), "d": int(amount), "h": 0}[unit]
            hours = int(amount) if unit == "h" else 0
            delta = timedelta(days=days, hours=hours) * (-1 if sign == "-" else 1)
        return (now + delta).isoformat()
    return node


def _write_keys(keys_dir: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    keys_dir.mkdir(parents=True, exist_ok=True)
    for label in _KEY_LABELS:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        (keys_dir / f"{label}.key.pem").write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )


def init(directory: Path | str, *, port: int | None = None) -> TestPki:
    """Create a complete TEST PKI in `directory` (created; must be empty or absent)."""
    from asn1crypto import pem
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs12

    from signing.images import draw_seal, draw_signature

    target = Path(directory)
    if target.exists() and any(target.iterdir()):
        raise InputFileError(
            target, "folder is not empty", hint="choose a new folder for the test PKI"
        )
    target.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC).replace(microsecond=0)
    pki = TestPki(dir=target.resolve(), port=port or _free_port(), created=now)

    template = yaml.safe_load(
        resources.files("signing").joinpath("testpki.yaml").read_text(encoding="utf-8")
    )
    config = _resolve(template, now, pki.base_url)
    _write_keys(target / "keys")
    pki.config_file.write_text(
        "# TEST MATERIAL generated by `motcua pki init`; not for real documents.\n"
        + yaml.safe_dump(config, allow_unicode=True, sort_keys=False),
        encoding="utf-8",
    )

    arch = pki.architecture()
    certs_dir = target / "certs"
    certs_dir.mkdir()
    for label in config["pki-architectures"][ARCH]["certs"]:
        der = arch.get_cert(label).dump()
        pki.cert(label).write_bytes(pem.armor("CERTIFICATE", der))
    pki.chain.write_bytes(pki.cert("interm").read_bytes() + pki.cert("root").read_bytes())

    chain = [
        x509.load_pem_x509_certificate(pki.cert(label).read_bytes()) for label in ("interm", "root")
    ]
    for label in SIGNER_LABELS:
        key = serialization.load_pem_private_key(pki.key(label).read_bytes(), password=None)
        cert = x509.load_pem_x509_certificate(pki.cert(label).read_bytes())
        pki.p12(label).write_bytes(
            pkcs12.serialize_key_and_certificates(
                name=label.encode(),
                key=key,  # type: ignore[arg-type]
                cert=cert,
                cas=chain,
                encryption_algorithm=serialization.BestAvailableEncryption(
                    TEST_P12_PASSWORD.encode()
                ),
            )
        )

    draw_signature(pki.signature_image)
    draw_seal(pki.seal_image)
    (target / _STATE_FILE).write_text(
        json.dumps({"port": pki.port, "created": now.isoformat()}), encoding="utf-8"
    )
    (target / "README-TEST-PKI.txt").write_text(
        "TEST MATERIAL - KHÔNG DÙNG CHO VĂN BẢN THẬT (not for real documents)\n\n"
        f"Generated {now.isoformat()} by `motcua pki init`.\n"
        "Trust anchor: certs/root.cert.pem; chain: chain.pem.\n"
        "Signers: leader.p12, leader-2.p12 (a second leader), organization.p12 (valid 1 year),"
        " leader-expired.p12,"
        " leader-revoked.p12;\n"
        f"PKCS#12 password: {TEST_P12_PASSWORD} (set MOTCUA_P12_PASSWORD).\n"
        f"Trust services (`motcua trust-services up --pki {target}`): {pki.base_url}\n"
        f"  TSA  {pki.tsa_url}\n  OCSP {pki.ocsp_url}\n",
        encoding="utf-8",
    )
    return pki


def load(directory: Path | str) -> TestPki:
    """Read a TEST PKI folder written by `init`."""
    target = Path(directory)
    state_file = target / _STATE_FILE
    try:
        state = json.loads(state_file.read_text(encoding="utf-8"))
        return TestPki(
            dir=target.resolve(),
            port=int(state["port"]),
            created=datetime.fromisoformat(state["created"]),
        )
    except FileNotFoundError:
        raise ConfigurationError(
            f"{target}: no test PKI here ({_STATE_FILE} missing)",
            hint=f"create one with `motcua pki init {target}`",
        ) from None
    except (ValueError, KeyError) as exc:
        raise ConfigurationError(
            f"{state_file}: unreadable ({exc})", hint="recreate it with `motcua pki init`"
        ) from None
