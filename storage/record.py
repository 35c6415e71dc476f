"""The archival package of one record: its metadata and its BagIt (RFC 8493) tag files.

A record is stored as individual objects under `records/<record_id>/` so any file can be fetched
alone: payload under `data/`, then `bagit.txt`, `bag-info.txt`, `metadata.json` (the Vietnamese
archive fields of Circular 02/2019/TT-BNV), `fulltext.txt` (the searchable text, so the catalogue
can be rebuilt from the store alone), `tagmanifest-sha256.txt`, and `manifest-sha256.txt` last:
a prefix without a manifest is not a record. The text formats follow the `bagit` library, which
the tests use to validate a downloaded record.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import unicodedata
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from motcua.errors import BadArgumentError, CheckFailedError
from motcua.types import nfc

RECORDS_PREFIX = "records/"
MANIFEST = "manifest-sha256.txt"
TAGMANIFEST = "tagmanifest-sha256.txt"
BAGIT_TXT = "bagit.txt"
BAG_INFO = "bag-info.txt"
METADATA = "metadata.json"
FULLTEXT = "fulltext.txt"
TAG_FILES = (BAGIT_TXT, BAG_INFO, METADATA, FULLTEXT)
BAGIT_DECLARATION = "BagIt-Version: 0.97\nTag-File-Character-Encoding: UTF-8\n"

_RECORD_ID_RE = re.compile(r"^r[0-9a-f]{24}$")


@dataclass(frozen=True)
class DocumentInfo:
    """Document-level fields (Circular 02/2019): one per payload file that is a document."""

    file: str
    issuing_body: str = ""  # cơ quan ban hành
    number_symbol: str = ""  # số, ký hiệu
    doc_type: str = ""  # loại văn bản
    issue_date: str = ""  # ngày ban hành, ISO 8601
    subject: str = ""  # trích yếu
    page_count: int = 0


@dataclass(frozen=True)
class RecordInfo:
    """What a caller says about a record; the archive adds checksums, dates and counts."""

    dossier_code: str  # mã hồ sơ
    title: str = ""  # tiêu đề hồ sơ
    retention_class: str | None = None
    access_regime: str = "Hạn chế"  # chế độ sử dụng
    language: str = "Tiếng Việt"
    start_date: str = ""  # ISO dates; empty = the archiving date
    end_date: str = ""
    keywords: tuple[str, ...] = ()
    procedure: str = ""  # thủ tục hành chính (code or name)
    id_numbers: tuple[str, ...] = ()  # số định danh cá nhân of the persons concerned
    physical_condition: str = "Bình thường"  # tình trạng vật lý
    documents: tuple[DocumentInfo, ...] = ()
    extracted: dict[str, str] = field(default_factory=dict)  # fields read by extractors
    extra: dict[str, str] = field(default_factory=dict)  # --meta key=value
    text: str = ""  # OCR / text-layer text to search

    def normalised(self) -> RecordInfo:
        """Every string in NFC; dates checked."""
        for value in (self.start_date, self.end_date):
            if value:
                try:
                    dt.date.fromisoformat(value)
                except ValueError:
                    raise BadArgumentError(
                        f"invalid date {value!r}", hint="use YYYY-MM-DD"
                    ) from None
        if not self.dossier_code.strip():
            raise BadArgumentError("a record needs a dossier code", hint="pass --dossier CODE")
        return RecordInfo(
            dossier_code=nfc(self.dossier_code.strip()),
            title=nfc(self.title),
            retention_class=self.retention_class,
            access_regime=nfc(self.access_regime),
            language=nfc(self.language),
            start_date=self.start_date,
            end_date=self.end_date,
            keywords=tuple(nfc(k) for k in self.keywords),
            procedure=nfc(self.procedure),
            id_numbers=tuple(n.strip() for n in self.id_numbers if n.strip()),
            physical_condition=nfc(self.physical_condition),
            documents=tuple(
                replace(
                    d,
                    file=nfc(d.file),
                    issuing_body=nfc(d.issuing_body),
                    number_symbol=nfc(d.number_symbol),
                    doc_type=nfc(d.doc_type),
                    subject=nfc(d.subject),
                )
                for d in self.documents
            ),
            extracted={nfc(k): nfc(v) for k, v in self.extracted.items()},
            extra={nfc(k): nfc(v) for k, v in self.extra.items()},
            text=nfc(self.text),
        )


@dataclass(frozen=True)
class PayloadFile:
    """A payload file as archived: its path in the bag, size, digest and object version."""

    name: str  # relative to data/, NFC
    size: int
    sha256: str
    version_id: str | None = None


def record_id_for(info: RecordInfo, payload: list[tuple[str, str]]) -> str:
    """A content-derived id: the same files and metadata give the same record (idempotent put)."""
    canonical = {
        "info": asdict(info),
        "payload": sorted(payload),
    }
    digest = hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()
    return "r" + digest[:24]


def check_record_id(record_id: str) -> str:
    if not _RECORD_ID_RE.match(record_id):
        raise BadArgumentError(
            f"{record_id!r} is not a record id", hint="a record id looks like r3f9a… (25 chars)"
        )
    return record_id


def record_prefix(record_id: str) -> str:
    return f"{RECORDS_PREFIX}{record_id}/"


# What no door may bring into an archived name: `%` (BagIt's escape; browsers send `"` as `%22`),
# quotes, and what Windows forbids (archivists export bags to Windows machines).
_UNSAFE_IN_NAMES = frozenset('%"\\/:*?<>|')


def archive_safe_name(name: str) -> str:
    """`name` as every door stores it: NFC, the base name only, with `%`, quotes, characters
    Windows forbids and control characters each replaced by `_`. Callers keep the original
    name in the record's metadata when it differs (see `ORIGINAL_NAME_PREFIX`)."""
    base = nfc(name).replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(
        "_" if ch in _UNSAFE_IN_NAMES or unicodedata.category(ch)[0] == "C" else ch for ch in base
    ).strip(" .")
    return cleaned[:200] or "tep"


