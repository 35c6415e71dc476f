"""`motcua archive ...` end to end: settings from the environment, real S3, exit codes."""

from __future__ import annotations

import io
import json
import urllib.request
import uuid
import zipfile
from pathlib import Path

import pytest

from motcua.cli import main
from storage.record import record_prefix
from storage.s3 import S3Config
from tests.s3_identities import setup_env


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as done:
        main(list(args))
    out, err = capsys.readouterr()
    return int(done.value.code or 0), out, err


@pytest.fixture
def archive_env(motcua_home: Path, s3_config: S3Config, monkeypatch: pytest.MonkeyPatch) -> str:
    tag = uuid.uuid4().hex[:8]
    monkeypatch.setenv("MOTCUA_S3_ENDPOINT", s3_config.endpoint)
    monkeypatch.setenv("MOTCUA_S3_ACCESS_KEY", s3_config.access_key)
    monkeypatch.setenv("MOTCUA_S3_SECRET_KEY", s3_config.secret_key)
    for key, value in setup_env(s3_config).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("MOTCUA_BUCKET_ARCHIVE", f"cli-a-{tag}")
    monkeypatch.setenv("MOTCUA_BUCKET_ORIGINALS", f"cli-o-{tag}")
    monkeypatch.setenv("MOTCUA_BUCKET_QUARANTINE", f"cli-q-{tag}")
    return f"cli-a-{tag}"


