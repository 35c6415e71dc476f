"""The dossier register on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import datetime as dt
import hashlib
import unicodedata

import pytest

from dossiers.calendar import VN_TZ, Timeliness
from dossiers.procedures import Catalogue
from dossiers.register import DocumentIn, DossierRegister, Status, idempotency_key
from motcua.errors import BadArgumentError, CheckFailedError, ServiceUnavailableError


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def at(y: int, m: int, d: int, hh: int = 9, mi: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, hh, mi, tzinfo=VN_TZ)


def marital_docs(tag: str = "") -> list[DocumentIn]:
    name_nfd = unicodedata.normalize("NFD", "Nguyễn Thị Hằng")
    return [
        DocumentIn(
            f"/scans/{tag}to-khai.pdf",
            "to-khai-xac-nhan-hon-nhan",
            sha(tag + "to-khai"),
            {"requester_name": name_nfd, "purpose": "Đăng ký kết hôn"},
            page_count=2,
        ),
        DocumentIn(f"/scans/{tag}cccd.jpg", "cccd", sha(tag + "cccd"), {"so_dinh_danh": "0"}),
    ]


def test_intake_registers_a_complete_dossier(
    register: DossierRegister, catalogue: Catalogue
) -> None:
    procedure = catalogue.get("xac-nhan-tinh-trang-hon-nhan")
    result = register.intake(
        procedure,
        marital_docs(),
        received_at=at(2026, 4, 24, 9, 30),
        citizen_name="Nguyễn Thị Hằng",
    )
    dossier = result.dossier
    assert result.created
    assert dossier.code == "H40.29.10-260424-0001"
    assert dossier.status is Status.received
    assert dossier.due_date == dt.date(2026, 5, 4)
    assert dossier.received_at == at(2026, 4, 24, 9, 30)
    assert dossier.missing_components == ()
    assert [d.kind for d in dossier.documents] == ["to-khai-xac-nhan-hon-nhan", "cccd"]
    assert dossier.documents[0].fields["requester_name"] == "Nguyễn Thị Hằng"  # stored NFC
    assert dossier.documents[0].page_count == 2
    assert [(h.status, h.at) for h in dossier.history] == [(Status.received, dossier.received_at)]
    assert register.get(dossier.code) == dossier


def test_same_files_return_the_existing_dossier(
    register: DossierRegister, catalogue: Catalogue
) -> None:
    procedure = catalogue.get("xac-nhan-tinh-trang-hon-nhan")
    first = register.intake(procedure, marital_docs(), received_at=at(2026, 4, 24, 9))
    again = register.intake(procedure, marital_docs()[::-1], received_at=at(2026, 4, 24, 11))
    assert not again.created
    assert again.dossier == first.dossier
    other = register.intake(procedure, marital_docs("x"), received_at=at(2026, 4, 24, 11))
    assert other.created
    assert other.dossier.code == "H40.29.10-260424-0002"  # the re-intake used no number
    assert register.find_by_files(procedure.key, [d.sha256 for d in marital_docs()]) == (
        first.dossier
    )
    assert idempotency_key("a", ["1" * 64, "2" * 64]) == idempotency_key("a", ["2" * 64, "1" * 64])
    assert idempotency_key("a", ["1" * 64]) != idempotency_key("b", ["1" * 64])


def test_counter_restarts_each_day(register: DossierRegister, catalogue: Catalogue) -> None:
    procedure = catalogue.get("chung-thuc-ban-sao")
    codes = [
        register.intake(
            procedure, [DocumentIn(f"{i}.pdf", "ban-chinh", sha(str(i)))], received_at=when
        ).dossier.code
        for i, when in enumerate([at(2026, 4, 24), at(2026, 4, 24, 16), at(2026, 4, 28)])
    ]
    assert codes == ["H40.29.10-260424-0001", "H40.29.10-260424-0002", "H40.29.10-260428-0001"]


def test_lifecycle_and_timeliness(register: DossierRegister, catalogue: Catalogue) -> None:
    procedure = catalogue.get("xac-nhan-tinh-trang-hon-nhan")
    code = register.intake(procedure, marital_docs(), received_at=at(2026, 4, 24)).dossier.code
    with pytest.raises(CheckFailedError, match="cannot become returned"):
        register.mark_returned(code, at=at(2026, 4, 28))
    register.start_processing(code, at=at(2026, 4, 28, 8))
    signed = register.mark_result_signed(code, at=at(2026, 5, 4, 16, 45))
    assert signed.timeliness is Timeliness.on_time
    returned = register.mark_returned(code, at=at(2026, 5, 5, 8, 15))
    assert returned.status is Status.returned
    assert returned.returned_at == at(2026, 5, 5, 8, 15)
    assert [h.status for h in returned.history] == [
        Status.received,
        Status.processing,
        Status.result_signed,
        Status.returned,
    ]
    with pytest.raises(CheckFailedError, match="nothing"):
        register.start_processing(code)

    early = register.intake(procedure, marital_docs("e"), received_at=at(2026, 4, 24)).dossier
    assert register.mark_result_signed(early.code, at=at(2026, 4, 29)).timeliness is (
        Timeliness.early
    )
    late = register.intake(procedure, marital_docs("l"), received_at=at(2026, 4, 24)).dossier
    register.start_processing(late.code, at=at(2026, 4, 28))
    assert [d.code for d in register.overdue(dt.date(2026, 5, 5), without_apology=True)] == [
        late.code
    ]
    assert late.is_overdue(dt.date(2026, 5, 5)) and not late.is_overdue(dt.date(2026, 5, 4))
    with pytest.raises(BadArgumentError, match="phải sau ngày hẹn trả"):
        register.record_apology(late.code, dt.date(2026, 5, 4), at=at(2026, 5, 4, 16))
    apologised = register.record_apology(late.code, dt.date(2026, 5, 6), at=at(2026, 5, 4, 16))
    assert apologised.new_due_date == dt.date(2026, 5, 6)
    assert apologised.apology_issued_at == at(2026, 5, 4, 16)
    assert [d.code for d in register.overdue(dt.date(2026, 5, 5))] == [late.code]
    assert register.overdue(dt.date(2026, 5, 5), without_apology=True) == []
    assert register.overdue(dt.date(2026, 5, 4)) == []
    resolved = register.mark_result_signed(late.code, at=at(2026, 5, 6, 10))
    assert resolved.timeliness is Timeliness.late  # an apology does not move the due date


def test_incomplete_dossier_waits_for_the_supplement(
    register: DossierRegister, catalogue: Catalogue
) -> None:
    procedure = catalogue.get("xac-nhan-tinh-trang-hon-nhan")
    declaration, card = marital_docs()
    dossier = register.intake(procedure, [declaration], received_at=at(2026, 4, 24)).dossier
    assert dossier.status is Status.supplement_requested
    assert dossier.missing_components == ("cccd",)
    assert dossier.due_date is None and dossier.timeliness is None
    with pytest.raises(CheckFailedError, match="misses cccd"):
        register.start_processing(dossier.code)
    supplied = register.supplement_received(procedure, dossier.code, [card], at=at(2026, 4, 28, 10))
    # Never accepted before: complete now, it is received (a new Mẫu 01) and waits for acceptance.
    assert supplied.status is Status.received
    assert supplied.code == dossier.code
    assert supplied.missing_components == ()
    assert supplied.due_date == dt.date(2026, 5, 5)  # counted anew: Wed 29, Mon 4/5, Tue 5/5
    assert [d.kind for d in supplied.documents] == ["to-khai-xac-nhan-hon-nhan", "cccd"]
    assert [d.component for d in supplied.documents] == ["to-khai-xac-nhan-hon-nhan", "cccd"]
    assert supplied.history[-1].note == "bổ sung đủ: cccd"
    assert supplied.supplement_rounds == 1
    assert register.start_processing(dossier.code).status is Status.processing
    with pytest.raises(BadArgumentError, match="không chờ bổ sung"):
        register.supplement_received(procedure, dossier.code, [card])


def test_supplement_requested_during_processing(
    register: DossierRegister, catalogue: Catalogue
) -> None:
    procedure = catalogue.get("xac-nhan-tinh-trang-hon-nhan")
    code = register.intake(procedure, marital_docs(), received_at=at(2026, 4, 24)).dossier.code
    register.start_processing(code, at=at(2026, 4, 28))
    asked = register.request_supplement(code, ["giay-to-ly-hon"], at=at(2026, 4, 28, 14))
    assert asked.status is Status.supplement_requested
    assert asked.missing_components == ("giay-to-ly-hon",)
    assert asked.history[-1].note == "giay-to-ly-hon"
    divorce = DocumentIn("/scans/ly-hon.pdf", "giay-to-ly-hon", sha("ly-hon"))
    resumed = register.supplement_received(procedure, code, [divorce], at=at(2026, 5, 4, 9))
    assert resumed.status is Status.processing
    assert resumed.due_date == dt.date(2026, 5, 7)  # Tue 5, Wed 6, Thu 7


def test_list_filters(register: DossierRegister, catalogue: Catalogue) -> None:
    marital = catalogue.get("xac-nhan-tinh-trang-hon-nhan")
    copy = catalogue.get("chung-thuc-ban-sao")
    a = register.intake(marital, marital_docs(), received_at=at(2026, 4, 24)).dossier
    b = register.intake(
        copy, [DocumentIn("b.pdf", "ban-chinh", sha("b"))], received_at=at(2026, 4, 28, 0, 30)
    ).dossier
    register.start_processing(a.code)
    assert [d.code for d in register.list()] == [a.code, b.code]
    assert [d.code for d in register.list(statuses=[Status.processing])] == [a.code]
    assert [d.code for d in register.list(procedure_key="chung-thuc-ban-sao")] == [b.code]
    # 00:30 on 28/4 in Vietnam is 27/4 in UTC: days are Vietnam days
    assert [d.code for d in register.list(received_from=dt.date(2026, 4, 28))] == [b.code]
    assert [d.code for d in register.list(received_to=dt.date(2026, 4, 27))] == [a.code]


def test_unknown_code_and_bad_documents(register: DossierRegister) -> None:
    with pytest.raises(BadArgumentError, match=r"no dossier H40\.29\.10-260424-0009"):
        register.get("H40.29.10-260424-0009")
    with pytest.raises(BadArgumentError, match="not a SHA-256"):
        DocumentIn("x.pdf", "cccd", "abc")


def test_unreachable_database_is_a_service_error(catalogue: Catalogue) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    register = DossierRegister(
        f"postgresql+psycopg://motcua@127.0.0.1:{port}/none?connect_timeout=3",
        unit_code="H40.29.10",
    )
    with pytest.raises(ServiceUnavailableError, match=f"127.0.0.1:{port}"):
        register.create_tables()


def test_missing_tables_are_a_service_error(db_url: str) -> None:
    register = DossierRegister(db_url, unit_code="H40.29.10")  # create_tables() not called
    with pytest.raises(ServiceUnavailableError, match="dossier_dossiers") as caught:
        register.get("H40.29.10-260424-0001")
    assert caught.value.hint
    register.engine.dispose()
