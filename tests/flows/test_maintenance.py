"""Maintenance flows through the embedded Prefect API and the real S3 server: fixity audit,
reindex, and Mẫu 04 for late dossiers with hand-computed new dates."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
from pathlib import Path

import pypdf
import pytest

from dossiers.calendar import VN_TZ
from dossiers.register import DocumentIn
from flows.context import current_office
from flows.maintenance import apologise_late_dossiers, fixity_audit, reindex_catalogue
from motcua.errors import CheckFailedError
from storage.record import RecordInfo, record_prefix


def _doc(kind: str, salt: str) -> DocumentIn:
    return DocumentIn(path=f"/scans/{kind}.pdf", kind=kind,
                      sha256=hashlib.sha256(f"{kind}{salt}".encode()).hexdigest())  # fmt: skip


def _take_in(procedure: str, kinds: list[str], at: dt.datetime, salt: str) -> str:
    office = current_office()
    result = office.register.intake(
        office.catalogue.get(procedure), [_doc(k, salt) for k in kinds], received_at=at,
        citizen_name="Nguyễn Thị Hằng",
    )  # fmt: skip
    return result.dossier.code


def test_late_dossiers_get_the_apology_letter_once(office_home: Path) -> None:
    # Marital-status confirmation, 3 working days: received Monday 2/11/2026 09:00 → due
    # Thursday 5/11. On Monday 9/11 it is late; the new date is 3 working days later: 12/11.
    late = _take_in("xac-nhan-tinh-trang-hon-nhan", ["to-khai-xac-nhan-hon-nhan", "cccd"],
                    dt.datetime(2026, 11, 2, 9, 0, tzinfo=VN_TZ), "late")  # fmt: skip
    # Received the same Monday and resolved: not late any more, no letter.
    done = _take_in("xac-nhan-tinh-trang-hon-nhan", ["to-khai-xac-nhan-hon-nhan", "cccd"],
                    dt.datetime(2026, 11, 2, 10, 0, tzinfo=VN_TZ), "done")  # fmt: skip
    register = current_office().register
    register.start_processing(done)
    register.mark_result_signed(done, at=dt.datetime(2026, 11, 4, 15, 0, tzinfo=VN_TZ))
    assert register.get(late).due_date == dt.date(2026, 11, 5)

    issued = apologise_late_dossiers("2026-11-09")

    assert [(i["dossier_code"], i["due_date"], i["new_due_date"]) for i in issued] == [
        (late, "2026-11-05", "2026-11-12")
    ]
    text = "\n".join(
        p.extract_text() or "" for p in pypdf.PdfReader(issued[0]["apology_pdf"]).pages
    )
    assert "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ" in " ".join(text.split())
    assert late in text
    assert "12/11/2026" in text or "12 tháng 11 năm 2026" in text
    assert register.get(late).new_due_date == dt.date(2026, 11, 12)
    # The next morning's run issues nothing new.
    assert apologise_late_dossiers("2026-11-10") == []


def test_fixity_audit_passes_then_finds_a_tampered_object(
    office_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = current_office().archive
    scan = tmp_path / "to-khai.txt"
    scan.write_text("Tờ khai đăng ký khai sinh của Lê Văn An", encoding="utf-8")
    record = archive.put([scan], RecordInfo(dossier_code="H40.29.10-261122-0042", text="Lê Văn An"))

    clean = fixity_audit()
    assert clean["records"] == 1 and clean["findings"] == []
    assert clean["objects"] == 6  # the payload file, four tag files, the manifest

    # behind motcua's back: a new version hides the archived one
    key = record_prefix(record.record_id) + "data/to-khai.txt"
    # a second version with the very same bytes (a store that took a PUT twice across a crash)
    # hides nothing: the audit hashes it and stays clean
    same = scan.read_bytes()
    archive.client.put_object(archive.buckets.archive, key, io.BytesIO(same), len(same))
    assert fixity_audit()["findings"] == []
    archive.client.put_object(archive.buckets.archive, key, io.BytesIO(b"forged"), 6)
    with pytest.raises(CheckFailedError, match="1 finding"):
        fixity_audit()
    # the CLI prints the findings (it printed nothing before issue 13), then exits 1
    from motcua.cli import main

    with pytest.raises(SystemExit) as done:
        main(["archive", "audit", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert done.value.code == 1 and report["ok"] is False
    assert [(f["record_id"], f["object"]) for f in report["findings"]] == [
        (record.record_id, "data/to-khai.txt")
    ]

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["fixity-audit"]))
        )
    latest = max(artifacts, key=lambda a: a.created)
    assert record.record_id in str(latest.data) and "data/to-khai.txt" in str(latest.data)


def test_reindex_flow_rebuilds_a_lost_catalogue(office_home: Path, tmp_path: Path) -> None:
    archive = current_office().archive
    for i in range(3):
        path = tmp_path / f"don-{i}.txt"
        path.write_text(f"Đơn đề nghị số {i} của Trần Văn Bình", encoding="utf-8")
        archive.put(
            [path], RecordInfo(dossier_code=f"H40.29.10-261122-010{i}", text=path.read_text())
        )
    archive.catalogue.clear()
    from storage.catalogue import SearchQuery

    assert archive.search(SearchQuery("tran van binh")) == []
    assert reindex_catalogue()["records"] == 3
    assert len(archive.search(SearchQuery("tran van binh"))) == 3


def test_apologise_command_prints_the_letters(
    office_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from motcua.cli import main

    def run(*args: str) -> tuple[int, str, str]:
        with pytest.raises(SystemExit) as done:
            main(list(args))
        out, err = capsys.readouterr()
        return int(done.value.code or 0), out, err

    late = _take_in("xac-nhan-tinh-trang-hon-nhan", ["to-khai-xac-nhan-hon-nhan", "cccd"],
                    dt.datetime(2026, 11, 2, 9, 0, tzinfo=VN_TZ), "cli")  # fmt: skip
    code, out, _ = run("dossier", "apologise", "--date", "2026-11-09", "--json")
    assert code == 0 and f'"dossier_code": "{late}"' in out
    code, _, err = run("dossier", "apologise", "--date", "9/11/2026")
    assert code == 2 and "YYYY-MM-DD" in err and "Traceback" not in err

    code, out, _ = run("archive", "audit", "--json")
    assert code == 0 and '"findings": []' in out
