"""The archive against the real embedded S3 server: round trips, WORM, tampering, reindex."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import json
import logging
import os
import unicodedata
import zipfile
from pathlib import Path

import bagit
import pytest
import urllib3
from minio.commonconfig import COMPLIANCE
from minio.error import S3Error
from minio.retention import Retention
from reportlab.pdfgen import canvas

from motcua.errors import BadArgumentError, ServiceUnavailableError
from storage.archive import Archive, Buckets, RetentionRefusedError, RetryPolicy
from storage.catalogue import Catalogue, SearchQuery
from storage.record import MANIFEST, RecordInfo, record_prefix
from storage.s3 import S3Config
from storage.text import describe_file
from tests.s3_identities import setup_identity


def _pdf(path: Path, lines: list[str]) -> Path:
    """A small text PDF (reportlab's built-in font has no Vietnamese: ASCII lines only)."""
    pdf = canvas.Canvas(str(path))
    for i, line in enumerate(lines):
        pdf.drawString(72, 760 - 16 * i, line)
    pdf.showPage()
    pdf.save()
    return path


def _files(tmp_path: Path) -> list[Path]:
    declaration = tmp_path / "to-khai.txt"
    declaration.write_text(
        "TỜ KHAI ĐĂNG KÝ KHAI SINH\nHọ, chữ đệm, tên người yêu cầu: Nguyễn Thị Hằng\n"
        "Số định danh cá nhân: 048190012345\nNơi cư trú: thôn Phú Sơn, xã Hòa Tiến, Đà Nẵng\n",
        encoding="utf-8",
    )
    scan = tmp_path / "scan-p1.png"
    scan.write_bytes(os.urandom(200_000))
    result = _pdf(tmp_path / "giay-khai-sinh.pdf", ["GIAY KHAI SINH", "Ho ten: Le Van An"])
    return [declaration, scan, result]


def _info(files: list[Path], **kwargs: object) -> RecordInfo:
    documents, texts = [], []
    for path in files:
        document, text = describe_file(path, path.name)
        documents.append(document)
        texts.append(text)
    fields: dict[str, object] = {
        "dossier_code": "H40.29.10-261122-0007",
        "title": "Đăng ký khai sinh cho Lê Văn An",
        "procedure": "1.001193",
        "id_numbers": ("048190012345",),
        "keywords": ("khai sinh",),
        "documents": tuple(documents),
        "text": "\n".join(texts),
        "extracted": {"ho_ten_nguoi_yeu_cau": "Nguyễn Thị Hằng"},
    }
    fields.update(kwargs)
    return RecordInfo(**fields)  # type: ignore[arg-type]


def _versions(archive: Archive, record_id: str) -> list[tuple[str, str | None]]:
    return sorted(
        (o.object_name or "", o.version_id)
        for o in archive.client.list_objects(
            archive.buckets.archive,
            prefix=record_prefix(record_id),
            recursive=True,
            include_version=True,
        )
    )


def test_put_get_search_verify_round_trip(archive: Archive, tmp_path: Path) -> None:
    files = _files(tmp_path)
    result = archive.put(files, _info(files))
    assert result.created
    assert [f.name for f in result.files] == ["to-khai.txt", "scan-p1.png", "giay-khai-sinh.pdf"]
    assert result.files[1].sha256 == hashlib.sha256(files[1].read_bytes()).hexdigest()
    assert archive.records() == [result.record_id]

    # the same record again: same id, nothing rewritten
    before = _versions(archive, result.record_id)
    again = archive.put(files, _info(files))
    assert (again.record_id, again.created) == (result.record_id, False)
    assert _versions(archive, result.record_id) == before

    # fetched back: every byte as sent, a valid BagIt bag
    bag_dir = archive.get(result.record_id, tmp_path / "out")
    for path in files:
        assert (bag_dir / "data" / path.name).read_bytes() == path.read_bytes()
    bag = bagit.Bag(str(bag_dir))
    bag.validate()
    assert bag.info["External-Identifier"] == "H40.29.10-261122-0007"
    metadata = json.loads((bag_dir / "metadata.json").read_text(encoding="utf-8"))
    assert metadata["retention_period"] == "10 năm"
    assert metadata["page_count"] == 3 and metadata["document_count"] == 3
    assert metadata["sheet_count"] == 3  # one-sided scans unless the clerk counted sheets
    assert metadata["id_numbers"] == ["048190012345"]

    # found by OCR/text-layer words, folded words, the PDF's own text layer, and filters
    assert archive.search(SearchQuery("nguyen thi hang"))[0].record_id == result.record_id
    assert archive.search(SearchQuery("Le Van An", id_number="048190012345"))
    assert archive.search(SearchQuery("GIAY KHAI SINH"))[0].record_id == result.record_id
    assert archive.search(SearchQuery("khai sinh", dossier_code="H40.29.10-000000-0000")) == []

    audit = archive.verify(result.record_id)
    assert audit.ok, audit.findings
    assert audit.objects_checked == 8  # 3 payload files, 4 tag files, the manifest


def test_checksum_is_sent_and_checked_by_the_server(archive: Archive, tmp_path: Path) -> None:
    """The server refuses a body whose SHA-256 differs from the x-amz-checksum-sha256 header."""
    archive.ensure_buckets()
    wrong = base64.b64encode(hashlib.sha256(b"other bytes").digest()).decode()
    with pytest.raises(S3Error) as refused:
        archive.client.put_object(
            archive.buckets.archive,
            "probe/x",
            io.BytesIO(b"payload"),
            7,
            metadata={"x-amz-checksum-sha256": wrong},
        )
    assert refused.value.code == "BadDigest"
    files = _files(tmp_path)[:1]
    # above the SDK's 5 MiB part size but below the single-PUT limit: still one PUT with the
    # whole object's checksum (a multipart upload would be refused with that header)
    larger = tmp_path / "ho-so-quet.tif"
    larger.write_bytes(os.urandom(7 * 1024 * 1024))
    record = archive.put([*files, larger], _info(files))
    assert archive.verify(record.record_id).ok
    key = record_prefix(record.record_id) + "data/to-khai.txt"
    stat = archive.client.stat_object(
        archive.buckets.archive, key, extra_headers={"x-amz-checksum-mode": "ENABLED"}
    )
    assert stat.metadata["x-amz-meta-sha256"] == record.files[0].sha256


def test_retained_versions_cannot_be_deleted_or_shortened(
    archive: Archive, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    files = _files(tmp_path)[:2]
    record = archive.put(files, _info(files, retention_class="70y"))
    key = record_prefix(record.record_id) + "data/to-khai.txt"
    version = record.files[0].version_id
    retention = archive.client.get_object_retention(archive.buckets.archive, key, version)
    assert retention is not None and retention.mode == COMPLIANCE
    assert retention.retain_until_date is not None
    assert retention.retain_until_date.year >= dt.date.today().year + 69

    with (
        caplog.at_level(logging.WARNING, logger="storage.fixity"),
        pytest.raises(RetentionRefusedError),
    ):
        archive.delete_record(record.record_id)
    assert "refused: deleting archived version" in caplog.text
    assert record.record_id in caplog.text
    with pytest.raises(S3Error):  # COMPLIANCE: a shorter retention is refused too
        archive.client.set_object_retention(
            archive.buckets.archive,
            key,
            Retention(COMPLIANCE, dt.datetime.now(dt.UTC) + dt.timedelta(days=1)),
            version_id=version,
        )
    assert archive.verify(record.record_id).ok  # everything still there, unchanged

    # legal hold on demand, and released
    assert archive.hold(record.record_id) == 8  # 2 payload files, 6 tag files
    assert archive.is_held(record.record_id)
    archive.hold(record.record_id, on=False)
    assert not archive.is_held(record.record_id)


def test_verify_finds_a_version_written_behind_the_archives_back(
    archive: Archive, tmp_path: Path
) -> None:
    files = _files(tmp_path)
    record = archive.put(files, _info(files))
    prefix = record_prefix(record.record_id)
    forged = b"%PDF-1.4 forged result"
    archive.client.put_object(
        archive.buckets.archive, prefix + "data/giay-khai-sinh.pdf", io.BytesIO(forged), len(forged)
    )
    archive.client.remove_object(archive.buckets.archive, prefix + "data/scan-p1.png")  # marker
    archive.client.put_object(
        archive.buckets.archive, prefix + "data/extra.txt", io.BytesIO(b"x"), 1
    )

    audit = archive.verify(record.record_id)
    assert not audit.ok
    problems = {(f.object, f.problem.split(" ")[1]) for f in audit.findings}
    assert ("data/giay-khai-sinh.pdf", "newer") in problems
    assert ("data/scan-p1.png", "delete") in problems
    assert any(f.object == "data/extra.txt" for f in audit.findings)
    assert all(f.record_id == record.record_id for f in audit.findings)
    # the archived versions themselves are intact: get still returns the original bytes
    bag = archive.get(record.record_id, tmp_path / "out")
    assert (bag / "data" / "giay-khai-sinh.pdf").read_bytes() == files[2].read_bytes()


def test_pdf_checker_hook_reports_per_object(archive: Archive, tmp_path: Path) -> None:
    files = _files(tmp_path)
    record = archive.put(files, _info(files))
    seen: list[str] = []

    def unsigned_is_a_finding(data: bytes, name: str) -> list[str]:
        seen.append(name)
        return [] if b"/ByteRange" in data else ["no digital signature"]

    audit = archive.verify(record.record_id, pdf_checker=unsigned_is_a_finding)
    assert seen == ["data/giay-khai-sinh.pdf"]
    assert [(f.object, f.problem) for f in audit.findings] == [
        ("data/giay-khai-sinh.pdf", "no digital signature")
    ]


def test_reindex_rebuilds_a_lost_catalogue(
    s3_config: S3Config, buckets: Buckets, catalogue_url: str, tmp_path: Path
) -> None:
    archive = Archive(s3_config, Catalogue(catalogue_url), buckets, setup=setup_identity(s3_config))
    ids = set()
    for n in range(3):
        folder = tmp_path / f"d{n}"
        folder.mkdir()
        files = _files(folder)[:1]
        ids.add(archive.put(files, _info(files, dossier_code=f"H40.29.10-261122-000{n}")).record_id)
    assert archive.catalogue.count() == 3
    # the catalogue is lost: the SQLite file deleted, the PostgreSQL tables emptied
    archive.catalogue.close()
    if catalogue_url.startswith("sqlite"):
        Path(catalogue_url.removeprefix("sqlite:///")).unlink()
    else:
        Catalogue(catalogue_url).clear()
    archive = Archive(s3_config, Catalogue(catalogue_url), buckets, setup=setup_identity(s3_config))
    assert archive.catalogue.count() == 0
    assert archive.reindex() == 3
    assert archive.catalogue.record_ids() == ids
    hits = archive.search(SearchQuery("nguyen thi hang", dossier_code="H40.29.10-261122-0001"))
    assert len(hits) == 1 and hits[0].record_id in ids
    assert archive.search(SearchQuery("", id_number="048190012345"))
    archive.catalogue.close()


def test_nfd_input_is_stored_nfc_and_found_by_nfc_query(archive: Archive, tmp_path: Path) -> None:
    nfd_name = unicodedata.normalize("NFD", "Giấy chứng nhận.txt")
    path = tmp_path / nfd_name
    path.write_text(unicodedata.normalize("NFD", "Hộ tịch: Trương Thị Thủy"), encoding="utf-8")
    record = archive.put(
        [path],
        _info([path], title=unicodedata.normalize("NFD", "Xác nhận tình trạng hôn nhân")),
    )
    assert record.files[0].name == "Giấy chứng nhận.txt"  # NFC
    assert record.files[0].name != nfd_name
    hits = archive.search(SearchQuery("Thủy"))
    assert [h.record_id for h in hits] == [record.record_id] and hits[0].exact
    assert archive.search(SearchQuery("tình trạng hôn nhân"))[0].record_id == record.record_id
    assert archive.metadata(record.record_id)["title"] == "Xác nhận tình trạng hôn nhân"


def test_presigned_url_export_and_sweep(archive: Archive, tmp_path: Path) -> None:
    files = _files(tmp_path)
    record = archive.put(files, _info(files))
    link = archive.presigned_url(record.record_id, "to-khai.txt", dt.timedelta(minutes=2))
    assert "X-Amz-Expires=120" in link
    response = urllib3.request("GET", link)
    assert response.status == 200 and response.data == files[0].read_bytes()
    with pytest.raises(BadArgumentError):
        archive.presigned_url(record.record_id, "absent.pdf")

    zip_path = tmp_path / "dip.zip"
    audit = archive.export(record.record_id, zip_path)
    assert audit.ok
    with zipfile.ZipFile(zip_path) as zf:
        names = set(zf.namelist())
        report = json.loads(zf.read("verification.json"))
        assert zf.read(f"{record.record_id}/data/scan-p1.png") == files[1].read_bytes()
    assert f"{record.record_id}/metadata.json" in names
    assert f"{record.record_id}/{MANIFEST}" in names
    assert report["ok"] is True and report["objects_checked"] == 8

    # a prefix without a manifest is a leftover, never a record
    archive.client.put_object(
        archive.buckets.archive, "records/r000000000000000000000000/data/a.txt", io.BytesIO(b"a"), 1
    )
    assert archive.records() == [record.record_id]
    assert [item.record_id for item in archive.sweep()] == ["r000000000000000000000000"]


def test_originals_and_quarantine_buckets(archive: Archive, tmp_path: Path) -> None:
    path = _files(tmp_path)[0]
    key, version = archive.store_original(path, "H40.29.10-261122-0007")
    assert version  # the originals bucket keeps versions
    data = archive.client.get_object(archive.buckets.originals, key)
    assert data.read() == path.read_bytes()
    data.close()
    data.release_conn()
    qkey = archive.quarantine(path, "không đọc được mã hồ sơ")
    stat = archive.client.stat_object(archive.buckets.quarantine, qkey)
    assert "x-amz-meta-reason" in {k.lower() for k in stat.metadata}


def test_unreachable_server_is_retried_then_reported(
    s3_config: S3Config, buckets: Buckets, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    closed = S3Config(
        endpoint="127.0.0.1:9", access_key=s3_config.access_key, secret_key=s3_config.secret_key
    )
    archive = Archive(
        closed,
        Catalogue(f"sqlite:///{tmp_path / 'c.sqlite3'}"),
        buckets,
        retry=RetryPolicy(attempts=3, wait_initial=0.05, wait_max=0.1),
    )
    files = _files(tmp_path)[:1]
    with (
        caplog.at_level(logging.WARNING, logger="storage.objects"),
        pytest.raises(ServiceUnavailableError, match="after 3 attempts"),
    ):
        archive.put(files, _info(files))
    assert caplog.text.count("retrying") == 2


def test_sheet_count_given_by_the_clerk_leaves_the_record_id_alone() -> None:
    from storage.record import DocumentInfo, build_metadata, record_id_for

    documents = (DocumentInfo(file="a.pdf", page_count=4),)
    plain = RecordInfo(dossier_code="H40.29.10-261122-0001", documents=documents)
    counted = RecordInfo(dossier_code="H40.29.10-261122-0001", documents=documents,
                         extra={"sheet_count": "2"})  # fmt: skip
    now = dt.datetime(2026, 11, 22, tzinfo=dt.UTC)
    assert build_metadata("r" + "0" * 24, plain, [], "10 năm", now)["sheet_count"] == 4
    assert build_metadata("r" + "0" * 24, counted, [], "10 năm", now)["sheet_count"] == 2
    # record ids must not change between versions (re-putting an old record is idempotent):
    # this is the id motcua has always given this record
    assert record_id_for(plain, [("a.pdf", "00")]) == "raffb6b1fe5483d1b81508273"
