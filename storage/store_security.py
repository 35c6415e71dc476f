"""Locking the embedded SeaweedFS store's internal listeners: mTLS and JWT keys it alone holds.

SeaweedFS enforces object lock only in its S3 gateway; its master, volume and filer servers
answer HTTP and gRPC on their own ports, and anyone who reaches them can delete or overwrite a
locked version behind the gateway's back. `weed server` reads `./security.toml` (its working
directory is `<home>/s3/`): there every HTTP listener other than S3 is HTTPS requiring a client
certificate (`[https.master|volume|filer]` with `ca`), every gRPC listener (TCP and the Unix
sockets it opens in /tmp) requires one too (`[grpc]`), and writes and reads on volume and filer
servers also need a JWT (`[jwt.signing]`, `[jwt.filer_signing]`, each with `.read`).

The certificates come from a throw-away CA whose private key is never written: nobody, motcua
included, can mint another certificate it accepts. Keys and certificates are mode 0600 under
`<home>/s3/tls/`; the JWT keys are new on every start.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_VALID_YEARS = 20
# every gRPC component of `weed server`; each gets the same server certificate
_GRPC_COMPONENTS = ("master", "volume", "filer", "s3")
_HTTPS_COMPONENTS = ("master", "volume", "filer")


@dataclass(frozen=True)
class StoreTls:
    """The files a client needs to talk to the internal listeners (tests, operators' tools)."""

    ca: Path
    cert: Path
    key: Path


def write_private(path: Path, data: bytes) -> None:
    """Write `data` to `path`, mode 0600 from the first byte."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(path, 0o600)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def ensure_tls(tls_dir: Path) -> StoreTls:
    """The CA and node certificate under `tls_dir`, created once (the CA key is discarded)."""
    files = StoreTls(ca=tls_dir / "ca.pem", cert=tls_dir / "node.pem", key=tls_dir / "node.key")
    if files.ca.is_file() and files.cert.is_file() and files.key.is_file():
        return files
    tls_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(tls_dir, 0o700)
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    until = now.replace(year=now.year + _VALID_YEARS)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("motcua embedded store CA")
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(until)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    node_key = ec.generate_private_key(ec.SECP256R1())
    node_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("motcua-store"))
        .issuer_name(ca_name)
        .public_key(node_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(until)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    write_private(
        files.key,
        node_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )
    write_private(files.cert, node_cert.public_bytes(serialization.Encoding.PEM))
    write_private(files.ca, ca_cert.public_bytes(serialization.Encoding.PEM))
    return files


def _toml_str(value: str | Path) -> str:
    text = str(value)
    if '"' in text or "\\" in text or "\n" in text:
        raise ValueError(f"path not representable in security.toml: {text!r}")
    return f'"{text}"'


def security_toml(tls: StoreTls) -> str:
    """The `security.toml` text: fresh JWT keys, mTLS on every internal HTTP and gRPC listener."""
    lines = ["# written by motcua at every start of the embedded store; do not edit", ""]
    for section in (
        "jwt.signing",
        "jwt.signing.read",
        "jwt.filer_signing",
        "jwt.filer_signing.read",
    ):
        lines += [
            f"[{section}]",
            f'key = "{secrets.token_hex(32)}"',
            "expires_after_seconds = 10",
            "",
        ]
    lines += ["[access]", "ui = false", ""]
    lines += ["[filer.expose_directory_metadata]", "enabled = false", ""]
    lines += ["[grpc]", f"ca = {_toml_str(tls.ca)}", ""]
    for component in (*_GRPC_COMPONENTS, "client"):
        lines += [f"[grpc.{component}]", f"cert = {_toml_str(tls.cert)}"]
        lines += [f"key = {_toml_str(tls.key)}", ""]
    lines += ["[https.client]", "enabled = true", f"cert = {_toml_str(tls.cert)}"]
    lines += [f"key = {_toml_str(tls.key)}", f"ca = {_toml_str(tls.ca)}", ""]
    for component in _HTTPS_COMPONENTS:
        lines += [f"[https.{component}]", f"cert = {_toml_str(tls.cert)}"]
        lines += [f"key = {_toml_str(tls.key)}", f"ca = {_toml_str(tls.ca)}", ""]
    return "\n".join(lines)
