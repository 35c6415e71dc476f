"""The signature-upkeep flow end to end: a B-LTA result timestamped by a TSA whose certificate ends
in 30 days, archived on the real S3 server, is found by `motcua archive renew --dry-run`, renewed
by `motcua archive renew` into a new version of the record (the old one still there, retained and
undeletable), and `motcua verify` reports the new timestamp, still complete, after the old TSA
certificate has ended."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from dossiers.forms.pdf import SignatureBox
from flows.context import current_office
from flows.result import SIGNED_PDF, Draft, read_draft, write_draft
from motcua.web.audit import AuditLog
from signing import Level, Role, SignatureSpec, TrustServices, load_pkcs12, sign_pdf, testpki
from signing.samples import result_pdf
from signing.verify import verify_pdf
from storage.archive import RetentionRefusedError
from storage.record import DocumentInfo, RecordInfo, record_prefix

CODE = "H40.29.10-261204-0007"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Iterator[testpki.TestPki]:
    made = testpki.init(tmp_path_factory.mktemp("pki") / "test-pki")
    with TrustServices(made):
        yield made


def _short_lived_result(pki: testpki.TestPki, folder: Path) -> Path:
    spec = SignatureSpec(level=Level.B_LTA, tsa_url=pki.short_tsa_url, trust=(pki.root_cert,))
    leader = load_pkcs12(pki.p12("leader"), pki.p12_password)
    organization = load_pkcs12(pki.p12("organization"), pki.p12_password)
    _, signed = sign_pdf(result_pdf(pages=1), None, spec, leader)
    _, signed = sign_pdf(signed, None, dataclasses.replace(spec, role=Role.organization),
                         organization)  # fmt: skip
    path = folder / "ket-qua-da-ky.pdf"
    path.write_bytes(signed)
    return path


def _motcua(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "motcua", *args], capture_output=True,
                          text=True, timeout=300, check=False)  # fmt: skip


@pytest.mark.slow
def test_a_result_whose_timestamp_weakens_is_renewed_as_a_new_version(
    office_home: Path, pki: testpki.TestPki, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOTCUA_SIGNING_TSA_URL", pki.tsa_url)
    monkeypatch.setenv("MOTCUA_SIGNING_TRUST", str(pki.root_cert))
    current_office.cache_clear()
    archive = current_office().archive
    signed = _short_lived_result(pki, tmp_path)
    info = RecordInfo(dossier_code=CODE, title=f"Kết quả giải quyết hồ sơ {CODE}",
                      procedure="dang-ky-khai-sinh", text="Trích lục khai sinh Lê Văn An",
                      documents=(DocumentInfo(file=signed.name, page_count=1),))  # fmt: skip
    old = archive.put([signed], info).record_id
    # the dossier's signed result points at that record, with the office's copy beside it
    folder = current_office().dossier_dir(CODE)
    local = folder / SIGNED_PDF
    local.write_bytes(signed.read_bytes())
    write_draft(folder, Draft(dossier_code=CODE, template="trich-luc-khai-sinh",
                              pdf=folder / "ket-qua.pdf", pages=1,
                              signature_box=SignatureBox(1, 300.0, 80.0, 560.0, 180.0),
                              drafted_at=dt.datetime.now(dt.UTC), sha256="0" * 64,
                              signed_pdf=local, record_id=old,
                              signed_at=dt.datetime.now(dt.UTC)))  # fmt: skip
    # a record with nothing to renew (no signature at all) is checked and left alone
    plain = tmp_path / "bien-nhan.txt"
    plain.write_text("Giấy tiếp nhận hồ sơ", encoding="utf-8")
    archive.put([plain], RecordInfo(dossier_code=CODE, text="biên nhận"))

    dry = _motcua("archive", "renew", "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    found = json.loads(dry.stdout)
    assert (found["checked"], found["due"], found["renewed"]) == (2, 1, 0)
    [item] = found["records"]
    assert item["record_id"] == old and item["renewed_to"] is None
    assert "hết hạn ngày" in item["reasons"][0]
    assert archive.records() == sorted(archive.records()) and len(archive.records()) == 2

    done = _motcua("archive", "renew", "--json")
    assert done.returncode == 0, done.stderr
    [renewed] = json.loads(done.stdout)["records"]
    new = renewed["renewed_to"]
    assert new and new != old
    meta = archive.metadata(new)
    assert meta["extra"]["supersedes"] == old and meta["extra"]["renewed_at"]
    assert meta["code"] == CODE and meta["title"] == info.title

    bag = archive.get(new, tmp_path / "out")
    pdf = bag / "data" / signed.name
    assert pdf.read_bytes().startswith(signed.read_bytes())  # the old signatures, untouched
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(days=60)).isoformat()
    verified = _motcua("verify", "--json", "--trust", str(pki.root_cert), "--at", later, str(pdf))
    assert verified.returncode == 0, verified.stdout + verified.stderr
    report = json.loads(verified.stdout)
    assert report["ok"] and report["complete"]
    assert report["document_timestamps"][-1]["tsa"] == "TEST motcua Time Stamping Authority"
    old_copy = archive.get(old, tmp_path / "old") / "data" / signed.name
    # the dossier follows: its result is the renewed record, the copy before renewal kept beside
    draft = read_draft(folder)
    assert draft is not None and draft.record_id == new
    assert local.read_bytes() == pdf.read_bytes() != signed.read_bytes()
    [before] = folder.glob("ket-qua-da-ky.truoc-gia-han-*.pdf")
    assert before.read_bytes() == signed.read_bytes()
    at = dt.datetime.fromisoformat(later)
    assert not verify_pdf(old_copy, [pki.root_cert], at=at).ok  # the old version has expired

    # the old version stays in the WORM bucket and cannot be deleted
    with pytest.raises(RetentionRefusedError):
        archive.delete_record(old)
    assert archive.verify(old).ok

    # both records' histories tell the renewal; a second run has nothing left to do
    journal = AuditLog(current_office().settings.effective_catalog_url)
    [(action, details)] = [(e.action, e.details) for e in journal.entries(target_id=old)]
    assert action == "archive.signature_renewed" and details["new_record"] == new
    assert [e.action for e in journal.entries(target_id=new)] == ["archive.renewal_stored"]
    [followed] = [e for e in journal.entries(target_id=CODE) if e.action.startswith("result.")]
    assert followed.action == "result.signature_renewed"
    assert followed.details == {"record_id": new, "supersedes": old}
    again = _motcua("archive", "renew", "--json")
    assert json.loads(again.stdout)["due"] == 0 and json.loads(again.stdout)["checked"] == 2
    assert record_prefix(old) != record_prefix(new)
