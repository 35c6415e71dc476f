"""Signing on the signer's own device (the leader's USB token): pyHanko's interrupted signing,
in two steps that may lie minutes and processes apart.

1. `prepare_signature(source, spec, certificates)` lays the signature field, appearance and
   certification into the document exactly as `sign_pdf` would (same `SignatureSpec`), reserves
   room for the CMS, digests the byte range and builds the CMS signed attributes. It returns a
   `PendingSignature`: plain bytes, storable anywhere (`to_json`/`from_json` plus the PDF), with
   what the device signs: `signed_attributes` (DER; PKCS#11 `CKM_SHA256_RSA_PKCS`) or their
   SHA-256 `digest` (devices that sign a prehashed value).
2. `finish_signature(pending, signature_value, spec)` checks the value against the certificate's
   public key first (a value made with another key is refused before anything is written), wraps
   it in the CMS with the signature timestamp (B-T and up), fills the reserved room, then adds the
   revocation data (B-LT) and a document timestamp (B-LTA), as `sign_pdf` does after signing.

Signatures are RSA PKCS#1 v1.5 or ECDSA (DER, or raw r||s as tokens return it) over SHA-256.
The certificate is checked against `spec.trust` at preparation, so a revoked, expired or foreign
certificate is refused before the leader is asked to sign anything.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO
from pathlib import Path
from typing import Any, Final

from motcua.errors import BadArgumentError, MotcuaError
from signing import sign as _sign
from signing.certcheck import check_signing_certificate
from signing.sign import Level, SignatureSpec
from signing.signers import LoadedSigner, load_certificates
from signing.upkeep import add_document_timestamp, add_revocation_data

log = logging.getLogger(__name__)

DIGEST_ALGORITHM: Final = "sha256"


@dataclass(frozen=True)
class PendingSignature:
    """A document waiting for its signature value; everything needed to finish it later."""

    pdf: bytes  # the document with the signature placeholder
    document_digest: bytes  # SHA-256 over the /ByteRange
    reserved_start: int  # the placeholder's place in `pdf`
    reserved_end: int
    signed_attributes: bytes  # DER of the CMS signed attributes: what the device signs
    signing_cert: bytes  # DER
    chain: tuple[bytes, ...]  # DER, the certificates sent with the signer's
    field: str
    signing_time: datetime
    digest_algorithm: str = DIGEST_ALGORITHM

    @property
    def digest(self) -> bytes:
        """SHA-256 of `signed_attributes`, for devices that sign a prehashed value."""
        return hashlib.sha256(self.signed_attributes).digest()

    @property
    def signature_algorithm(self) -> str:
        """`rsassa_pkcs1v15` or `ecdsa` (with `digest_algorithm`)."""
        return _key_kind(_public_key(self.signing_cert))

    @property
    def signer(self) -> str:
        from asn1crypto import x509

        from motcua.types import nfc

        cert = x509.Certificate.load(self.signing_cert)
        return nfc(str(cert.subject.native.get("common_name", "")))

    def to_json(self) -> dict[str, Any]:
        """Everything but the PDF, as JSON values (bytes in base64)."""
        b64 = _b64
        return {
            "document_digest": b64(self.document_digest),
            "reserved_start": self.reserved_start,
            "reserved_end": self.reserved_end,
            "signed_attributes": b64(self.signed_attributes),
            "signing_cert": b64(self.signing_cert),
            "chain": [b64(c) for c in self.chain],
            "field": self.field,
            "signing_time": self.signing_time.isoformat(),
            "digest_algorithm": self.digest_algorithm,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], pdf: bytes) -> PendingSignature:
        unb64 = base64.b64decode
        return cls(
            pdf=pdf,
            document_digest=unb64(data["document_digest"]),
            reserved_start=int(data["reserved_start"]),
            reserved_end=int(data["reserved_end"]),
            signed_attributes=unb64(data["signed_attributes"]),
            signing_cert=unb64(data["signing_cert"]),
            chain=tuple(unb64(c) for c in data["chain"]),
            field=str(data["field"]),
            signing_time=datetime.fromisoformat(data["signing_time"]),
            digest_algorithm=str(data.get("digest_algorithm", DIGEST_ALGORITHM)),
        )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def certificates_from_pem(data: bytes | str) -> list[Any]:
    """The certificates of a PEM (or DER) chain, the signer's first; `BadArgumentError` if none."""
    from pyhanko.keys import load_certs_from_pemder_data

    raw = data.encode("ascii", "replace") if isinstance(data, str) else data
    try:
        certs = list(load_certs_from_pemder_data(raw))
    except Exception as exc:  # asn1crypto raises ValueError, TypeError, KeyError ...
        raise BadArgumentError(
            f"not a certificate chain ({type(exc).__name__})",
            hint="send the signer's certificate first, then its CA certificates, as PEM",
        ) from None
    if not certs:
        raise BadArgumentError(
            "the certificate chain is empty",
            hint="send the signer's certificate first, then its CA certificates, as PEM",
        )
    if certs[0].ca:
        raise BadArgumentError(
            "the first certificate is a CA certificate, not the signer's",
            hint="put the signer's own certificate first in the chain",
        )
    return certs


