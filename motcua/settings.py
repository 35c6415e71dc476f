"""Effective settings: `MOTCUA_*` environment variables over an optional TOML file over defaults.

The TOML file is `$MOTCUA_CONFIG` when set, else `~/.config/motcua/config.toml` when it exists;
its keys are the field names below (`s3_endpoint = "s3.example.vn:9000"`). Secrets are
`SecretStr` and never printed: `Settings.public_view()` masks them.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from motcua.errors import ConfigurationError
from motcua.inputs import InputLimits

DEFAULT_UNIT_CODE = "H40.29.10"  # QCVN 102:2016/BTTTT example used in Circular 01/2018 guidance


def default_home() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "motcua"


def default_config_file() -> Path:
    env = os.environ.get("MOTCUA_CONFIG")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "motcua" / "config.toml"


class Settings(BaseSettings):
    """Everything an operator may configure. Field `x` is read from `MOTCUA_X`."""

    model_config = SettingsConfigDict(env_prefix="MOTCUA_", extra="ignore", frozen=True)
    _config_file: ClassVar[Path | None] = None

    home: Path = Field(
        default_factory=default_home, description="data folder for embedded services"
    )

    s3_endpoint: str | None = Field(
        default=None, description="host:port of an S3 server; unset = run the embedded one"
    )
    s3_access_key: str | None = Field(
        default=None, description="the working identity: objects, retention, legal hold only"
    )
    s3_secret_key: SecretStr | None = None
    s3_setup_access_key: str | None = Field(
        default=None,
        description="the set-up identity (buckets, object lock, versioning, bucket policy); "
        "used only to create missing buckets; unset = the working key",
    )
    s3_setup_secret_key: SecretStr | None = None
    s3_secure: bool = False
    s3_region: str = "us-east-1"
    s3_replica_endpoint: str | None = Field(
        default=None,
        description="host:port of a second S3 server that keeps a copy of the archive; "
        "unset = one copy only",
    )
    s3_replica_access_key: str | None = None
    s3_replica_secret_key: SecretStr | None = None
    s3_replica_setup_access_key: str | None = Field(
        default=None, description="the replica's set-up identity (bucket creation only)"
    )
    s3_replica_setup_secret_key: SecretStr | None = None
    s3_replica_bucket: str | None = Field(
        default=None, description="the replica's archive bucket; unset = MOTCUA_BUCKET_ARCHIVE"
    )
    s3_replica_secure: bool = False
    s3_replica_region: str = "us-east-1"
    bucket_originals: str = "motcua-originals"
    bucket_archive: str = "motcua-archive"
    bucket_quarantine: str = "motcua-quarantine"

    catalog_url: str | None = Field(
        default=None, description="SQLAlchemy URL; unset = SQLite under MOTCUA_HOME"
    )

    unit_code: str = DEFAULT_UNIT_CODE
    office_name: str = "Ủy ban nhân dân xã Hòa Tiến"
    office_parent: str = "UBND HUYỆN HÒA VANG"
    office_place: str = "Hòa Tiến"

    prefect_api_url: str | None = Field(
        default=None, description="a Prefect server's API URL; unset = embedded ephemeral API"
    )
    ocr_jobs: int | None = Field(
        default=None, ge=1, description="OCR worker processes; unset = cores"
    )
    ocr_runner: Literal["threads", "dask"] = Field(
        default="threads",
        description="where intake OCRs pages: threads on this machine, or a Dask cluster",
    )
    dask_address: str | None = Field(
        default=None,
        description="scheduler of a Dask cluster for page OCR (tcp://host:8786); with "
        "ocr_runner=dask and no address, a local cluster is started per dossier",
    )
    ocr_page_timeout: float = Field(
        default=180.0, gt=0, description="seconds before a page is abandoned"
    )
    log_level: str = "WARNING"

    # The input gate (motcua.inputs): every door refuses a file beyond these before decoding it.
    input_max_mb: float = Field(
        default=InputLimits.max_mb, gt=0, description="largest input file (ocr, extract...), MiB"
    )
    input_max_pages: int = Field(default=InputLimits.max_pages, ge=1, description="pages of a PDF")
    input_max_frames: int = Field(
        default=InputLimits.max_frames, ge=1, description="frames of a TIFF or other image"
    )
    input_max_megapixels: float = Field(
        default=InputLimits.max_megapixels, gt=0, description="pixels of an image, millions"
    )
    input_max_side_px: int = Field(
        default=InputLimits.max_side_px, ge=1, description="longest side of an image, pixels"
    )
    input_max_page_mm: float = Field(
        default=InputLimits.max_page_mm, gt=0, description="long side of a PDF page, mm (A0)"
    )
    input_max_stream_mb: float = Field(
        default=InputLimits.max_stream_mb, gt=0, description="one PDF stream, inflated, MiB"
    )

    web_session_secret: SecretStr | None = Field(
        default=None, description="signs session cookies; unset = generated once under home"
    )
    web_public_url: str | None = Field(
        default=None,
        description="the address clerks open, e.g. https://motcua.xa.gov.vn/; an https address "
        "makes cookies Secure by default",
    )
    public_status_url: str | None = Field(
        default=None,
        description="the address citizens reach from the receipt's QR code (the public status "
        "page, /tra-cuu/...), e.g. https://tracuu.xa.gov.vn/; unset = web_public_url, else "
        "http://127.0.0.1:8000/",
    )
    web_secure_cookies: bool | None = Field(
        default=None,
        description="cookies only over HTTPS; unset = when web_public_url is https (a request "
        "that came over HTTPS, directly or from a trusted proxy, always gets Secure cookies)",
    )
    web_trusted_proxies: str = Field(
        default="",
        description="comma-separated addresses or networks of reverse proxies whose "
        "X-Forwarded-For and X-Forwarded-Proto are believed; unset = none",
    )
    upload_max_mb: float = Field(default=50.0, gt=0, description="largest uploaded file, MiB")
    web_job_workers: int = Field(
        default=2,
        ge=1,
        le=16,
        description="flows the web server runs at the same time per lane (intakes; drafting "
        "and signing)",
    )
    webhook_url: str | None = Field(default=None, description="e-office system's event URL")
    webhook_secret: SecretStr | None = Field(default=None, description="HMAC key for webhooks")
    webhook_attempts: int = Field(
        default=5, ge=1, le=20, description="tries per delivery of an event, with back-off"
    )
    webhook_poll_seconds: float = Field(
        default=30.0, gt=0, description="how often the web server sends events left unsent"
    )
    webhook_retry_max_seconds: float = Field(
        default=3600.0, gt=0, description="longest wait before an unsent event is tried again"
    )
    webhook_flush_seconds: float = Field(
        default=10.0, ge=0, description="how long a command waits at exit for its events to go"
    )

    # Notices to citizens (dossiers.notify): by e-mail when MOTCUA_SMTP_HOST is set, by an SMS/Zalo
    # gateway when MOTCUA_NOTICE_HTTP_URL is set; only to citizens who consented at intake.
    smtp_host: str | None = Field(default=None, description="SMTP server for e-mail notices")
    smtp_port: int = Field(default=25, ge=1, le=65535, description="SMTP port")
    smtp_security: Literal["none", "starttls", "ssl"] = Field(
        default="none", description="none, starttls (port 587) or ssl (port 465)"
    )
    smtp_username: str | None = Field(default=None, description="SMTP login, if the server asks")
    smtp_password: SecretStr | None = Field(default=None, description="SMTP password")
    smtp_sender: str = Field(default="motcua@localhost", description="From: address of notices")
    smtp_sender_name: str = Field(default="Bộ phận Một cửa", description="From: display name")
    notice_http_url: str | None = Field(default=None, description="SMS/Zalo gateway endpoint")
    notice_http_template: str | None = Field(
        default=None,
        description="JSON body with $phone, $message, $subject, $dossier_code placeholders",
    )
    notice_http_token: SecretStr | None = Field(
        default=None, description="bearer token for the gateway"
    )
    notice_retry_max_seconds: float = Field(
        default=3600.0, gt=0, description="longest wait before an unsent notice is tried again"
    )
    notice_max_rounds: int = Field(
        default=12, ge=1, le=100, description="sends tried per notice before it is given up"
    )

    # Signing results from the web server. Secrets are never settings: the PKCS#12 passwords come
    # from MOTCUA_P12_PASSWORD (leader) and MOTCUA_ORG_P12_PASSWORD (organisation; defaults to
    # the leader's), the token PIN from MOTCUA_PKCS11_PIN, read from the environment when signing.
    signing_leader_p12: Path | None = Field(
        default=None, description="the leader's PKCS#12 file for signing on the server"
    )
    signing_leader_pkcs11_module: Path | None = Field(
        default=None, description="PKCS#11 module of the leader's token (instead of a PKCS#12)"
    )
    signing_leader_pkcs11_token: str | None = Field(default=None, description="token label")
    signing_leader_pkcs11_key: str | None = Field(default=None, description="key label")
    signing_leader_cert: Path | None = Field(
        default=None, description="the token key's certificate, when the token holds none"
    )
    signing_organization_p12: Path | None = Field(
        default=None, description="the organisation's PKCS#12 file (its signature follows)"
    )
    signing_chain: Path | None = Field(
        default=None, description="PEM file of the signers' CA certificates (intermediates)"
    )
    signing_trust: Path | None = Field(
        default=None, description="PEM file of the trust anchors (from B-LT up)"
    )
    signing_tsa_url: str | None = Field(default=None, description="timestamp authority (B-T up)")
    signing_level: Literal["B-B", "B-T", "B-LT", "B-LTA"] = Field(
        default="B-LTA", description="PAdES level of both signatures"
    )
    signature_renew_margin_days: int = Field(
        default=730,
        ge=1,
        description="renew an archived signature's timestamps this many days "
        "before their TSA certificate ends",
    )
    signature_weak_digests: str = Field(
        default="md5,sha1,sha224",
        description="digests that make an archived signature due for renewal (comma-separated)",
    )
    signing_leader_name: str | None = Field(
        default=None, description="the leader's name as printed; unset = the certificate's"
    )
    signing_leader_title: str = Field(default="Chủ tịch", description="printed above the name")
    signing_signature_image: Path | None = Field(
        default=None, description="the leader's handwritten signature (blue, transparent PNG)"
    )
    signing_seal_image: Path | None = Field(
        default=None, description="the organisation's seal (red, transparent PNG)"
    )
    signing_session_minutes: int = Field(
        default=15,
        ge=1,
        le=120,
        description="how long a prepared signature waits for the leader's device",
    )

    @field_validator("s3_endpoint", "s3_replica_endpoint")
    @classmethod
    def _endpoint_is_host_port(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if "://" in value or "/" in value:
            raise ValueError(
                "expected host:port without scheme or path (use MOTCUA_S3_SECURE=1 for TLS)"
            )
        return value

    @field_validator("web_public_url", "public_status_url")
    @classmethod
    def _public_url_is_http(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("expected an http:// or https:// address")
        return value

    @field_validator("web_trusted_proxies")
    @classmethod
    def _proxies_are_addresses(cls, value: str) -> str:
        entries = [part.strip() for part in value.split(",") if part.strip()]
        for entry in entries:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(
                    f"{entry!r} is not an IP address or network (e.g. 10.0.0.5 or 10.0.0.0/24)"
                ) from None
        return ",".join(entries)

    @field_validator("unit_code")
    @classmethod
    def _unit_code_shape(cls, value: str) -> str:
        if not value or any(ch.isspace() or ch == "-" for ch in value):
            raise ValueError("a unit code has no spaces or hyphens, e.g. H40.29.10")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if cls._config_file is not None and cls._config_file.is_file():
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=cls._config_file))
        return tuple(sources)

    def input_limits(self) -> InputLimits:
        """The input gate's bounds from these settings."""
        return InputLimits(
            max_mb=self.input_max_mb,
            max_pages=self.input_max_pages,
            max_frames=self.input_max_frames,
            max_megapixels=self.input_max_megapixels,
            max_side_px=self.input_max_side_px,
            max_page_mm=self.input_max_page_mm,
            max_stream_mb=self.input_max_stream_mb,
        )

    @property
    def embedded_s3(self) -> bool:
        return self.s3_endpoint is None

    @property
    def trusted_proxies(self) -> list[str]:
        return [entry for entry in self.web_trusted_proxies.split(",") if entry]

    @property
    def secure_cookies_always(self) -> bool:
        """Secure on every cookie, not only on those sent over HTTPS."""
        if self.web_secure_cookies is not None:
            return self.web_secure_cookies
        return (self.web_public_url or "").startswith("https://")

    @property
    def effective_catalog_url(self) -> str:
        return self.catalog_url or f"sqlite:///{self.home / 'catalog.sqlite3'}"

    def public_view(self) -> dict[str, Any]:
        """The effective settings as plain values, secrets masked."""
        out: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                value = "********" if value.get_secret_value() else ""
            elif isinstance(value, Path):
                value = str(value)
            elif isinstance(value, str):
                value = mask_url(value)
            out[name] = value
        out["catalog_url"] = mask_url(self.effective_catalog_url)
        return out


