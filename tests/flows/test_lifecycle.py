"""The dossier lifecycle end to end: real Prefect (embedded), S3, Tesseract, trust services."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pypdf
import pytest

from flows.context import current_office
from flows.intake import intake_dossier
from motcua.types import fold


def _text(pdf: str | Path) -> str:
    return "\n".join(page.extract_text() or "" for page in pypdf.PdfReader(pdf).pages)


@pytest.mark.slow
def test_complete_dossier_gets_receipt_due_date_and_archive(
    office_home: Path, birth_dossier_scans: dict[str, Path]
) -> None:
    # Received Wednesday 29/4/2026 at 16:00, after the 15:00 cut-off of a same-day procedure:
    # 30/4 and 1/5 are holidays, 2-3/5 a weekend, so the result is due Monday 4/5/2026.
    files = [str(birth_dossier_scans["declaration"]), str(birth_dossier_scans["card"])]
    result = intake_dossier(files, "dang-ky-khai-sinh", "2026-04-29T16:00:00+07:00")
    assert result["created"] is True
    assert result["dossier_code"] == "H40.29.10-260429-0001"
    assert result["due_date"] == "2026-05-04"
    assert result["status"] == "received"
    assert result["missing_components"] == []
    assert sorted(d["kind"] for d in result["documents"]) == ["cccd", "to-khai-khai-sinh"]
    # the citizen is the declaration's requester (the receipt and the register name them)
    assert current_office().register.get(result["dossier_code"]).citizen_name
    receipt = _text(result["receipt_pdf"])
    assert "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ" in receipt
    assert "H40.29.10-260429-0001" in receipt
    assert "04 tháng 5 năm 2026" in receipt or "4 tháng 5 năm 2026" in receipt

    # The run left a markdown artifact summarising it, in Vietnamese.
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                key=ArtifactFilterKey(any_=["intake-h40-29-10-260429-0001"])
            )
        )
    assert artifacts and "Hẹn trả: 04/05/2026" in str(artifacts[0].data)

    # Archived, and found by the child's name typed without diacritics.
    from storage.catalogue import SearchQuery

    child = birth_dossier_scans["child"].read_text(encoding="utf-8")
    hits = current_office().archive.search(SearchQuery(text=fold(child)))
    assert [h.dossier_code for h in hits] == ["H40.29.10-260429-0001"]
    assert current_office().archive.verify(hits[0].record_id).ok
    # and by the receipt's own words: the form motcua made is indexed with the scans
    receipt_hits = current_office().archive.search(
        SearchQuery(text='"giay tiep nhan ho so va hen tra ket qua"')
    )
    assert [h.record_id for h in receipt_hits] == [hits[0].record_id]

    # The same files again: the same dossier, no second one.
    again = intake_dossier(list(reversed(files)), "dang-ky-khai-sinh", "2026-04-29T16:30:00+07:00")
    assert again["created"] is False
    assert again["dossier_code"] == result["dossier_code"]
    assert len(current_office().register.list()) == 1


@pytest.mark.slow
def test_incomplete_dossier_gets_a_supplement_request(
    office_home: Path, birth_dossier_scans: dict[str, Path]
) -> None:
    # Only the declaration: the requester's ID card is missing. Received before Tết 2027.
    result = intake_dossier(
        [str(birth_dossier_scans["declaration"])], "dang-ky-khai-sinh", "2027-02-03T09:00:00+07:00"
    )
    assert result["status"] == "supplement_requested"
    assert result["missing_components"] == ["cccd"]
    assert result["receipt_pdf"] is None
    assert result["due_date"] is None
    assert "bổ sung" in _text(result["supplement_pdf"]).lower()


@pytest.mark.slow
def test_receipt_after_cutoff_before_tet_is_due_after_the_holiday(
    office_home: Path, birth_dossier_scans: dict[str, Path]
) -> None:
    # Wednesday 3/2/2027 at 16:00: past the cut-off; 4/2 to 10/2 are Tết days off, so the
    # next working day is Thursday 11/2/2027.
    result = intake_dossier(
        [str(birth_dossier_scans["declaration"]), str(birth_dossier_scans["card"])],
        "dang-ky-khai-sinh",
        "2027-02-03T16:00:00+07:00",
    )
    assert result["due_date"] == dt.date(2027, 2, 11).isoformat()