def prepare_signature(
    source: bytes | Path | str, spec: SignatureSpec, certificates: Sequence[Any]
) -> PendingSignature:
    """Prepare `source` for a signature by the holder of `certificates[0]` (asn1crypto).

    Raises `CheckFailedError` when that certificate does not validate against `spec.trust`,
    `ServiceUnavailableError` when the TSA/OCSP/CRL do not answer, `InputFileError` for a bad PDF.
    """
    from pyhanko.sign.signers import ExternalSigner
    from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    if not certificates:
        raise BadArgumentError("no signer certificate", hint="send the signer's certificate")
    cert, sent = certificates[0], list(certificates[1:])
    extra = load_certificates(list(spec.extra_certs)) if spec.extra_certs else []
    _kind = _key_kind(_public_key(cert.dump()))  # refuse unsupported keys before any work
    _check_certificate(cert, [*sent, *extra], spec)
    external = ExternalSigner(
        signing_cert=cert,
        cert_registry=SimpleCertificateStore.from_certs([cert, *sent, *extra]),  # type: ignore[no-untyped-call]
        signature_value=_placeholder(cert.dump()),
    )
    signed_spec = _signature_only(spec)
    data, name = _sign._read_input(source)
    setup = _sign._set_up(
        data, name, signed_spec, LoadedSigner(external, "external"), _sign._prepare(signed_spec)
    )

    async def digest() -> tuple[Any, Any, Any]:
        prepared, _tbs, output = await setup.pdf_signer.async_digest_doc_for_signing(setup.writer)
        attributes = await external.signed_attrs(
            prepared.document_digest,
            DIGEST_ALGORITHM,
            attr_settings=PdfCMSSignedAttributes(signing_time=setup.signing_time),
            use_pades=True,
        )
        return prepared, output, attributes

    try:
        prepared, output, attributes = asyncio.run(digest())
    except MotcuaError:
        raise
    except Exception as exc:
        raise _sign._translate(exc, name) from None
    log.info("prepared %s for a signature by %s (%s)", name, _kind, setup.field_name)
    return PendingSignature(
        pdf=bytes(output.getvalue()),
        document_digest=bytes(prepared.document_digest),
        reserved_start=int(prepared.reserved_region_start),
        reserved_end=int(prepared.reserved_region_end),
        signed_attributes=attributes.dump(),
        signing_cert=cert.dump(),
        chain=tuple(c.dump() for c in sent),
        field=setup.field_name,
        signing_time=setup.signing_time,
    )