_SECRET_QUERY_KEYS = ("password", "passwd", "pwd", "secret", "token", "key", "signature", "sig")


def mask_url(value: str) -> str:
    """Hide the credentials inside a URL: the password (or a lone user token) of its userinfo
    and secret-looking query values. Text that is not a URL comes back unchanged."""
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    if "://" not in value:
        return value
    try:
        parts = urlsplit(value)
        netloc = parts.netloc
        if "@" in netloc:
            userinfo, host = netloc.rsplit("@", 1)
            user, has_password, _ = userinfo.partition(":")
            # a lone userinfo is often a token (https://TOKEN@host): masked as well
            netloc = f"{user}:***@{host}" if has_password else f"***@{host}"
        query = parts.query
        if query:
            pairs = parse_qsl(query, keep_blank_values=True)
            masked = [
                (k, "***" if any(s in k.lower() for s in _SECRET_QUERY_KEYS) else v)
                for k, v in pairs
            ]
            query = urlencode(masked, safe="*")
        return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    except ValueError:
        return "***"  # unparseable: show nothing rather than a secret


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Read the settings, turning validation errors into a `ConfigurationError`."""
    path = config_file or default_config_file()
    Settings._config_file = path
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(
            f"MOTCUA_{'_'.join(str(p) for p in err['loc']).upper()}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigurationError(
            f"invalid settings: {problems}",
            hint=f"fix the environment variable or {path}",
        ) from None
    except Exception as exc:  # a malformed TOML file
        raise ConfigurationError(f"cannot read {path}: {exc}", hint="fix the TOML syntax") from None
