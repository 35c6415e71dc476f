"""Sign a PDF as PAdES B-B, B-T, B-LT or B-LTA with a leader's or the organisation's appearance.

`SignatureSpec` (frozen) says what to do; `sign_pdf` does it with a `LoadedSigner`, appending an
incremental update so earlier signatures stay valid; `sign_batch` signs a folder with one key load.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from io import BytesIO
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

from motcua.errors import (
    BadArgumentError,
    CheckFailedError,
    InputFileError,
    MotcuaError,
    ServiceUnavailableError,
)
from motcua.types import nfc
from signing import appearance
from signing.signers import LoadedSigner, load_certificates

log = logging.getLogger(__name__)

VN_TZ: Final = ZoneInfo("Asia/Ho_Chi_Minh")
COPY_MARKS: Final = ("SAO Y", "SAO LỤC", "TRÍCH SAO")
FIELD_PREFIX: Final = {"leader": "motcua_leader", "organization": "motcua_organization"}


class Level(StrEnum):
    B_B = "B-B"
    B_T = "B-T"
    B_LT = "B-LT"
    B_LTA = "B-LTA"


class Role(StrEnum):
    leader = "leader"
    organization = "organization"


@dataclass(frozen=True)
class SignatureSpec:
    """What a signature should look like and carry. Defaults come from the certificate/page."""

    role: Role = Role.leader
    level: Level = Level.B_B
    signer_name: str | None = None  # default: the certificate's common name
    signer_title: str | None = None
    organization: str | None = None  # default: the certificate's organisation
    signature_image: Path | None = None
    seal_image: Path | None = None
    copy_mark: str | None = None  # organisation role: "SAO Y", "SAO LỤC", "TRÍCH SAO"
    page: int | None = None  # 1-based; default last page (leader) or 1 (organisation)
    box: tuple[float, float, float, float] | None = None  # x1, y1, x2, y2 in points
    tsa_url: str | None = None  # required from B-T up
    trust: tuple[Path, ...] = ()  # trust anchors, used to collect revocation data (B-LT up)
    extra_certs: tuple[Path, ...] = ()  # intermediates for the validation path
    certify: bool = False  # DocMDP level 2 (form filling and signing allowed afterwards)
    field_name: str | None = None  # default motcua_leader / motcua_organization (+ _2, _3 ...)

    def __post_init__(self) -> None:
        if self.level != Level.B_B and not self.tsa_url:
            raise BadArgumentError(
                f"level {self.level} needs a timestamp authority",
                hint="pass --tsa URL (the test services print theirs: motcua trust-services up)",
            )
        if self.level in (Level.B_LT, Level.B_LTA) and not self.trust:
            raise BadArgumentError(
                f"level {self.level} needs trust anchors to collect revocation data",
                hint="pass --trust ROOT.pem",
            )
        if self.copy_mark and nfc(self.copy_mark) not in COPY_MARKS:
            raise BadArgumentError(
                f"unknown copy mark {self.copy_mark!r}", hint=f"use one of {', '.join(COPY_MARKS)}"
            )
        if self.box is not None and not (self.box[0] < self.box[2] and self.box[1] < self.box[3]):
            raise BadArgumentError(
                f"box {self.box} is empty", hint="give x1,y1,x2,y2 with x1 < x2 and y1 < y2"
            )


@dataclass(frozen=True)
class SignResult:
    output: Path | None
    field: str
    level: Level
    signing_time: datetime


@dataclass
class _Prepared:
    """What a batch reuses across documents: validation context and timestamper."""

    timestamper: Any = None
    validation_context: Any = None
    extra_certs: list[Any] = field(default_factory=list)
    trust_roots: list[Any] = field(default_factory=list)
    checked_signers: set[bytes] = field(default_factory=set)  # certificates found fit to sign


def _prepare(spec: SignatureSpec) -> _Prepared:
    from pyhanko.sign.timestamps import HTTPTimeStamper
    from pyhanko_certvalidator import ValidationContext

    prepared = _Prepared()
    prepared.extra_certs = load_certificates(list(spec.extra_certs)) if spec.extra_certs else []
    if spec.tsa_url and spec.level != Level.B_B:
        prepared.timestamper = HTTPTimeStamper(spec.tsa_url, timeout=30)
    prepared.trust_roots = load_certificates(list(spec.trust)) if spec.trust else []
    if spec.level in (Level.B_LT, Level.B_LTA):
        prepared.validation_context = ValidationContext(
            trust_roots=prepared.trust_roots,
            other_certs=prepared.extra_certs,
            allow_fetching=True,
        )
    return prepared


def _read_input(source: bytes | Path | str) -> tuple[bytes, str]:
    if isinstance(source, bytes):
        return source, "<bytes>"
    path = Path(source)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputFileError(path, "file not found", hint="check the path") from None
    except OSError as exc:
        raise InputFileError(path, f"cannot read ({exc.strerror})") from None
    if not data.startswith(b"%PDF"):
        raise InputFileError(path, "not a PDF file", hint="pass a PDF document")
    return data, str(path)


def _open_writer(data: bytes, name: str) -> Any:
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.misc import PdfError

    try:
        writer = IncrementalPdfFileWriter(BytesIO(data), strict=False)
        if writer.prev.encrypted:
            # e-office systems encrypt with an empty user password; signing needs owner access
            result = writer.encrypt("")  # type: ignore[no-untyped-call]
            log.debug("decrypted %s with the empty password: %s", name, result)
        return writer
    except (PdfError, ValueError, KeyError, TypeError) as exc:
        raise InputFileError(
            name, f"cannot open the PDF ({exc})", hint="check that the file is a complete PDF"
        ) from None


def _field_name(writer: Any, spec: SignatureSpec) -> tuple[str, bool]:
    """The field to sign and whether it already exists (an empty field prepared earlier)."""
    from pyhanko.sign.fields import enumerate_sig_fields

    existing = {name: value for name, value, _ref in enumerate_sig_fields(writer.prev)}
    if spec.field_name:
        return spec.field_name, spec.field_name in existing
    base = FIELD_PREFIX[spec.role]
    name, counter = base, 1
    while name in existing:
        if existing[name] is None:  # an empty field waiting for this role
            return name, True
        counter += 1
        name = f"{base}_{counter}"
    return name, False


def _page_size(writer: Any, page_index: int) -> tuple[float, float]:
    """Width and height in points of a page (/MediaBox may be inherited from /Pages)."""
    page_ref, _ = writer.find_page_for_modification(page_index)
    node = page_ref.get_object()
    while "/MediaBox" not in node and "/Parent" in node:
        node = node["/Parent"]
    media = node.get("/MediaBox", [0, 0, 595.28, 841.89])
    media = media.get_object() if hasattr(media, "get_object") else media  # encrypted files
    x1, y1, x2, y2 = (float(v) for v in media)
    return x2 - x1, y2 - y1


def _prepare_organization_field(writer: Any) -> None:
    """Add the organisation's empty signature field with the certification.

    After a DocMDP level 2 certification only existing fields may be signed: a visible field
    added later would break the leader's signature (ISO 32000-1, 12.8.2.2)."""
    from pyhanko.sign.fields import SigFieldSpec, append_signature_field, enumerate_sig_fields

    names = {name for name, _value, _ref in enumerate_sig_fields(writer.prev)}
    name = FIELD_PREFIX[Role.organization]
    if name in names:
        return
    box = appearance.organization_box(*_page_size(writer, 0))
    append_signature_field(writer, SigFieldSpec(sig_field_name=name, on_page=0, box=box.as_tuple()))


