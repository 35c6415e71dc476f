"""The catalogue on SQLite and on a real PostgreSQL server: folded search, ranking, filters."""

from __future__ import annotations

import datetime as dt
import unicodedata

from storage.catalogue import Catalogue, CatalogueEntry, SearchQuery


def _entry(
    record_id: str,
    text: str,
    *,
    dossier: str = "H40.29.10-261122-0001",
    title: str = "Hồ sơ",
    procedure: str = "1.001193",
    retention: str = "10y",
    start: str = "2026-11-22",
    end: str | None = None,
    ids: tuple[str, ...] = (),
) -> CatalogueEntry:
    return CatalogueEntry(
        record_id=record_id,
        dossier_code=dossier,
        title=title,
        procedure=procedure,
        retention_class=retention,
        date_start=dt.date.fromisoformat(start),
        date_end=dt.date.fromisoformat(end or start),
        archived_at=dt.datetime(2026, 11, 22, 3, 0, tzinfo=dt.UTC),
        id_numbers=ids,
        metadata={"code": dossier, "title": title},
        text=text,
    )


def test_folded_query_finds_diacritics_and_exact_matches_rank_first(catalogue: Catalogue) -> None:
    catalogue.upsert(
        [
            _entry("r-plain", "Người yêu cầu: NGUYEN THI HANG, thôn 3"),
            _entry("r-exact", "Họ và tên người yêu cầu: Nguyễn Thị Hằng, xã Hòa Tiến"),
            _entry("r-other", "Họ và tên: Trần Văn Bình"),
        ]
    )
    folded = catalogue.search(SearchQuery("nguyen thi hang"))
    assert {h.record_id for h in folded} == {"r-plain", "r-exact"}

    exact = catalogue.search(SearchQuery("Nguyễn Thị Hằng"))
    assert [h.record_id for h in exact] == ["r-exact", "r-plain"]
    assert exact[0].exact and not exact[1].exact
    assert exact[0].rank == 1
    assert "[Hằng]" in exact[0].snippet  # the snippet shows the record's own spelling
    assert catalogue.search(SearchQuery("Bình"))[0].record_id == "r-other"
    assert catalogue.search(SearchQuery("Hằng Bình")) == []  # all words must match


def test_d_with_stroke_folds_to_d(catalogue: Catalogue) -> None:
    catalogue.upsert([_entry("r-dn", "Sở Giáo dục và Đào tạo thành phố Đà Nẵng")])
    assert [h.record_id for h in catalogue.search(SearchQuery("da nang"))] == ["r-dn"]
    assert [h.record_id for h in catalogue.search(SearchQuery("ĐÀO TẠO"))] == ["r-dn"]
    assert catalogue.search(SearchQuery("da nang"))[0].exact is False
    assert catalogue.search(SearchQuery("đà nẵng"))[0].exact is True


def test_nfd_text_is_found_by_nfc_query(catalogue: Catalogue) -> None:
    nfd = unicodedata.normalize("NFD", "Giấy khai sinh của Lê Thị Thảo")
    assert nfd != unicodedata.normalize("NFC", nfd)
    catalogue.upsert([_entry("r-nfd", nfd)])
    hits = catalogue.search(SearchQuery("Thảo"))
    assert [h.record_id for h in hits] == ["r-nfd"]
    assert hits[0].exact
    assert "Thảo" in hits[0].snippet  # stored and shown in NFC


def test_filters_narrow_the_hits(catalogue: Catalogue) -> None:
    catalogue.upsert(
        [
            _entry(
                "r-1",
                "khai sinh Phạm Minh Anh",
                dossier="H40.29.10-260105-0001",
                start="2026-01-05",
                ids=("048201001234",),
            ),
            _entry(
                "r-2",
                "khai sinh Võ Thị Lan",
                dossier="H40.29.10-260610-0002",
                start="2026-06-10",
                ids=("048301005678",),
                retention="70y",
                procedure="2.000986",
            ),
            _entry(
                "r-3",
                "chứng thực bản sao",
                dossier="H40.29.10-261001-0003",
                start="2026-10-01",
                end="2026-10-20",
            ),
        ]
    )

    def ids(**kwargs: object) -> set[str]:
        return {h.record_id for h in catalogue.search(SearchQuery(**kwargs))}  # type: ignore[arg-type]

    assert ids(text="khai sinh") == {"r-1", "r-2"}
    assert ids(text="khai sinh", dossier_code="H40.29.10-260610-0002") == {"r-2"}
    assert ids(text="", id_number="048201001234") == {"r-1"}
    assert ids(text="khai sinh", id_number="048301005678") == {"r-2"}
    assert ids(text="", retention_class="70y") == {"r-2"}
    assert ids(text="", procedure="2.000986") == {"r-2"}
    assert ids(text="", date_from=dt.date(2026, 6, 1), date_to=dt.date(2026, 10, 5)) == {
        "r-2",
        "r-3",
    }
    assert ids(text="", date_from=dt.date(2026, 10, 15)) == {"r-3"}  # overlaps its date range
    assert ids(text="", date_to=dt.date(2026, 1, 31)) == {"r-1"}
    # the dossier code and the ID number are searchable words as well
    assert ids(text="H40.29.10-260105-0001") == {"r-1"}
    assert ids(text="048301005678") == {"r-2"}


def test_upsert_replaces_and_clear_forgets(catalogue: Catalogue) -> None:
    catalogue.upsert([_entry("r-x", "phiếu tiếp nhận cũ", ids=("001190000001",))])
    catalogue.upsert([_entry("r-x", "phiếu tiếp nhận mới", ids=("001190000002",))])
    assert catalogue.count() == 1
    assert [h.record_id for h in catalogue.search(SearchQuery("mới"))] == ["r-x"]
    assert catalogue.search(SearchQuery("cũ")) == []
    assert catalogue.search(SearchQuery("", id_number="001190000001")) == []
    assert len(catalogue.search(SearchQuery("", id_number="001190000002"))) == 1
    catalogue.clear()
    assert catalogue.count() == 0
    assert catalogue.search(SearchQuery("phiếu")) == []
