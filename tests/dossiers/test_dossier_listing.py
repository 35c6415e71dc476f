"""The dossier list in SQL (cursor paging, total, sorts, `updated_since`, `q`) and the citizen's
contact at intake, on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest

from dossiers.calendar import VN_TZ
from dossiers.contact import Contact
from dossiers.procedures import Catalogue
from dossiers.register import DocumentIn, DossierRegister, ListQuery, Status
from motcua.errors import BadArgumentError

NAMES = ["Nguyễn Thị Hằng", "Trần Văn Đức", "Lê Thị Hoa", None, "Phạm Đình Hùng"]


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def take_in(register: DossierRegister, catalogue: Catalogue, n: int) -> list[str]:
    """`n` dossiers a day apart from 1/4/2026; every third misses its ID card (no due date)."""
    procedure = catalogue.get("xac-nhan-tinh-trang-hon-nhan")
    codes = []
    for i in range(n):
        docs = [DocumentIn(f"/s/{i}tk.pdf", "to-khai-xac-nhan-hon-nhan", sha(f"{i}tk"))]
        if i % 3:
            docs.append(DocumentIn(f"/s/{i}cccd.jpg", "cccd", sha(f"{i}cccd")))
        when = dt.datetime(2026, 4, 1, 9, tzinfo=VN_TZ) + dt.timedelta(days=i)
        result = register.intake(procedure, docs, received_at=when,
                                 citizen_name=NAMES[i % len(NAMES)])  # fmt: skip
        codes.append(result.dossier.code)
    return codes


def all_pages(register: DossierRegister, query: ListQuery, limit: int) -> tuple[list[str], int]:
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = register.page(query, limit=limit, cursor=cursor)
        seen += [d.code for d in page.items]
        pages += 1
        assert page.total == len(register.list()) if not query.statuses else True
        if page.next_cursor is None:
            return seen, pages
        cursor = page.next_cursor


def test_cursor_pages_cover_every_dossier_once_newest_first(
    register: DossierRegister, catalogue: Catalogue
) -> None:
    codes = take_in(register, catalogue, 11)
    first = register.page(ListQuery(), limit=4)
    assert first.total == 11
    assert [d.code for d in first.items] == codes[::-1][:4]
    seen, pages = all_pages(register, ListQuery(), 4)
    assert seen == codes[::-1]
    assert pages == 3
    # a dossier taken in between pages does not shift the next page
    second = register.page(ListQuery(), limit=4, cursor=first.next_cursor)
    take_in_more = catalogue.get("xac-nhan-tinh-trang-hon-nhan")
    register.intake(take_in_more, [DocumentIn("/s/new.pdf", "cccd", sha("new"))],
                    received_at=dt.datetime(2026, 6, 1, 9, tzinfo=VN_TZ))  # fmt: skip
    again = register.page(ListQuery(), limit=4, cursor=first.next_cursor)
    assert [d.code for d in again.items] == [d.code for d in second.items]
    assert again.total == 12


def test_due_sort_puts_dossiers_without_due_date_last(
    register: DossierRegister, catalogue: Catalogue
) -> None:
    take_in(register, catalogue, 9)
    seen, _ = all_pages(register, ListQuery(sort="due"), 2)
    dossiers = [register.get(c) for c in seen]
    dues = [d.due_date for d in dossiers]
    dated = [d for d in dues if d is not None]
    assert dated == sorted(dated)
    assert dues[len(dated) :] == [None] * 3  # i = 0, 3, 6 miss a component
    assert len(seen) == len(set(seen)) == 9


def test_filters_run_in_sql_with_total(register: DossierRegister, catalogue: Catalogue) -> None:
    codes = take_in(register, catalogue, 10)
    waiting = register.page(ListQuery(statuses=(Status.supplement_requested,)), limit=2)
    assert waiting.total == 4
    assert len(waiting.items) == 2 and waiting.next_cursor is not None
    # q without diacritics and in another case finds "Trần Văn Đức" (i = 1, 6)
    found = register.page(ListQuery(q="TRAN VAN DUC"), limit=50)
    assert [d.code for d in found.items] == [codes[6], codes[1]]
    assert found.total == 2
    assert register.page(ListQuery(q=codes[3][-9:]), limit=50).items[0].code == codes[3]
    assert register.page(ListQuery(q="%"), limit=50).total == 0  # a wildcard is a character
    days = ListQuery(received_from=dt.date(2026, 4, 3), received_to=dt.date(2026, 4, 5))
    assert [d.code for d in register.page(days, limit=50).items] == codes[4:1:-1]


def test_updated_since_sees_each_change(register: DossierRegister, catalogue: Catalogue) -> None:
    codes = take_in(register, catalogue, 4)
    stamps = {c: register.get(c).updated_at for c in codes}
    assert all(stamps.values())
    mark = max(v for v in stamps.values() if v is not None) + dt.timedelta(microseconds=1)
    assert register.page(ListQuery(updated_since=mark), limit=50).total == 0
    register.start_processing(codes[1])
    changed = register.page(ListQuery(updated_since=mark, sort="updated"), limit=50)
    assert [d.code for d in changed.items] == [codes[1]]
    register.correct_fields(codes[2], 1, {"purpose": "Kết hôn"}, by="user:a",
                            allowed_new=["purpose"], citizen_name="Võ Thị Sáu")  # fmt: skip
    changed = register.page(ListQuery(updated_since=mark, sort="updated"), limit=50)
    assert [d.code for d in changed.items] == [codes[1], codes[2]]
    assert register.page(ListQuery(q="vo thi sau"), limit=5).items[0].code == codes[2]


def test_a_foreign_or_damaged_cursor_is_refused(
    register: DossierRegister, catalogue: Catalogue
) -> None:
    take_in(register, catalogue, 3)
    cursor = register.page(ListQuery(), limit=1).next_cursor
    assert cursor is not None
    with pytest.raises(BadArgumentError, match="cursor"):
        register.page(ListQuery(sort="due"), limit=1, cursor=cursor)
    for bad in ["x", "!!!", cursor[:-3], "W10"]:
        with pytest.raises(BadArgumentError, match="cursor"):
            register.page(ListQuery(), limit=1, cursor=bad)
    with pytest.raises(BadArgumentError, match="sort"):
        ListQuery(sort="name")


def test_contact_and_consent_are_stored_at_intake(
    register: DossierRegister, catalogue: Catalogue
) -> None:
    procedure = catalogue.get("xac-nhan-tinh-trang-hon-nhan")
    contact = Contact.of("+84 912.345.678", "Hang.Nguyen@Example.VN", True)
    result = register.intake(procedure, [DocumentIn("/s/a.pdf", "cccd", sha("a"))],
                             contact=contact)  # fmt: skip
    stored = register.get(result.dossier.code).contact
    assert stored == Contact("0912345678", "Hang.Nguyen@example.vn", True)
    assert stored.reachable
    assert stored.masked() == {"phone": "•••••••678", "email": "H•••@example.vn",
                               "consent": True}  # fmt: skip
    plain = register.intake(procedure, [DocumentIn("/s/b.pdf", "cccd", sha("b"))])
    assert plain.dossier.contact == Contact() and not plain.dossier.contact.reachable
    assert not Contact.of("0912345678", None, False).reachable  # no consent, no notices


@pytest.mark.parametrize(
    ("phone", "email"),
    [("12345", None), ("0912 345 67a", None), (None, "hang@"), (None, "a b@c.vn")],
)
def test_a_bad_contact_is_refused_in_vietnamese(phone: str | None, email: str | None) -> None:
    with pytest.raises(BadArgumentError, match="không hợp lệ"):
        Contact.of(phone, email, True)


def test_the_search_uses_trigram_indexes_on_postgresql(
    register: DossierRegister, catalogue: Catalogue
) -> None:
    """`q` is LIKE '%…%': on PostgreSQL the list's own predicate is answered by pg_trgm's GIN
    indexes (planned with sequential scans off, as on a large table), not by reading every row."""
    from sqlalchemy import func, select

    from dossiers.listing import conditions
    from dossiers.models import DossierRow

    if register.engine.dialect.name != "postgresql":
        assert not register_has_trigram_indexes(register)
        return
    codes = take_in(register, catalogue, 5)
    stmt = select(func.count()).select_from(DossierRow).where(*conditions(ListQuery(q="van duc")))
    with register.engine.connect() as conn:
        conn.exec_driver_sql("SET enable_seqscan = off")
        compiled = stmt.compile(conn, compile_kwargs={"literal_binds": True})
        plan = "\n".join(r[0] for r in conn.exec_driver_sql(f"EXPLAIN {compiled}"))
        assert conn.execute(stmt).scalar_one() == 1
    assert "ix_dossier_dossiers_name_trgm" in plan and "ix_dossier_dossiers_code_trgm" in plan, plan
    assert register.page(ListQuery(q=codes[2][-6:]), limit=5).items[0].code == codes[2]


def register_has_trigram_indexes(register: DossierRegister) -> bool:
    from sqlalchemy import inspect

    names = {i["name"] for i in inspect(register.engine).get_indexes("dossier_dossiers")}
    return "ix_dossier_dossiers_name_trgm" in names
