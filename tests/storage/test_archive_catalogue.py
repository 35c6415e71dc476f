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


def test_every_word_must_match(catalogue: Catalogue) -> None:
    catalogue.upsert(
        [
            _entry("r-van", "Công văn số 12 về việc cấp giấy khai sinh"),
            _entry("r-huy", "Người yêu cầu: Ngô Văn Huy, thôn Phú Sơn"),
            _entry("r-two", "Ngô Thị Lan nộp văn bản"),
        ]
    )
    assert [h.record_id for h in catalogue.search(SearchQuery("ngo van huy"))] == ["r-huy"]
    assert {h.record_id for h in catalogue.search(SearchQuery("văn"))} == {
        "r-van",
        "r-huy",
        "r-two",
    }
    assert catalogue.search(SearchQuery("ngo van huy khai")) == []


def test_quoted_phrase_needs_its_words_side_by_side(catalogue: Catalogue) -> None:
    catalogue.upsert(
        [
            _entry("r-name", "Họ và tên: Ngô Văn Huy"),
            _entry("r-apart", "Huy, con ông Ngô, nộp văn bản"),
            _entry("r-order", "Văn Huy Ngô"),
        ]
    )
    assert {h.record_id for h in catalogue.search(SearchQuery("ngô văn huy"))} == {
        "r-name",
        "r-apart",
        "r-order",
    }
    hits = catalogue.search(SearchQuery('"ngo van huy"'))
    assert [h.record_id for h in hits] == ["r-name"]
    assert hits[0].phrase and not hits[0].exact
    # a phrase and a word: the phrase side by side, the word anywhere
    assert {h.record_id for h in catalogue.search(SearchQuery('"văn huy" ngô'))} == {
        "r-order",
        "r-name",
    }
    assert catalogue.search(SearchQuery('"huy ngo" nộp')) == []
    # an unclosed quote runs to the end of the query
    assert [h.record_id for h in catalogue.search(SearchQuery('"Ngô Văn Huy'))] == ["r-name"]


def test_diacritic_hits_rank_before_folded_and_side_by_side_first(catalogue: Catalogue) -> None:
    catalogue.upsert(
        [
            _entry("r-folded-apart", "Huy, con ông Ngô, vẫn nộp đơn"),
            _entry("r-folded-name", "Người yêu cầu: Ngô Vân Huy"),
            _entry("r-exact-apart", "Huy nộp đơn; văn bản do ông Ngô ký"),
            _entry("r-exact-name", "Họ và tên: Ngô Văn Huy"),
            _entry("r-plain", "NGO VAN HUY"),
        ]
    )
    hits = catalogue.search(SearchQuery("Ngô Văn Huy"))
    order = [h.record_id for h in hits]
    assert order[:2] == ["r-exact-name", "r-exact-apart"]
    assert set(order[2:4]) == {"r-folded-name", "r-plain"}  # one tier, ranked by relevance
    assert order[4] == "r-folded-apart"
    assert [(h.exact, h.phrase) for h in hits] == [
        (True, True),
        (True, False),
        (False, True),
        (False, True),
        (False, False),
    ]
    assert [h.rank for h in hits] == [1, 2, 3, 4, 5]
    # typed without diacritics, the record spelled without them is the exact one
    assert catalogue.search(SearchQuery("ngo van huy"))[0].record_id == "r-plain"
    # the page size cuts the lower tiers
    assert [h.record_id for h in catalogue.search(SearchQuery("Ngô Văn Huy", limit=2))] == [
        "r-exact-name",
        "r-exact-apart",
    ]


def test_snippet_marks_the_matched_words_and_escapes_the_rest(catalogue: Catalogue) -> None:
    before = " ".join(f"trước{i}" for i in range(30))
    after = " ".join(f"sau{i}" for i in range(30))
    catalogue.upsert(
        [_entry("r-html", f"{before} lệ phí < 5 & tên 'Ngô Văn Huy', sinh 2019. {after}")]
    )
    hit = catalogue.search(SearchQuery('"ngo van huy" phi'))[0]
    assert (
        "lệ <mark>phí</mark> &lt; 5 &amp; tên &#x27;<mark>Ngô Văn Huy</mark>&#x27;, sinh"
        in hit.snippet_html
    )
    assert "lệ [phí] < 5 & tên '[Ngô Văn Huy]', sinh" in hit.snippet
    assert hit.snippet.startswith("… ") and hit.snippet.endswith(" …")  # a window, not all
    assert "trước0 " not in hit.snippet and "sau29" not in hit.snippet