def test_archive_cli_round_trip(
    archive_env: str,
    motcua_home: Path,
    s3_config: S3Config,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    receipt = tmp_path / "phieu-tiep-nhan.txt"
    receipt.write_text(
        "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ\nNgười nộp: Đặng Thị Hương\n", encoding="utf-8"
    )
    code, out, err = _run(
        capsys,
        "archive", "put", str(receipt),
        "--dossier", "H40.29.10-261122-0101",
        "--title", "Xác nhận tình trạng hôn nhân",
        "--meta", "id_number=048195001122",
        "--meta", "procedure=1.004873",
        "--meta", "so_bien_nhan=0101",
        "--retention-class", "20y",
        "--json",
    )  # fmt: skip
    assert code == 0, err
    put = json.loads(out)
    record_id = put["record_id"]
    assert put["created"] and put["files"][0]["name"] == "phieu-tiep-nhan.txt"
    assert (motcua_home / "catalog.sqlite3").is_file()  # SQLite under MOTCUA_HOME by default
    # full ID numbers live in it: the owner's alone (umask 077 of every motcua process)
    assert (motcua_home / "catalog.sqlite3").stat().st_mode & 0o077 == 0

    code, out, _ = _run(capsys, "archive", "search", "dang thi huong", "--json")
    hits = json.loads(out)
    assert code == 0 and [h["record_id"] for h in hits] == [record_id]
    assert hits[0]["dossier_code"] == "H40.29.10-261122-0101" and not hits[0]["exact"]
    code, out, _ = _run(capsys, "archive", "search", "Hương", "--id-number", "048195001122")
    assert code == 0 and record_id in out and "[Hương]" in out
    code, out, _ = _run(
        capsys, "archive", "search", "Hương", "--from", "2000-01-01", "--to", "2000-12-31"
    )
    assert code == 0 and "Không tìm thấy" in out

    code, out, _ = _run(capsys, "archive", "get", record_id, "-o", str(tmp_path / "out"))
    assert code == 0
    assert (tmp_path / "out" / record_id / "data" / "phieu-tiep-nhan.txt").read_bytes() == (
        receipt.read_bytes()
    )
    metadata = json.loads((tmp_path / "out" / record_id / "metadata.json").read_text("utf-8"))
    assert metadata["extra"] == {"so_bien_nhan": "0101"}
    assert metadata["retention_period"] == "20 năm"

    code, out, _ = _run(capsys, "archive", "verify", "--all", "--json")
    assert code == 0 and json.loads(out)["records"][0]["ok"] is True

    code, out, _ = _run(capsys, "archive", "url", record_id, "phieu-tiep-nhan.txt")
    assert code == 0
    with urllib.request.urlopen(out.strip(), timeout=10) as response:
        assert response.read() == receipt.read_bytes()

    code, out, _ = _run(capsys, "archive", "hold", record_id)
    assert code == 0 and "Đã phong tỏa" in out
    code, out, _ = _run(capsys, "archive", "hold", record_id, "--release")
    assert code == 0 and "Đã gỡ phong tỏa" in out

    zip_path = tmp_path / "dip.zip"
    code, out, _ = _run(capsys, "archive", "export", record_id, "-o", str(zip_path))
    assert code == 0
    with zipfile.ZipFile(zip_path) as zf:
        assert json.loads(zf.read("verification.json"))["ok"] is True

    # tampering behind motcua's back: verify exits 1 and names the record and the object
    client = s3_config.client()
    key = record_prefix(record_id) + "data/phieu-tiep-nhan.txt"
    client.put_object(archive_env, key, io.BytesIO(b"sua doi"), 7)
    code, out, _ = _run(capsys, "archive", "verify", record_id)
    assert code == 1
    assert "data/phieu-tiep-nhan.txt" in out and record_id in out
    code, _, err = _run(capsys, "archive", "export", record_id, "-o", str(tmp_path / "bad.zip"))
    assert code == 1 and "không toàn vẹn" in err

    # the catalogue is lost and rebuilt from the store
    (motcua_home / "catalog.sqlite3").unlink()
    code, out, _ = _run(capsys, "archive", "reindex")
    assert code == 0 and "1 hồ sơ" in out
    code, out, _ = _run(capsys, "archive", "search", "", "--dossier", "H40.29.10-261122-0101")
    assert record_id in out


def test_archive_cli_errors_are_messages_not_tracebacks(
    archive_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run(capsys, "archive", "put", str(tmp_path / "absent.pdf"), "--dossier", "X")
    assert code == 2 and "not found" in err and "Traceback" not in err
    code, _, err = _run(capsys, "archive", "get", "not-a-record")
    assert code == 2 and "not a record id" in err
    code, _, err = _run(capsys, "archive", "verify")
    assert code == 2 and "--all" in err
    present = tmp_path / "a.txt"
    present.write_text("a", encoding="utf-8")
    code, _, err = _run(
        capsys, "archive", "put", str(present), "--dossier", "X", "--retention-class", "3y"
    )
    assert code == 2 and "unknown retention class" in err
    code, _, err = _run(capsys, "archive", "get", "r" + "0" * 24)
    assert code == 2 and "no record" in err, err


def test_archive_verify_revalidates_signed_pdfs(
    archive_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`archive verify` composes the audit with `signing.verify_pdf` (the TEST PKI, offline)."""
    from signing import SignatureSpec, TrustServices, load_pkcs12, sign_pdf, testpki
    from signing.samples import result_pdf

    pki = testpki.init(tmp_path / "test-pki")
    leader = load_pkcs12(pki.p12("leader"), pki.p12_password)
    with TrustServices(pki):  # signing checks the certificate's revocation
        _, signed = sign_pdf(result_pdf(pages=1), None, SignatureSpec(), leader)
    good = tmp_path / "good" / "quyet-dinh.pdf"
    good.parent.mkdir()
    good.write_bytes(signed)
    # one byte of the signed page content changed before archiving: the archive stores it
    # faithfully (fixity holds), but the signature no longer matches
    damaged = bytearray(signed)
    damaged[signed.find(b"stream\n") + 20] ^= 0x01
    bad = tmp_path / "bad" / "quyet-dinh.pdf"
    bad.parent.mkdir()
    bad.write_bytes(bytes(damaged))
    unsigned = tmp_path / "scan" / "ban-quet.pdf"
    unsigned.parent.mkdir()
    unsigned.write_bytes(result_pdf(pages=1))

    ids = {}
    for label, path in (("good", good), ("bad", bad), ("unsigned", unsigned)):
        code, out, err = _run(capsys, "archive", "put", str(path), "--dossier", f"H40-{label}")
        assert code == 0, err
        ids[label] = out.strip()
    trust = ("--trust", str(pki.root_cert), "--offline")
    # offline, a signature without embedded revocation data cannot be checked: not valid ...
    code, out, _ = _run(capsys, "archive", "verify", ids["good"], *trust)
    assert code == 1 and "chưa kiểm tra được thu hồi" in out, out
    # ... unless the archivist accepts that, knowingly
    trust = (*trust, "--accept-unknown-revocation")
    code, out, _ = _run(capsys, "archive", "verify", ids["good"], ids["unsigned"], *trust)
    assert code == 0, out
    code, out, _ = _run(capsys, "archive", "verify", ids["bad"], *trust, "--json")
    assert code == 1
    report = json.loads(out)
    assert report["pdf_signatures_checked"] is True
    (finding,) = report["records"][0]["findings"]
    assert finding["record_id"] == ids["bad"] and finding["object"] == "data/quyet-dinh.pdf"
    assert "digest mismatch" in finding["problem"]
    # without the trust anchor a valid signature is still intact, an untrusted chain is not
    # an integrity finding
    code, out, _ = _run(capsys, "archive", "verify", ids["good"], "--offline")
    assert code == 0, out


def test_verify_all_reports_a_record_the_catalogue_lost(
    archive_env: str, motcua_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scan = tmp_path / "to-khai.txt"
    scan.write_text("Tờ khai", encoding="utf-8")
    code, out, err = _run(
        capsys, "archive", "put", str(scan), "--dossier", "H40.29.10-261203-0007", "--json"
    )
    assert code == 0, err
    record_id = json.loads(out)["record_id"]
    code, out, _ = _run(capsys, "archive", "verify", "--all", "--json")
    assert code == 0 and json.loads(out)["archive_findings"] == []

    (motcua_home / "catalog.sqlite3").unlink()  # the catalogue is lost; the store keeps it
    code, out, _ = _run(capsys, "archive", "verify", "--all", "--json")
    report = json.loads(out)
    assert code == 1 and report["ok"] is False
    assert [(f["record_id"], f["problem"]) for f in report["archive_findings"]] == [
        (record_id, "in the store but not in the catalogue (search misses it)")
    ]
    code, out, _ = _run(capsys, "archive", "verify", "--all")
    assert code == 1 and f"✗ {record_id}: (catalogue): in the store but not" in out