def _organization_name(signer: LoadedSigner) -> str:
    native = signer.certificate.subject.native
    return nfc(str(native.get("organization_name") or native.get("common_name") or ""))


@functools.cache
def _timed_pdf_signer_class() -> Any:
    """A pyHanko PdfSigner whose signing time we choose, so that the time printed in the
    appearance (+07:00) is exactly the signing time in the CMS."""
    from pyhanko.sign.signers import PdfSigner

    class TimedPdfSigner(PdfSigner):
        system_time: datetime

        def init_signing_session(self, pdf_out: Any, existing_fields_only: bool = False) -> Any:
            session = super().init_signing_session(pdf_out, existing_fields_only)
            session.system_time = self.system_time
            return session

    return TimedPdfSigner


def sign_pdf(
    source: bytes | Path | str,
    output: Path | str | None,
    spec: SignatureSpec,
    signer: LoadedSigner,
    *,
    _prepared: _Prepared | None = None,
) -> tuple[SignResult, bytes]:
    """Sign `source` (bytes or a path) and write to `output` (skipped when None).

    Returns the result and the signed bytes. Raises `InputFileError` for unusable input,
    `ServiceUnavailableError` when the TSA/OCSP/CRL cannot be reached, `CheckFailedError` when the
    signer's certificate is expired, not yet valid, revoked or does not validate (checked at
    every level, once per certificate and batch: `signing.certcheck`).
    """
    prepared = _prepared or _prepare(spec)
    _check_signer(signer, prepared)
    data, name = _read_input(source)
    setup = _set_up(data, name, spec, signer, prepared)
    try:
        out = setup.pdf_signer.sign_pdf(setup.writer)
    except MotcuaError:
        raise
    except Exception as exc:
        raise _translate(exc, name) from None
    signed = out.getvalue()
    target = Path(output) if output is not None else None
    if target is not None:
        write_atomically(target, signed)
    log.info("signed %s as %s (%s, field %s)", name, spec.role, spec.level, setup.field_name)
    return SignResult(output=target, field=setup.field_name, level=spec.level,
                      signing_time=setup.signing_time), signed  # fmt: skip


