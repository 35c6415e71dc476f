"""Signing keys, loaded once per batch: PKCS#12 files, PEM key + certificate, PKCS#11 tokens.

Secrets are parameters here; the CLI reads them from MOTCUA_P12_PASSWORD / MOTCUA_PKCS11_PIN or
a prompt, never from a flag value. A `LoadedSigner` owns its PKCS#11 session: close it (or use it
as a context manager) when the batch is done.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from motcua.errors import BadArgumentError, InputFileError, MissingDependencyError
from motcua.types import nfc

log = logging.getLogger(__name__)


@dataclass
class LoadedSigner:
    """A pyHanko signer ready to sign many documents, and what to close afterwards."""

    signer: Any  # pyhanko.sign.signers.Signer
    source: str  # "pkcs12", "pem" or "pkcs11", for logs
    _close: Callable[[], None] | None = field(default=None, repr=False)

    @property
    def certificate(self) -> Any:
        """The signer's asn1crypto certificate."""
        return self.signer.signing_cert

    @property
    def common_name(self) -> str:
        return nfc(str(self.certificate.subject.native.get("common_name", "")))

    def close(self) -> None:
        if self._close is not None:
            self._close()
            self._close = None

    def __enter__(self) -> LoadedSigner:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _key_loaded_once(signer: Any) -> Any:
    """The same signer, with its private key parsed once instead of at every signature.

    pyHanko's SimpleSigner re-parses the DER key (RSA key checks: ~70 ms) for each signature
    and again for the size-estimating dry run; a batch pays that once here, and the dry run of
    an RSA key returns placeholder bytes of the exact signature length instead of signing.
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ec import ECDSA, EllipticCurvePrivateKey
    from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
    from pyhanko.sign import signers
    from pyhanko_certvalidator.util import get_pyca_cryptography_hash

    key = serialization.load_der_private_key(signer.signing_key.dump(), password=None)

    class KeyLoadedOnceSigner(signers.SimpleSigner):
        def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
            mechanism = self.get_signature_mechanism_for_digest(digest_algorithm)
            try:
                name = mechanism.signature_algo
            except ValueError:
                name = mechanism["algorithm"].native
            hash_algo = get_pyca_cryptography_hash(digest_algorithm)
            if name == "rsassa_pkcs1v15" and isinstance(key, RSAPrivateKey):
                return key.sign(data, PKCS1v15(), hash_algo)
            if name == "ecdsa" and isinstance(key, EllipticCurvePrivateKey):
                return key.sign(data, ECDSA(hash_algo))
            return bytes(super().sign_raw(data, digest_algorithm))  # other schemes: pyHanko

        async def async_sign_raw(
            self, data: bytes, digest_algorithm: str, dry_run: bool = False
        ) -> bytes:
            if dry_run and isinstance(key, RSAPrivateKey):
                return bytes(key.key_size // 8)  # RSA signatures have exactly this length
            return self.sign_raw(data, digest_algorithm)

    return KeyLoadedOnceSigner(
        signing_cert=signer.signing_cert,
        signing_key=signer.signing_key,
        cert_registry=signer.cert_registry,
        signature_mechanism=signer.signature_mechanism,
        prefer_pss=signer.prefer_pss,
        embed_roots=signer.embed_roots,
    )


def _require_file(path: Path, what: str) -> Path:
    if not path.is_file():
        raise InputFileError(path, f"{what} not found", hint="check the path")
    return path


def load_certificates(paths: Sequence[Path]) -> list[Any]:
    """Read PEM or DER certificates (a PEM file may hold several)."""
    from pyhanko.keys import load_certs_from_pemder

    for path in paths:
        _require_file(path, "certificate file")
    try:
        return list(load_certs_from_pemder([str(p) for p in paths]))  # type: ignore[no-untyped-call]
    except (ValueError, OSError) as exc:
        raise InputFileError(
            ", ".join(map(str, paths)),
            f"not a certificate file ({exc})",
            hint="pass PEM or DER X.509 certificates",
        ) from None


def load_pkcs12(path: Path, password: str | None, chain: Sequence[Path] = ()) -> LoadedSigner:
    """Load a key and certificate (and its CA chain) from a PKCS#12 file."""
    from pyhanko.sign import signers

    _require_file(path, "PKCS#12 file")
    signer = signers.SimpleSigner.load_pkcs12(  # type: ignore[no-untyped-call]
        str(path),
        ca_chain_files=[str(p) for p in chain] or None,
        passphrase=password.encode() if password is not None else None,
    )
    if signer is None:  # pyHanko logs the reason and returns None
        raise InputFileError(
            path,
            "cannot open the PKCS#12 file (wrong password or damaged file)",
            hint="check MOTCUA_P12_PASSWORD or the password you typed",
        )
    log.info("loaded PKCS#12 signer from %s", path.name)
    return LoadedSigner(signer=_key_loaded_once(signer), source="pkcs12")


