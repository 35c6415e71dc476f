"""Verify the signatures of a PDF: integrity, trust, coverage, PAdES level, role; never crash.

`verify_pdf` reports every signature, including broken ones (a CMS that cannot be parsed is
reported as not valid with a readable reason). Encrypted documents are opened with the empty user
password, as e-office systems produce them. `at` validates as of another moment: a B-LTA
signature is judged at the time its timestamps prove (the document timestamp chain must be valid
at `at`); other levels are judged at `at` directly, so they fail once the signer's certificate
expired. Reasons are Vietnamese (archivists read them) with an English gloss.

Revocation never passes silently: each signature is validated requiring revocation data for
every certificate that declares where to find it; when that data cannot be had (`fetch=False`
without embedded data, or the OCSP/CRL server does not answer) the signature's `revocation` is
`unknown`, `revocation_skipped` says which checks were skipped, and it is not `ok` unless the
caller passed `accept_unknown_revocation=True`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import Any, BinaryIO, Final

from motcua.errors import InputFileError
from motcua.inputs import check_file
from motcua.types import nfc
from signing.roles import ROLE_LABELS, CertificateRoles, fingerprint
from signing.sign import FIELD_PREFIX, VN_TZ, Level, Role
from signing.signers import load_certificates

log = logging.getLogger(__name__)

_COVERAGE: Final = {
    "ENTIRE_FILE": "entire_file",
    "ENTIRE_REVISION": "entire_revision",
    "CONTIGUOUS_BLOCK_FROM_START": "partial",
    "UNCLEAR": "unknown",
}
# Changes after signing that keep a signature valid: none, DSS/timestamps, more signatures.
_ACCEPTED_MODIFICATIONS: Final = {"none", "lta_updates", "form_filling"}
_TRUST_PROBLEMS: Final = {
    "REVOKED": "chứng thư số đã bị thu hồi (certificate revoked)",
    "EXPIRED": "chứng thư số đã hết hạn (certificate expired)",
    "OUT_OF_BOUNDS_NO_POE": "chứng thư số hết hạn hoặc chưa có hiệu lực tại thời điểm kiểm tra"
    " (certificate outside its validity period)",
    "OUT_OF_BOUNDS_NOT_REVOKED": "chứng thư số hết hạn tại thời điểm kiểm tra"
    " (certificate outside its validity period)",
    "NOT_YET_VALID": "chứng thư số chưa có hiệu lực (certificate not yet valid)",
    "NO_CERTIFICATE_CHAIN_FOUND": "không dựng được chuỗi tới chứng thư gốc tin cậy"
    " (no chain to a trusted root)",
    "CHAIN_CONSTRAINTS_FAILURE": "chuỗi chứng thư vi phạm ràng buộc (chain constraints failed)",
    "TRY_LATER": "chưa có thông tin thu hồi (revocation status unavailable)",
    "REVOKED_NO_POE": "chứng thư số đã bị thu hồi (certificate revoked)",
    "REVOKED_CA_NO_POE": "chứng thư CA đã bị thu hồi (CA certificate revoked)",
}


@dataclass
class SignatureReport:
    field: str
    signer: str | None = None
    signing_time: datetime | None = None
    timestamp_time: datetime | None = None
    intact: bool = False
    valid: bool = False
    trusted: bool = False
    coverage: str = "unknown"
    modification_level: str | None = None
    level: str = "unknown"
    role: str = "unknown"
    errors: list[str] = dc_field(default_factory=list)
    revocation: str = "unknown"  # good | revoked | unknown (not checked) | none (not reached)
    revocation_skipped: list[str] = dc_field(default_factory=list)
    accept_unknown_revocation: bool = False
    certificate_sha256: str | None = None  # the signer certificate's fingerprint
    account: str | None = None  # the leader account the certificate is bound to, if any
    role_mismatch: bool = False  # a bound certificate in the other role's field

    @property
    def revocation_unchecked(self) -> bool:
        """Valid and trusted but for a revocation status nobody could check."""
        return self.valid and self.trusted and self.revocation == "unknown"

    @property
    def ok(self) -> bool:
        if self.role_mismatch:
            return False
        if self.revocation_unchecked:
            return self.accept_unknown_revocation
        return self.valid and self.trusted

    def as_json(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "signer": self.signer,
            "signing_time": iso_vn(self.signing_time),
            "timestamp_time": iso_vn(self.timestamp_time),
            "intact": self.intact,
            "valid": self.valid,
            "trusted": self.trusted,
            "coverage": self.coverage,
            "modification_level": self.modification_level,
            "level": self.level,
            "role": self.role,
            "revocation": self.revocation,
            "revocation_skipped": list(self.revocation_skipped),
            "certificate_sha256": self.certificate_sha256,
            "account": self.account,
            "errors": list(self.errors),
        }


@dataclass
class VerificationReport:
    path: str
    signatures: list[SignatureReport] = dc_field(default_factory=list)
    errors: list[str] = dc_field(default_factory=list)  # about the document as a whole
    at: datetime | None = None
    document_timestamps: list[dict[str, Any]] = dc_field(default_factory=list)  # oldest first

    @property
    def ok(self) -> bool:
        """Every signature valid and trusted (and there is at least one)."""
        return bool(self.signatures) and all(sig.ok for sig in self.signatures)

    @property
    def complete(self) -> bool:
        """A valid leader signature and a valid organisation signature (Decree 30/2020), made
        with two different certificates."""
        ok = [sig for sig in self.signatures if sig.ok]
        leaders = {s.certificate_sha256 for s in ok if s.role == Role.leader.value}
        organizations = {s.certificate_sha256 for s in ok if s.role == Role.organization.value}
        return any(a != b for a in leaders for b in organizations)

    def as_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "ok": self.ok,
            "signatures": [sig.as_json() for sig in self.signatures],
            "complete": self.complete,
            "document_timestamps": self.document_timestamps,
        }


def iso_vn(moment: datetime | None) -> str | None:
    return moment.astimezone(VN_TZ).isoformat() if moment is not None else None


def _role(field_name: str) -> str:
    for role, prefix in FIELD_PREFIX.items():
        if field_name == prefix or field_name.startswith(prefix + "_"):
            return role
    return "unknown"


@dataclass
class _Context:
    """Trust anchors and the validation material the document carries (DSS)."""

    roots: list[Any]
    dss_certs: list[Any]
    dss_crls: list[Any]
    dss_ocsps: list[Any]
    fetch: bool

    def validation_context(
        self, moment: datetime | None, *, retroactive: bool = False, mode: str = "soft-fail"
    ) -> Any:
        from pyhanko_certvalidator import ValidationContext

        return ValidationContext(
            trust_roots=self.roots,
            other_certs=self.dss_certs,
            crls=self.dss_crls,
            ocsps=self.dss_ocsps,
            allow_fetching=self.fetch and not retroactive,
            revocation_mode=mode,
            moment=moment,
            retroactive_revinfo=retroactive,
        )


def _open_reader(stream: BinaryIO, name: str) -> Any:
    from pyhanko.pdf_utils.reader import PdfFileReader

    head = stream.read(1024)
    stream.seek(0)
    if b"%PDF-" not in head:
        raise InputFileError(
            name, "không phải tệp PDF (not a PDF file)", hint="đưa tệp PDF (pass a PDF document)"
        )
    try:
        reader = PdfFileReader(stream, strict=False)
        if reader.encrypted:
            result = reader.decrypt("")
            if getattr(result, "status", None) is not None and result.status.name == "FAILED":
                raise InputFileError(
                    name,
                    "encrypted with a non-empty password",
                    hint="ask the sender for an unencrypted copy",
                )
        _ = reader.root  # force the trailer and catalogue to load
        return reader
    except InputFileError:
        raise
    except Exception as exc:  # pyHanko raises many types on damaged files
        raise InputFileError(
            name, f"not a readable PDF ({type(exc).__name__}: {exc})", hint="the file is damaged"
        ) from None


def _dss(reader: Any) -> tuple[list[Any], list[Any], list[Any]]:
    """Certificates, CRLs and OCSP responses from the document security store, if any."""
    from pyhanko.sign.validation.dss import DocumentSecurityStore

    try:
        dss = DocumentSecurityStore.read_dss(reader)
    except Exception:  # no DSS (or an unreadable one): validate without it
        return [], [], []
    try:
        from asn1crypto import crl, ocsp
        from pyhanko.pdf_utils.decode_limits import DecodePurpose

        ocsps = [
            ocsp.OCSPResponse.load(ref.get_object().read_data(DecodePurpose.OCSP_RESPONSE))
            for ref in dss.ocsps
        ]
        crls = [
            crl.CertificateList.load(ref.get_object().read_data(DecodePurpose.CRL))
            for ref in dss.crls
        ]
        return list(dss.load_certs()), crls, ocsps
    except Exception as exc:
        log.info("unreadable DSS entries ignored: %s", exc)
        return [], [], []


def verify_pdf(
    source: bytes | Path | str,
    trust: Sequence[Path] = (),
    at: datetime | None = None,
    *,
    fetch: bool = True,
    accept_unknown_revocation: bool = False,
    roles: CertificateRoles | None = None,
) -> VerificationReport:
    """Verify every signature in a PDF against the trust anchors `trust` (PEM/DER files).

    `roles` (the office's `signing.roles` binding): each signature's role is its certificate's,
    a bound certificate in the other role's field is a mismatch, an unbound one fills no role.
    Without it the field name says the role. Either way "complete" needs two certificates.

    `at`: validate as of that moment (default now). `fetch`: allow OCSP/CRL requests for
    signatures that do not embed their revocation data. A revocation status that cannot be
    had makes a signature not ok (`revocation == "unknown"`) unless
    `accept_unknown_revocation`. Raises `InputFileError` only when the file itself cannot be
    read. A path passes the input gate (`motcua.inputs`: a regular file within
    `MOTCUA_INPUT_MAX_MB`...) and is read as a stream, never whole into memory.
    """
    if at is not None and at.tzinfo is None:
        at = at.replace(tzinfo=VN_TZ)
    if isinstance(source, bytes):
        report = _verify_stream(BytesIO(source), "<bytes>", trust, at, fetch,
                                accept_unknown_revocation)  # fmt: skip
    else:
        path = Path(source)
        check_file(path, pdf_only=True)
        with path.open("rb") as handle:
            report = _verify_stream(handle, str(path), trust, at, fetch, accept_unknown_revocation)
    _apply_roles(report, roles)
    return report


def _apply_roles(report: VerificationReport, roles: CertificateRoles | None) -> None:
    """Roles from certificates (with a binding), and one certificate in one role only."""
    for sig in report.signatures:
        if not roles or sig.certificate_sha256 is None:
            continue
        bound = roles.of(sig.certificate_sha256)
        if bound is None:
            if sig.role != "unknown":
                sig.errors.append(
                    f"chứng thư số của {sig.signer} chưa được gán vai trò"
                    f" {ROLE_LABELS.get(sig.role, sig.role)} trong cấu hình của cơ quan"
                    " (certificate not bound to the role): không tính là chữ ký của vai trò này"
                )
            sig.role = "unknown"
            continue
        if sig.role not in ("unknown", bound.role):
            sig.role_mismatch = True
            sig.errors.append(
                f"trường chữ ký {sig.field} dành cho {ROLE_LABELS.get(sig.role, sig.role)}, nhưng"
                f" chứng thư số của {sig.signer} được gán vai trò {ROLE_LABELS[bound.role]}"
                " (field/certificate role mismatch)"
            )
        sig.role, sig.account = bound.role, bound.account
    roles_of: dict[str, set[str]] = {}
    for sig in report.signatures:
        if sig.role in ROLE_LABELS and sig.certificate_sha256 is not None:
            roles_of.setdefault(sig.certificate_sha256, set()).add(sig.role)
    if any(len(found) > 1 for found in roles_of.values()):
        report.errors.append(
            "cùng một chứng thư số ký cả vai trò lãnh đạo và cơ quan: chưa đủ chữ ký"
            " (one certificate cannot fill both roles)"
        )


def _verify_stream(
    stream: BinaryIO,
    name: str,
    trust: Sequence[Path],
    at: datetime | None,
    fetch: bool,
    accept_unknown_revocation: bool = False,
) -> VerificationReport:
    from pyhanko.sign.fields import enumerate_sig_fields
    from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature

    reader = _open_reader(stream, name)
    report = VerificationReport(path=name, at=at)
    certs, crls, ocsps = _dss(reader)
    context = _Context(
        roots=load_certificates(list(trust)) if trust else [],
        dss_certs=certs,
        dss_crls=crls,
        dss_ocsps=ocsps,
        fetch=fetch,
    )

    embedded: list[tuple[str, Any]] = []
    try:
        fields = list(enumerate_sig_fields(reader, filled_status=True))
    except Exception as exc:
        report.errors.append(f"không đọc được danh sách chữ ký (cannot list signatures): {exc}")
        fields = []
    for fq_name, _sig_obj, sig_field in fields:
        try:
            embedded.append((fq_name, EmbeddedPdfSignature(reader, sig_field, fq_name)))
        except Exception as exc:
            embedded.append((fq_name, exc))

    # Certificates the signatures carry help build paths for the timestamps too.
    for _, sig in embedded:
        if not isinstance(sig, Exception):
            try:
                context.dss_certs.extend(sig.other_embedded_certs)
            except Exception as exc:
                log.debug("no embedded certificates in %s: %s", sig.field_name, exc)
    doc_timestamps = [
        sig
        for _, sig in embedded
        if not isinstance(sig, Exception) and sig.sig_object_type == "/DocTimeStamp"
    ]
    report.document_timestamps = [_timestamp_summary(ts) for ts in doc_timestamps]
    for fq_name, sig in embedded:
        if isinstance(sig, Exception):
            report.signatures.append(_broken(fq_name, sig))
            continue
        if sig.sig_object_type != "/Sig":
            continue
        checked = _verify_one(sig, context, doc_timestamps, at)
        checked.accept_unknown_revocation = accept_unknown_revocation
        report.signatures.append(checked)
    if not report.signatures:
        report.errors.append("tài liệu không có chữ ký số (the document carries no signature)")
    elif _bytes_after_last_revision(stream, [sig for _, sig in embedded]):
        problem = (
            "có dữ liệu được nối vào sau phiên bản cuối của tài liệu, ngoài mọi chữ ký và dấu"
            " thời gian (bytes appended after the last revision: a modification)"
        )
        report.errors.append(problem)
        for signature in report.signatures:
            signature.valid = False
            signature.errors.append(problem)
    return report


def _timestamp_summary(ts: Any) -> dict[str, Any]:
    """A document timestamp as `verify --json` shows it: field, time, TSA, its certificate's end."""
    cert = ts.signer_cert
    try:
        when = ts.signed_data["encap_content_info"]["content"].parsed["gen_time"].native
    except (KeyError, ValueError, AttributeError):
        when = None
    return {
        "field": ts.field_name,
        "time": iso_vn(when),
        "tsa": cert.subject.native.get("common_name"),
        "tsa_not_after": iso_vn(cert.not_valid_after),
        "digest": ts.md_algorithm,
    }


def _bytes_after_last_revision(stream: BinaryIO, embedded: Sequence[Any]) -> bool:
    """Whether bytes follow the last revision: after its `%%EOF`, or outside the byte range of
    the signature or document timestamp that closes the file (pyHanko's coverage)."""
    size = stream.seek(0, 2)
    stream.seek(max(0, size - 4096))
    tail = stream.read()
    end = tail.rfind(b"%%EOF")
    if end < 0 or tail[end + len(b"%%EOF") :].strip(b"\r\n\t\x00 "):
        return True
    readable = [sig for sig in embedded if not isinstance(sig, Exception)]
    if not readable:
        return False
    try:
        last = max(readable, key=lambda sig: int(sig.signed_revision))
        if not _is_last_revision(last):
            return False  # later revisions: the modification analysis judges them
        return str(last.evaluate_signature_coverage().name) != "ENTIRE_FILE"
    except Exception as exc:
        log.info("coverage of the last signature unknown: %s", exc)
        return False


def _broken(fq_name: str, exc: Exception) -> SignatureReport:
    log.info("unreadable signature %s: %s", fq_name, exc)
    return SignatureReport(
        field=fq_name,
        role=_role(fq_name),
        errors=[
            "chữ ký hỏng: không đọc được dữ liệu CMS"
            f" (damaged signature, CMS unreadable: {type(exc).__name__})"
        ],
    )


def _revinfo_covers(cert: Any, context: _Context) -> bool:
    """Whether the document's DSS holds revocation data for `cert` (OCSP for its serial, or a
    CRL from its issuer): what makes a signature B-LT rather than B-T."""
    for response in context.dss_ocsps:
        try:
            basic = response["response_bytes"]["response"].parsed
            for single in basic["tbs_response_data"]["responses"]:
                if single["cert_id"]["serial_number"].native == cert.serial_number:
                    return True
        except (KeyError, ValueError, TypeError):
            continue
    return any(crl["tbs_cert_list"]["issuer"] == cert.issuer for crl in context.dss_crls)


def _level(sig: Any, status: Any, doc_timestamps: list[Any], context: _Context) -> str:
    if status.timestamp_validity is None:
        return Level.B_B.value
    if not _revinfo_covers(sig.signer_cert, context):
        return Level.B_T.value
    later_timestamps = [ts for ts in doc_timestamps if ts.signed_revision > sig.signed_revision]
    return Level.B_LTA.value if later_timestamps else Level.B_LT.value


def _verify_one(
    sig: Any, context: _Context, doc_timestamps: list[Any], at: datetime | None
) -> SignatureReport:
    fq_name = str(sig.field_name)
    report = SignatureReport(field=fq_name, role=_role(fq_name))
    try:
        report.signer = nfc(str(sig.signer_cert.subject.native.get("common_name", "")))
        report.certificate_sha256 = fingerprint(sig.signer_cert)
        status = _validate_with_revocation(sig, context, at, report)
    except Exception as exc:
        log.info("signature %s could not be validated: %s", fq_name, exc)
        report.errors.append(
            f"không kiểm tra được chữ ký (cannot validate: {type(exc).__name__}: {exc})"
        )
        return report

    report.level = _level(sig, status, doc_timestamps, context)
    report.signing_time = status.signer_reported_dt
    if status.timestamp_validity is not None:
        report.timestamp_time = status.timestamp_validity.timestamp
    report.coverage = (
        _COVERAGE.get(status.coverage.name, "unknown") if status.coverage else "unknown"
    )
    level = status.modification_level
    report.modification_level = level.name.lower() if level is not None else None
    report.intact = bool(status.intact)

    report.valid = bool(status.intact and status.valid)
    report.trusted = bool(status.trusted) and not status.revoked
    long_term = report.level == Level.B_LTA.value and at is not None and at > datetime.now(UTC)
    if long_term and report.valid and at is not None:
        # Judged at the time its timestamps prove, not at `at` (the certificate may be expired).
        problem = _verify_long_term(sig, context, doc_timestamps, at)
        report.trusted = problem is None
        if problem:
            report.errors.append(problem)
    elif report.timestamp_time is not None and status.timestamp_validity is not None:
        ts = status.timestamp_validity
        if not (ts.intact and ts.valid and ts.trusted):
            report.trusted = False
            report.errors.append("dấu thời gian không hợp lệ (signature timestamp not valid)")

    if not status.intact:
        report.errors.append(
            "nội dung đã bị thay đổi sau khi ký (signed content changed: digest mismatch)"
        )
    elif not status.valid:
        report.errors.append("chữ ký không hợp lệ về mật mã (cryptographically invalid)")
    if report.coverage not in ("entire_file", "entire_revision"):
        report.valid = False
        report.errors.append(
            "chữ ký không phủ toàn bộ phiên bản tài liệu (signature does not cover its revision)"
        )
    if report.modification_level is not None and (
        report.modification_level not in _ACCEPTED_MODIFICATIONS
    ):
        report.valid = False
        report.errors.append(
            "tài liệu bị sửa đổi sau khi ký"
            f" (document modified after signing: {report.modification_level})"
        )
    if status.docmdp_ok is False:
        report.valid = False
        report.errors.append("vi phạm quyền sửa đổi của chữ ký chứng thực (DocMDP violated)")
    moment = at or datetime.now(UTC)
    expired = sig.signer_cert.not_valid_after < moment or sig.signer_cert.not_valid_before > moment
    if long_term:
        pass
    elif status.revoked:
        report.errors.append(_TRUST_PROBLEMS["REVOKED"])
    elif not report.trusted and expired:
        report.errors.append(_TRUST_PROBLEMS["OUT_OF_BOUNDS_NO_POE"])
    elif not status.trusted and status.intact and status.valid:
        indic = status.trust_problem_indic
        reason = _TRUST_PROBLEMS.get(str(getattr(indic, "name", "")), None)
        report.errors.append(
            reason or f"chứng thư số không được tin cậy (certificate not trusted: {indic})"
        )
    return report


def _validate_with_revocation(
    sig: Any, context: _Context, at: datetime | None, report: SignatureReport
) -> Any:
    """pyHanko's status of `sig`, requiring revocation data for each certificate that declares
    an OCSP responder or a CRL; `report.revocation` says whether that data was had.

    When the only thing missing is revocation data (a soft-fail validation trusts the path),
    the soft-fail status is returned and the revocation is `unknown`, with the checks skipped."""
    from pyhanko.sign.validation import validate_pdf_signature

    strict = validate_pdf_signature(sig, context.validation_context(at, mode="hard-fail"))
    if strict.revoked:
        report.revocation = "revoked"
        return strict
    if strict.trusted:
        report.revocation = "good"
        return strict
    lenient_context = context.validation_context(at)
    lenient = validate_pdf_signature(sig, lenient_context)
    if lenient.revoked:
        report.revocation = "revoked"
        return lenient
    if not lenient.trusted:  # another trust problem: say that one
        report.revocation = "none"
        return lenient
    report.revocation = "unknown"
    skipped = [str(exc) for exc in getattr(lenient_context, "soft_fail_exceptions", [])]
    if not context.fetch:
        skipped.append(
            "tra cứu OCSP/CRL trực tuyến bị bỏ qua (--offline) và tài liệu không chứa dữ liệu thu"
            f" hồi cho chứng thư của {report.signer or 'người ký'}"
            " (online OCSP/CRL skipped, no revocation data embedded)"
        )
    report.revocation_skipped = list(dict.fromkeys(skipped)) or [
        "không lấy được dữ liệu thu hồi (no revocation data could be obtained)"
    ]
    report.errors.append(
        "chưa kiểm tra được thu hồi: "
        + "; ".join(report.revocation_skipped)
        + " (revocation status unknown)"
    )
    return lenient


def _is_last_revision(sig: Any) -> bool:
    try:
        return int(sig.signed_revision) == int(sig.reader.xrefs.total_revisions) - 1
    except Exception:
        return False


def _verify_long_term(
    sig: Any, context: _Context, doc_timestamps: list[Any], at: datetime
) -> str | None:
    """Judge a B-LTA signature at a future moment `at`; None when it passes, else the reason.

    pyHanko's ETSI EN 319 102-1 long-term validation, simulated at `at` assuming the document
    timestamp chain is maintained (pyHanko's `simulate_future_ades_lta_validation`): the
    signature must have been valid when its timestamps prove it existed, with the revocation
    data embedded in the document, and the timestamps must still hold at `at`. pyHanko's
    simulation presumes the chain gets renewed; the archive holds the file as it is, so the
    latest document timestamp's certificate must itself be valid at `at`."""
    import asyncio

    from pyhanko.sign.validation.ades import simulate_future_ades_lta_validation
    from pyhanko.sign.validation.policy_decl import (
        PdfSignatureValidationSpec,
        SignatureValidationSpec,
    )
    from pyhanko_certvalidator.context import CertValidationPolicySpec
    from pyhanko_certvalidator.policy_decl import CertRevTrustPolicy, RevocationCheckingPolicy
    from pyhanko_certvalidator.registry import SimpleTrustManager

    policy = CertValidationPolicySpec(
        trust_manager=SimpleTrustManager.build(trust_roots=context.roots),
        revinfo_policy=CertRevTrustPolicy(RevocationCheckingPolicy.from_legacy("soft-fail")),
    )
    latest = max(doc_timestamps, key=lambda ts: ts.signed_revision)
    if latest.signer_cert.not_valid_after < at:
        return (
            "dấu thời gian tài liệu mới nhất đã hết hạn tại thời điểm kiểm tra, cần gia hạn"
            " (the latest document timestamp expired: add a new one before then)"
        )
    spec = PdfSignatureValidationSpec(SignatureValidationSpec(cert_validation_policy=policy))
    try:
        result = asyncio.run(simulate_future_ades_lta_validation(sig, spec, at))
    except Exception as exc:
        return f"không kiểm tra được chữ ký dài hạn (long-term validation failed: {exc})"
    if str(getattr(result.ades_subindic.status, "name", "")) == "PASSED":
        return None
    return (
        "chữ ký dài hạn không hợp lệ tại thời điểm kiểm tra"
        f" (long-term validation at {iso_vn(at)}: {result.ades_subindic})"
    )