def finish_signature(
    pending: PendingSignature, signature_value: bytes, spec: SignatureSpec
) -> bytes:
    """The signed document: `signature_value` (over `pending.signed_attributes`) embedded.

    Raises `BadArgumentError` when the value was not made with the certificate's key.
    """
    from asn1crypto import cms, x509
    from pyhanko.sign.signers import ExternalSigner
    from pyhanko.sign.signers.pdf_byterange import PreparedByteRangeDigest
    from pyhanko.sign.signers.pdf_signer import PdfTBSDocument
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    value = checked_signature_value(pending, signature_value)
    cert = x509.Certificate.load(pending.signing_cert)
    chain = [x509.Certificate.load(c) for c in pending.chain]
    extra = load_certificates(list(spec.extra_certs)) if spec.extra_certs else []
    external = ExternalSigner(
        signing_cert=cert,
        cert_registry=SimpleCertificateStore.from_certs([cert, *chain, *extra]),  # type: ignore[no-untyped-call]
        signature_value=value,
    )
    prepared = _sign._prepare(_signature_only(spec))
    name = f"<{pending.field}>"

    async def container() -> Any:
        return await external.async_sign_prescribed_attributes(
            DIGEST_ALGORITHM,
            signed_attrs=cms.CMSAttributes.load(pending.signed_attributes),
            timestamper=prepared.timestamper,
        )

    output = BytesIO(pending.pdf)
    try:
        signature_cms = asyncio.run(container())
        PdfTBSDocument.finish_signing(
            output,
            PreparedByteRangeDigest(
                document_digest=pending.document_digest,
                reserved_region_start=pending.reserved_start,
                reserved_region_end=pending.reserved_end,
            ),
            signature_cms,
        )
        data = output.getvalue()
        if spec.level in (Level.B_LT, Level.B_LTA):
            context = _validation_context(spec, [*chain, *extra])
            data = add_revocation_data(data, pending.field, context)
            if spec.level == Level.B_LTA:
                data = add_document_timestamp(data, prepared.timestamper, context)
    except MotcuaError:
        raise
    except Exception as exc:
        raise _sign._translate(exc, name) from None
    log.info("finished the signature in %s (%s)", pending.field, spec.level)
    return bytes(data)


def checked_signature_value(pending: PendingSignature, signature_value: bytes) -> bytes:
    """The value as the CMS carries it, once it verifies with the certificate's public key."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    key = _public_key(pending.signing_cert)
    value = bytes(signature_value)
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(value, pending.signed_attributes, padding.PKCS1v15(), hashes.SHA256())
        elif isinstance(key, ec.EllipticCurvePublicKey):
            size = (key.curve.key_size + 7) // 8
            if len(value) == 2 * size and value[0] != 0x30:  # raw r||s from a PKCS#11 token
                r, s = value[:size], value[size:]
                value = encode_dss_signature(int.from_bytes(r), int.from_bytes(s))
            key.verify(value, pending.signed_attributes, ec.ECDSA(hashes.SHA256()))
        else:  # prepare refuses other keys; a stored session cannot hold one
            raise BadArgumentError("unsupported key type")
    except (InvalidSignature, ValueError):
        raise BadArgumentError(
            "chữ ký không khớp với chứng thư số đã gửi khi chuẩn bị (the signature value does "
            "not verify with the certificate's public key: made with another key, or over other "
            "data)",
            hint="sign the signed attributes (or their SHA-256 digest) with the key of the "
            "certificate sent to prepare, or prepare again with the certificate of the key used",
        ) from None
    return value


def _public_key(cert_der: bytes) -> Any:
    from cryptography import x509

    return x509.load_der_x509_certificate(cert_der).public_key()


def _key_kind(key: Any) -> str:
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    if isinstance(key, rsa.RSAPublicKey):
        return "rsassa_pkcs1v15"
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "ecdsa"
    raise BadArgumentError(
        f"the certificate's key ({type(key).__name__}) is not supported",
        hint="use an RSA or ECDSA signing certificate",
    )


def _placeholder(cert_der: bytes) -> bytes:
    """A signature value of the right length for sizing the reserved room."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = _public_key(cert_der)
    if isinstance(key, rsa.RSAPublicKey):
        return bytes(key.key_size // 8)
    size = (key.curve.key_size + 7) // 8
    return bytes(2 * (size + 1) + 8)  # the longest DER ECDSA-Sig-Value for the curve


def _signature_only(spec: SignatureSpec) -> SignatureSpec:
    """The spec of the signature itself: the DSS and the document timestamp come after it."""
    if spec.level in (Level.B_LT, Level.B_LTA):
        return dataclasses.replace(spec, level=Level.B_T)
    return spec


def _validation_context(spec: SignatureSpec, others: Sequence[Any]) -> Any:
    from pyhanko_certvalidator import ValidationContext

    return ValidationContext(
        trust_roots=load_certificates(list(spec.trust)),
        other_certs=list(others),
        allow_fetching=True,
    )


def _check_certificate(cert: Any, others: Sequence[Any], spec: SignatureSpec) -> None:
    """Refuse a certificate that may not sign (expired, not yet valid, revoked, no
    non-repudiation) or, with `spec.trust`, does not chain to it: at every level."""
    check_signing_certificate(
        cert,
        [cert, *others],
        load_certificates(list(spec.trust)) if spec.trust else [],
        usage=frozenset({"non_repudiation"}),
    )