def _check_signer(signer: LoadedSigner, prepared: _Prepared) -> None:
    from signing.certcheck import check_signing_certificate

    cert = signer.certificate
    if cert.dump() in prepared.checked_signers:
        return
    registry = getattr(signer.signer, "cert_registry", None) or []
    check_signing_certificate(cert, [*registry, *prepared.extra_certs], prepared.trust_roots)
    prepared.checked_signers.add(cert.dump())


def write_atomically(target: Path, data: bytes) -> None:
    """Write through a `.part` file, so a reader never sees half a PDF."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".part")
    tmp.write_bytes(data)
    tmp.replace(target)


@dataclass(frozen=True)
class _SignerSetUp:
    """A document opened for signing and the pyHanko signer that will sign it."""

    writer: Any  # IncrementalPdfFileWriter
    pdf_signer: Any  # TimedPdfSigner
    field_name: str
    signing_time: datetime


def _set_up(
    data: bytes, name: str, spec: SignatureSpec, signer: LoadedSigner, prepared: _Prepared
) -> _SignerSetUp:
    """Open `data`, choose the field and the appearance, and build the PdfSigner for `spec`.

    Shared by `sign_pdf` and the interrupted signing of `signing.interrupted`, so that a
    signature made on the leader's own device looks exactly like one made here."""
    from pyhanko.sign import fields, signers
    from pyhanko.sign.fields import MDPPerm, SigFieldSpec

    writer = _open_writer(data, name)
    page_count = int(writer.root["/Pages"]["/Count"])
    default_page = page_count if spec.role == Role.leader else 1
    page_number = spec.page or default_page
    if not 1 <= page_number <= page_count:
        raise BadArgumentError(
            f"{name}: page {page_number} does not exist (the document has {page_count})",
            hint="pass --page between 1 and the page count",
        )
    page_index = page_number - 1
    now = datetime.now(VN_TZ).replace(microsecond=0)
    time_text = now.isoformat()
    field_name, field_exists = _field_name(writer, spec)
    organization = nfc(spec.organization) if spec.organization else _organization_name(signer)

    if spec.role == Role.leader:
        signer_name = nfc(spec.signer_name) if spec.signer_name else signer.common_name
        lines = appearance.leader_lines(signer_name, spec.signer_title, organization, time_text)
        style = appearance.leader_style(lines, spec.signature_image, spec.seal_image)
        if spec.box is not None:
            box = appearance.Box(*spec.box)
        else:
            size = _page_size(writer, page_index)
            box = appearance.leader_box(data, page_index, spec.signer_name, size)
    else:
        copy_mark = nfc(spec.copy_mark) if spec.copy_mark else None
        lines = appearance.organization_lines(organization, time_text, copy_mark)
        style = appearance.organization_style(lines)
        if spec.box is not None:
            box = appearance.Box(*spec.box)
        else:
            box = appearance.organization_box(*_page_size(writer, page_index))

    if spec.certify and spec.role == Role.leader:
        _prepare_organization_field(writer)

    meta = signers.PdfSignatureMetadata(
        field_name=field_name,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        certify=spec.certify,
        docmdp_permissions=MDPPerm.FILL_FORMS,
        embed_validation_info=spec.level in (Level.B_LT, Level.B_LTA),
        use_pades_lta=spec.level == Level.B_LTA,
        validation_context=prepared.validation_context,
        reason="Ký số theo Nghị định 30/2020/NĐ-CP"
        if spec.role == Role.leader
        else "Chữ ký số của cơ quan, tổ chức",
    )
    pdf_signer = _timed_pdf_signer_class()(
        signature_meta=meta,
        signer=signer.signer,
        timestamper=prepared.timestamper,
        stamp_style=style,
        new_field_spec=None
        if field_exists
        else SigFieldSpec(sig_field_name=field_name, on_page=page_index, box=box.as_tuple()),
    )
    pdf_signer.system_time = now
    return _SignerSetUp(writer, pdf_signer, field_name, now)


