"""The archived result is found by its own words: the child's name on the trích lục, which is
neither the requester's name nor the dossier code (real S3 server, the result flow's own task)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from dossiers.calendar import VN_TZ
from dossiers.dossier import Dossier, Status
from dossiers.forms.results import render_result
from flows.context import current_office
from flows.result import archive_result_task
from storage.catalogue import SearchQuery

CODE = "H40.29.10-260424-0007"
FIELDS = {
    "child_name": "Nguyễn Minh Khôi",
    "child_birth_date": "15/03/2026",
    "child_sex": "Nam",
    "child_ethnicity": "Kinh",
    "child_nationality": "Việt Nam",
    "child_birth_place": "Bệnh viện Phụ sản - Nhi Đà Nẵng",
    "child_home_town": "xã Hòa Tiến, huyện Hòa Vang, thành phố Đà Nẵng",
    "mother_name": "Trần Thị Hằng",
    "mother_birth_year": "1995",
    "mother_ethnicity": "Kinh",
    "mother_nationality": "Việt Nam",
    "mother_residence": "thôn Lệ Sơn 1, xã Hòa Tiến, huyện Hòa Vang, thành phố Đà Nẵng",
}


def test_the_result_pdf_text_is_indexed(office_home: Path, tmp_path: Path) -> None:
    office = current_office()
    # the drafted result as the leader signs it (the signatures add no words to the text layer)
    result = tmp_path / "ket-qua.pdf"
    rendered = render_result(
        "trich-luc-khai-sinh",
        result,
        fields=FIELDS,
        office=office.printed,
        dossier_code=CODE,
        issued_on=dt.date(2026, 4, 24),
    )
    received = dt.datetime(2026, 4, 24, 9, 0, tzinfo=VN_TZ)
    dossier = Dossier(
        code=CODE,
        unit_code="H40.29.10",
        procedure_key="dang-ky-khai-sinh",
        idempotency_key="k",
        citizen_name="Trần Thị Hằng",  # the requester: the mother
        status=Status.result_signed,
        received_at=received,
        due_date=dt.date(2026, 4, 24),
        resolved_at=received,
        returned_at=None,
        new_due_date=None,
        apology_issued_at=None,
        missing_components=(),
        documents=(),
        history=(),
    )
    record_id = archive_result_task.fn(office, dossier, result, rendered.pages)

    hits = office.archive.search(SearchQuery('"nguyen minh khoi"'))
    assert [h.record_id for h in hits] == [record_id]
    assert hits[0].phrase and not hits[0].exact
    assert "<mark>NGUYỄN MINH KHÔI</mark>" in hits[0].snippet_html  # as the result prints it
    assert [h.record_id for h in office.archive.search(SearchQuery("Bệnh viện Phụ sản"))] == [
        record_id
    ]
    assert office.archive.search(SearchQuery("nguyen minh khoi hung")) == []
    # the record's text file in the bag holds it too, so a reindex from the store finds it again
    office.archive.catalogue.clear()
    assert office.archive.reindex() == 1
    assert [h.record_id for h in office.archive.search(SearchQuery("Khôi"))] == [record_id]