# `RecordInfo.extra` key under which a payload file's original name is kept, when it differs
ORIGINAL_NAME_PREFIX = "ten_tep_goc:"


def safe_payload_name(name: str) -> str:
    """A payload file name as stored: NFC, no folders, no characters BagIt must escape."""
    clean = nfc(name).replace("\\", "/").rsplit("/", 1)[-1].strip()
    if not clean or clean in {".", ".."} or any(ch in clean for ch in "\r\n%"):
        raise BadArgumentError(
            f"{name!r} cannot be a file name in the archive",
            hint="rename the file (no CR, LF or % characters)",
        )
    return clean


def build_metadata(
    record_id: str,
    info: RecordInfo,
    payload: list[PayloadFile],
    retention_label: str,
    archived_at: dt.datetime,
) -> dict[str, Any]:
    """The `metadata.json` content: Circular 02/2019 record fields, documents, extracted fields."""
    pages = sum(d.page_count for d in info.documents)
    day = archived_at.date().isoformat()
    return {
        "record_id": record_id,
        "code": info.dossier_code,  # mã hồ sơ
        "title": info.title,  # tiêu đề hồ sơ
        "retention_class": info.retention_class,
        "retention_period": retention_label,  # thời hạn bảo quản
        "access_regime": info.access_regime,  # chế độ sử dụng
        "language": info.language,  # ngôn ngữ
        "start_date": info.start_date or day,  # thời gian bắt đầu
        "end_date": info.end_date or info.start_date or day,  # thời gian kết thúc
        "keywords": list(info.keywords),  # từ khóa
        "document_count": len(info.documents) or len(payload),  # tổng số văn bản
        "sheet_count": _sheets(info, pages),  # số tờ
        "page_count": pages,  # số trang
        "physical_condition": info.physical_condition,  # tình trạng vật lý
        "procedure": info.procedure,
        "id_numbers": list(info.id_numbers),
        "documents": [asdict(d) for d in info.documents],
        "extracted": dict(info.extracted),
        "extra": dict(info.extra),
        "archived_at": archived_at.isoformat(),
        "files": [asdict(p) for p in payload],
    }


def record_info_from_metadata(metadata: dict[str, Any], text: str = "") -> RecordInfo:
    """The `RecordInfo` an archived record was made from (its `metadata.json`), to archive a new
    version of it (a renewed signature) with the same description."""
    known = {f.name for f in fields(DocumentInfo)}
    return RecordInfo(
        dossier_code=metadata["code"],
        title=metadata.get("title", ""),
        retention_class=metadata.get("retention_class"),
        access_regime=metadata.get("access_regime", "Hạn chế"),
        language=metadata.get("language", "Tiếng Việt"),
        start_date=metadata.get("start_date", ""),
        end_date=metadata.get("end_date", ""),
        keywords=tuple(metadata.get("keywords", ())),
        procedure=metadata.get("procedure", ""),
        id_numbers=tuple(metadata.get("id_numbers", ())),
        physical_condition=metadata.get("physical_condition", "Bình thường"),
        documents=tuple(
            DocumentInfo(**{k: v for k, v in d.items() if k in known})
            for d in metadata.get("documents", ())
        ),
        extracted=dict(metadata.get("extracted", {})),
        extra=dict(metadata.get("extra", {})),
        text=text,
    )


def _sheets(info: RecordInfo, pages: int) -> int:
    """Sheets (tờ): `--meta sheet_count=N` when the clerk counted them (double-sided paper),
    otherwise one page per sheet, as a one-sided scan gives. Kept out of `RecordInfo`'s fields
    so that record ids of earlier puts stay the same."""
    given = info.extra.get("sheet_count", "").strip()
    if given.isdigit():
        return int(given)
    return pages


def bag_info_text(record_id: str, info: RecordInfo, payload: list[PayloadFile], day: str) -> str:
    """`bag-info.txt` with the reserved RFC 8493 fields that apply."""
    octets = sum(p.size for p in payload)
    lines = [
        ("Bagging-Date", day),
        ("External-Identifier", info.dossier_code),
        ("Internal-Sender-Identifier", record_id),
        ("Payload-Oxum", f"{octets}.{len(payload)}"),
    ]
    if info.title:
        lines.append(("External-Description", " ".join(info.title.split())))
    return "".join(f"{k}: {v}\n" for k, v in lines)


def manifest_text(entries: dict[str, str]) -> str:
    """A BagIt manifest: `<sha256>  <path>` per line, sorted by path."""
    return "".join(f"{digest}  {path}\n" for path, digest in sorted(entries.items()))


def parse_manifest(text: str, where: str) -> dict[str, str]:
    """Path → SHA-256 from a manifest; a malformed line is a finding, not a crash."""
    entries: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split(None, 1)
        if len(parts) != 2 or not re.fullmatch(r"[0-9a-f]{64}", parts[0]):
            raise CheckFailedError(f"{where} line {number}: not a SHA-256 manifest line")
        entries[parts[1].strip()] = parts[0]
    return entries