def load_pem(
    key: Path, cert: Path, password: str | None = None, chain: Sequence[Path] = ()
) -> LoadedSigner:
    """Load a PEM/DER private key and its certificate."""
    from pyhanko.sign import signers

    _require_file(key, "key file")
    _require_file(cert, "certificate file")
    encrypted = b"ENCRYPTED" in key.read_bytes()[:200]  # PKCS#8 or legacy encrypted PEM
    signer = signers.SimpleSigner.load(  # type: ignore[no-untyped-call]
        str(key),
        str(cert),
        ca_chain_files=[str(p) for p in chain] or None,
        key_passphrase=password.encode() if password and encrypted else None,
    )
    if signer is None:
        raise InputFileError(
            key,
            "cannot read the key or certificate (wrong password, wrong format or a mismatch)",
            hint="pass an unencrypted or MOTCUA_P12_PASSWORD-protected PEM key and its certificate",
        )
    log.info("loaded PEM signer from %s", key.name)
    return LoadedSigner(signer=_key_loaded_once(signer), source="pem")


def open_pkcs11(
    module: Path,
    token_label: str,
    key_label: str,
    pin: str | None,
    *,
    cert: Path | None = None,
    chain: Sequence[Path] = (),
) -> LoadedSigner:
    """Open a session on a PKCS#11 token and prepare its key for signing.

    The certificate comes from `cert` when given, otherwise from the token (label = key label).
    """
    try:
        from pkcs11 import PKCS11Error
        from pyhanko.config.pkcs11 import TokenCriteria
        from pyhanko.sign.pkcs11 import PKCS11Signer, open_pkcs11_session
    except ImportError as exc:
        raise MissingDependencyError(
            f"PKCS#11 support is not installed ({exc})",
            hint="install pyhanko[pkcs11] (python-pkcs11)",
        ) from None

    if not module.is_file():
        raise MissingDependencyError(
            f"PKCS#11 module not found: {module}",
            hint="install the token's driver or correct --pkcs11-module",
        )
    try:
        session = open_pkcs11_session(
            str(module), token_criteria=TokenCriteria(label=token_label), user_pin=pin
        )
    except (PKCS11Error, Exception) as exc:  # pkcs11 raises many unrelated error classes
        raise BadArgumentError(
            f"cannot open PKCS#11 token {token_label!r} with {module.name}: "
            f"{type(exc).__name__} {exc}".rstrip(),
            hint="check the token label, that the token is plugged in, and MOTCUA_PKCS11_PIN",
        ) from None
    try:
        signing_cert = load_certificates([cert])[0] if cert is not None else None
        signer = PKCS11Signer(
            session,
            key_label=key_label,
            cert_label=None if signing_cert is not None else key_label,
            signing_cert=signing_cert,
            ca_chain=load_certificates(list(chain)) if chain else None,
        )
        _ = signer.signing_cert  # fetch now, so a missing certificate fails before the batch
    except Exception as exc:
        session.close()
        raise BadArgumentError(
            f"PKCS#11 token {token_label!r}: cannot use key/certificate {key_label!r} "
            f"({type(exc).__name__}: {exc})",
            hint="check --pkcs11-key, or pass the certificate with --cert"
            + (
                "; no PIN was given, and tokens hide private keys until login:"
                " set MOTCUA_PKCS11_PIN"
                if pin is None
                else ""
            ),
        ) from None
    log.info("opened PKCS#11 token via %s", module.name)
    return LoadedSigner(signer=signer, source="pkcs11", _close=session.close)