def _translate(exc: Exception, name: str) -> MotcuaError:
    """Turn pyHanko/network errors into motcua errors with a hint."""
    from pyhanko.sign.general import SigningError
    from pyhanko.sign.timestamps import TimestampRequestError
    from pyhanko_certvalidator.errors import PathBuildingError, PathValidationError

    text = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, TimestampRequestError) or "connect" in text.lower():
        return ServiceUnavailableError(
            f"{name}: the timestamp/revocation service did not answer ({text})",
            hint="check --tsa and the network, or start the test services:"
            " motcua trust-services up",
        )
    if isinstance(exc, (PathBuildingError, PathValidationError, SigningError)):
        return CheckFailedError(
            f"{name}: the signer's certificate cannot be validated ({text})",
            hint="pass the issuing CA chain with --chain and its root with --trust; "
            "a revoked or expired certificate cannot make B-LT/B-LTA signatures",
        )
    return CheckFailedError(f"{name}: signing failed ({text})", hint="run with --debug for details")


@dataclass
class BatchOutcome:
    signed: list[SignResult] = field(default_factory=list)
    failed: list[tuple[Path, MotcuaError]] = field(default_factory=list)


def sign_batch(
    inputs: Iterable[Path],
    out_dir: Path,
    spec: SignatureSpec,
    signer: LoadedSigner,
    *,
    on_done: Callable[[Path, MotcuaError | None], None] | None = None,
) -> BatchOutcome:
    """Sign every input into `out_dir` (same file names) with one loaded key.

    A bad file is recorded and the batch continues; `on_done` is called after each file.
    """
    prepared = _prepare(spec)
    outcome = BatchOutcome()
    for path in inputs:
        error: MotcuaError | None = None
        try:
            result, _ = sign_pdf(path, out_dir / path.name, spec, signer, _prepared=prepared)
            outcome.signed.append(result)
        except (InputFileError, CheckFailedError, BadArgumentError) as exc:
            error = exc
            outcome.failed.append((path, exc))
            log.warning("not signed: %s", exc)
        if on_done is not None:
            on_done(path, error)
    return outcome
