"""Whether a certificate may sign now: inside its validity period, not revoked, chaining to a CA.

Used before every signature, at every PAdES level (B-B included): `sign_pdf` for keys held by
the server or a token, `signing.interrupted` for a certificate a leader's device sends. The
revocation check is hard: a revoked certificate is refused (`CheckFailedError`), and so is one
whose OCSP responder or CRL cannot be reached (`ServiceUnavailableError`): a signature is not
made on a status nobody could check. Without configured trust anchors the self-signed CA
certificates of the signer's own chain serve as anchors for this check (they say nothing about
trust: `verify` judges that against the office's anchors).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from motcua.errors import BadArgumentError, CheckFailedError, ServiceUnavailableError
from motcua.types import nfc

_HINT = "dùng chứng thư số còn hiệu lực, chưa bị thu hồi (use a valid, unrevoked certificate)"


def _name(cert: Any) -> str:
    return nfc(str(cert.subject.native.get("common_name", ""))) or "người ký"


def _self_signed(cert: Any) -> bool:
    return bool(cert.subject == cert.issuer)


def check_validity_period(cert: Any, at: datetime | None = None) -> None:
    """Refuse an expired or not-yet-valid certificate (no network needed)."""
    moment = at or datetime.now(UTC)
    if cert.not_valid_after < moment:
        raise CheckFailedError(
            f"chứng thư số của {_name(cert)} đã hết hạn từ {cert.not_valid_after:%d/%m/%Y}"
            " (the signer's certificate expired): không ký được",
            hint=_HINT,
        )
    if cert.not_valid_before > moment:
        raise CheckFailedError(
            f"chứng thư số của {_name(cert)} chưa có hiệu lực, từ {cert.not_valid_before:%d/%m/%Y}"
            " (the signer's certificate is not yet valid): không ký được",
            hint=_HINT,
        )


def check_signing_certificate(
    cert: Any,
    others: Sequence[Any],
    trust_roots: Sequence[Any] = (),
    *,
    usage: frozenset[str] = frozenset({"digital_signature"}),
) -> None:
    """Refuse `cert` (asn1crypto) unless it is valid now, unrevoked (OCSP/CRL reached) and its
    path to `trust_roots` (or to a self-signed CA among `others`) validates for `usage`."""
    from pyhanko_certvalidator import CertificateValidator, ValidationContext
    from pyhanko_certvalidator.errors import (
        InsufficientRevinfoError,
        PathBuildingError,
        RevokedError,
        ValidationError,
    )

    check_validity_period(cert)
    roots = list(trust_roots) or [c for c in others if _self_signed(c) and c != cert]
    if not roots:
        raise BadArgumentError(
            f"không kiểm tra được thu hồi chứng thư số của {_name(cert)}: thiếu chứng thư CA"
            " (no CA certificate to check revocation against)",
            hint="pass the issuing CA chain (--chain) or the trust anchors (--trust)",
        )
    intermediates = [c for c in others if c != cert]
    context = ValidationContext(
        trust_roots=roots,
        other_certs=intermediates,
        allow_fetching=True,
        revocation_mode="hard-fail",
    )
    validator = CertificateValidator(
        cert, intermediate_certs=intermediates, validation_context=context
    )

    async def validate() -> None:
        try:
            await validator.async_validate_usage(set(usage))  # type: ignore[no-untyped-call]
        finally:
            await context.aclose()  # type: ignore[no-untyped-call]  # OCSP/CRL HTTP sessions

    try:
        asyncio.run(validate())
    except RevokedError as exc:
        raise CheckFailedError(
            f"chứng thư số của {_name(cert)} đã bị thu hồi (certificate revoked: {exc}):"
            " không ký được",
            hint=_HINT,
        ) from None
    except InsufficientRevinfoError as exc:
        raise ServiceUnavailableError(
            f"không kiểm tra được tình trạng thu hồi chứng thư số của {_name(cert)}"
            f" (OCSP/CRL unreachable: {exc}): chưa ký",
            hint="check the network and the CA's OCSP/CRL service (test services:"
            " motcua trust-services up), then sign again",
        ) from None
    except (PathBuildingError, ValidationError) as exc:
        raise CheckFailedError(
            f"chứng thư số của {_name(cert)} không dùng để ký được"
            f" (the signer's certificate cannot sign: {exc})",
            hint="use a valid, unrevoked signing certificate issued under the configured trust "
            "anchors, and send its CA certificates with it",
        ) from None
