"""Resolve the services a command needs from the settings, starting embedded ones on demand."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from motcua.errors import ConfigurationError
from motcua.settings import Settings
from storage.s3 import S3Config
from storage.server import EmbeddedS3Server

if TYPE_CHECKING:
    from storage.archive import Archive, PdfChecker


def embedded_s3(settings: Settings) -> EmbeddedS3Server:
    return EmbeddedS3Server(settings.home)


def s3_config(settings: Settings, *, start: bool = True) -> S3Config:
    """The configured S3 server, or the embedded one (started when `start` and not running)."""
    if settings.s3_endpoint:
        if not settings.s3_access_key or settings.s3_secret_key is None:
            raise ConfigurationError(
                "MOTCUA_S3_ENDPOINT is set but the credentials are not",
                hint="set MOTCUA_S3_ACCESS_KEY and MOTCUA_S3_SECRET_KEY",
            )
        return S3Config(
            endpoint=settings.s3_endpoint,
            access_key=settings.s3_access_key,
            secret_key=settings.s3_secret_key.get_secret_value(),
            secure=settings.s3_secure,
            region=settings.s3_region,
        )
    server = embedded_s3(settings)
    return server.up() if start else server.config()


def s3_setup_config(settings: Settings) -> S3Config | None:
    """The set-up identity (bucket creation only): the embedded store's, or the configured one;
    None when an external store has no set-up key configured (the working key then tries)."""
    if settings.embedded_s3:
        return embedded_s3(settings).setup_config()
    if not settings.s3_setup_access_key or settings.s3_setup_secret_key is None:
        return None
    assert settings.s3_endpoint is not None
    return S3Config(
        endpoint=settings.s3_endpoint,
        access_key=settings.s3_setup_access_key,
        secret_key=settings.s3_setup_secret_key.get_secret_value(),
        secure=settings.s3_secure,
        region=settings.s3_region,
    )


def archive(settings: Settings) -> Archive:
    """The write-once archive: buckets and catalogue from the settings, S3 from `s3_config`."""
    from storage.archive import Archive, Buckets
    from storage.catalogue import Catalogue
    from storage.replica import ReplicaConfig

    settings.home.mkdir(parents=True, exist_ok=True)
    # an embedded server that restarts may pick other ports: let retries find it again
    resolve = embedded_s3(settings).config if settings.embedded_s3 else None
    working = s3_config(settings)
    return Archive(
        working,
        Catalogue(settings.effective_catalog_url),
        Buckets(
            originals=settings.bucket_originals,
            archive=settings.bucket_archive,
            quarantine=settings.bucket_quarantine,
        ),
        resolve_s3=resolve,
        setup=s3_setup_config(settings),
        replica=replica_config(settings, ReplicaConfig),
    )


def replica_config(settings: Settings, make: Any) -> Any:
    """The second copy's server from `MOTCUA_S3_REPLICA_*`, or None when unset."""
    if not settings.s3_replica_endpoint:
        return None
    if not settings.s3_replica_access_key or settings.s3_replica_secret_key is None:
        raise ConfigurationError(
            "MOTCUA_S3_REPLICA_ENDPOINT is set but the credentials are not",
            hint="set MOTCUA_S3_REPLICA_ACCESS_KEY and MOTCUA_S3_REPLICA_SECRET_KEY",
        )

    def config(access: str, secret: SecretStr) -> S3Config:
        assert settings.s3_replica_endpoint is not None
        return S3Config(endpoint=settings.s3_replica_endpoint, access_key=access,
                        secret_key=secret.get_secret_value(), secure=settings.s3_replica_secure,
                        region=settings.s3_replica_region)  # fmt: skip

    setup = None
    if settings.s3_replica_setup_access_key and settings.s3_replica_setup_secret_key:
        setup = config(settings.s3_replica_setup_access_key, settings.s3_replica_setup_secret_key)
    return make(
        config(settings.s3_replica_access_key, settings.s3_replica_secret_key),
        bucket=settings.s3_replica_bucket,
        setup=setup,
    )


def pdf_checker(
    trust: tuple[Path, ...] = (), offline: bool = False, accept_unknown_revocation: bool = False
) -> PdfChecker | None:
    """`signing.verify_pdf` as the audit's PDF hook, or None when `signing` is not installed.
    With trust anchors, a revocation status that could not be checked is a problem unless
    `accept_unknown_revocation`.

    Unsigned PDFs (scans) have nothing to re-validate. Without trust anchors a signature must be
    intact and cryptographically valid; with them it must also chain to a trusted root, and a
    revocation status that could not be checked (offline, OCSP/CRL down) is a finding unless
    `accept_unknown_revocation`.
    """
    try:
        from signing import verify_pdf
    except ImportError:
        return None

    def check(data: bytes, name: str) -> list[str]:
        report = verify_pdf(data, trust=list(trust), fetch=not offline,
                            accept_unknown_revocation=accept_unknown_revocation)  # fmt: skip
        if not report.signatures:
            return []
        problems = []
        for sig in report.signatures:
            good = sig.ok if trust else (sig.intact and sig.valid)
            if not good:
                reasons = "; ".join(sig.errors) or (
                    "không được tin cậy (not trusted)" if sig.valid else "không hợp lệ (invalid)"
                )
                problems.append(f"chữ ký {sig.field}: {reasons}")
        return problems + [e for e in report.errors if e]

    return check
