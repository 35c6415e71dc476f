"""Signature upkeep: B-LTA stays "long term" only while someone renews it.

A B-LTA signature is proven by the chain of document timestamps that follows it. The chain holds
while its newest timestamp's TSA certificate is valid and its digest algorithm is strong; before
either fails, a new document timestamp must cover the file, with the validation data (certificates,
OCSP responses, CRLs) of the one before it (ETSI EN 319 142-1, 5.5; pyHanko's LTA update).

- `assess(data, policy)` says whether a signed PDF is due: its newest document timestamp's
  certificate ends within `policy.margin` (default two years), or a signature or timestamp in it
  uses a digest on `policy.weak_digests`.
- `renew(data, tsa_url=..., trust=...)` adds the newest timestamp's validation data to the
  document security store and a new document timestamp (SHA-256) over everything: an incremental
  update, so every earlier signature stays as it was.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import Any

from motcua.errors import InputFileError
from signing.signers import load_certificates

DIGEST_ALGORITHM = "sha256"
DEFAULT_MARGIN = dt.timedelta(days=730)
DEFAULT_WEAK_DIGESTS = frozenset({"md5", "sha1", "sha224"})


@dataclass(frozen=True)
class UpkeepPolicy:
    margin: dt.timedelta = DEFAULT_MARGIN
    weak_digests: frozenset[str] = DEFAULT_WEAK_DIGESTS


@dataclass(frozen=True)
class DocumentTimestamp:
    field: str
    tsa: str
    tsa_not_after: dt.datetime
    digest: str

    def as_json(self) -> dict[str, Any]:
        return {"field": self.field, "tsa": self.tsa, "digest": self.digest,
                "tsa_not_after": self.tsa_not_after.isoformat()}  # fmt: skip


@dataclass(frozen=True)
class Assessment:
    """Whether a signed PDF needs a new document timestamp, and why (Vietnamese reasons)."""

    due: bool
    reasons: tuple[str, ...] = ()
    timestamps: tuple[DocumentTimestamp, ...] = ()
    digests: tuple[str, ...] = ()
    long_term: bool = False  # it has at least one document timestamp to renew
    problems: tuple[str, ...] = field(default=())

    def as_json(self) -> dict[str, Any]:
        return {
            "due": self.due,
            "reasons": list(self.reasons),
            "long_term": self.long_term,
            "digests": list(self.digests),
            "document_timestamps": [t.as_json() for t in self.timestamps],
        }


def _reader(data: bytes, name: str) -> Any:
    from pyhanko.pdf_utils.misc import PdfReadError
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        return PdfFileReader(BytesIO(data), strict=False)
    except (PdfReadError, ValueError) as exc:
        raise InputFileError(name, f"không đọc được PDF đã ký ({exc})") from None


def _common_name(cert: Any) -> str:
    try:
        return str(cert.subject.native.get("common_name") or cert.subject.human_friendly)
    except (AttributeError, ValueError):
        return "?"


def document_timestamps(reader: Any) -> list[DocumentTimestamp]:
    """The document timestamps of a PDF, oldest first."""
    found = []
    for sig in reader.embedded_timestamp_signatures:
        cert = sig.signer_cert
        found.append(DocumentTimestamp(sig.field_name, _common_name(cert),
                                       cert.not_valid_after, sig.md_algorithm))  # fmt: skip
    return found


def assess(
    data: bytes,
    policy: UpkeepPolicy = UpkeepPolicy(),
    *,
    now: dt.datetime | None = None,
    name: str = "<bytes>",
) -> Assessment:
    """Whether `data` (a signed PDF) is due for a new document timestamp under `policy`."""
    reader = _reader(data, name)
    moment = now or dt.datetime.now(dt.UTC)
    timestamps = document_timestamps(reader)
    digests = sorted({sig.md_algorithm for sig in reader.embedded_signatures})
    reasons = []
    if timestamps:
        newest = timestamps[-1]
        if newest.tsa_not_after <= moment + policy.margin:
            reasons.append(
                f"chứng thư của dấu thời gian mới nhất ({newest.tsa}) hết hạn ngày "
                f"{newest.tsa_not_after:%d/%m/%Y}, trong khoảng {policy.margin.days} ngày tới"
            )
    weak = [d for d in digests if d in policy.weak_digests]
    if weak:
        reasons.append(f"thuật toán băm đã yếu: {', '.join(weak)}")
    return Assessment(due=bool(reasons) and bool(timestamps), reasons=tuple(reasons),
                      timestamps=tuple(timestamps), digests=tuple(digests),
                      long_term=bool(timestamps))  # fmt: skip


def carried_certificates(reader: Any) -> list[Any]:
    """The certificates a signed PDF carries: in its signatures and its security store (DSS)."""
    from pyhanko.sign.validation.dss import DocumentSecurityStore

    found: list[Any] = []
    for sig in reader.embedded_signatures:
        found.extend(sig.other_embedded_certs)
        found.append(sig.signer_cert)
    try:
        dss = DocumentSecurityStore.read_dss(reader)
    except (KeyError, ValueError):  # no DSS yet
        return found
    found.extend(dss.load_certs())
    return found


def validation_context(
    trust: Sequence[Path], extra_certs: Sequence[Path] = (), carried: Sequence[Any] = ()
) -> Any:
    from pyhanko_certvalidator import ValidationContext

    others = load_certificates(list(extra_certs)) if extra_certs else []
    return ValidationContext(
        trust_roots=load_certificates(list(trust)),
        other_certs=[*others, *carried],
        allow_fetching=True,
    )


def add_revocation_data(data: bytes, field_name: str, context: Any) -> bytes:
    """The validation data of signature (or document timestamp) `field_name` into the DSS."""
    from pyhanko.sign.validation import add_validation_info

    reader = _reader(data, "<bytes>")
    signature = next(s for s in reader.embedded_signatures if s.field_name == field_name)
    out = add_validation_info(signature, context)
    return bytes(out.getvalue())


def add_document_timestamp(data: bytes, timestamper: Any, context: Any) -> bytes:
    """A document timestamp over everything so far, with its own validation data."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign.signers import PdfTimeStamper

    writer = IncrementalPdfFileWriter(BytesIO(data), strict=False)
    out = PdfTimeStamper(timestamper).timestamp_pdf(
        writer, DIGEST_ALGORITHM, validation_context=context
    )
    return bytes(out.getvalue())


def renew(
    data: bytes,
    *,
    tsa_url: str,
    trust: Sequence[Path],
    extra_certs: Sequence[Path] = (),
    name: str = "<bytes>",
) -> bytes:
    """`data` with the newest timestamp's validation data and a new document timestamp."""
    from pyhanko.sign.timestamps import HTTPTimeStamper

    reader = _reader(data, name)
    context = validation_context(trust, extra_certs, carried_certificates(reader))
    timestamps = document_timestamps(reader)
    if timestamps:
        data = add_revocation_data(data, timestamps[-1].field, context)
    return add_document_timestamp(data, HTTPTimeStamper(tsa_url, timeout=30), context)
