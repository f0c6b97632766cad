"""Search behaviour contract, run against every backend.

The corpus is written for these tests. Here it runs on both embedded backends:
tantivy (the default, ``indexing.tantivy_index``) and the older SQLite FTS5 one
(``indexing.embedded``, kept for the benchmark's comparison);
``test_indexing_elastic.py`` collects the same tests again for Elasticsearch.
``tantivy-pool`` runs the same tests through ``indexing.pool.SearchPool``
(searches in two worker processes), as the web app searches.
The ``test_embedded_*`` tests at the end are FTS5 specifics; tantivy's are in
``test_indexing_tantivy.py``.
"""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path
from typing import Iterator

import pytest

from indexing.base import IndexDocument, IndexPage, SearchBackend, SearchQuery, SearchResult
from kholuu.errors import QuerySyntaxError

BACKENDS = ["tantivy", "tantivy-pool", "fts5"]
PUBLIC = ("public",)
ALL = ("public", "conditional", "secret")


def make_backend(name: str, tmp_path: Path) -> SearchBackend:
    if name == "tantivy":
        from indexing.tantivy_index import TantivyBackend

        return TantivyBackend(tmp_path / "index" / "tantivy")
    if name == "tantivy-pool":
        from functools import partial

        from indexing.pool import SearchPool
        from indexing.tantivy_index import TantivyBackend

        root = tmp_path / "index" / "tantivy"
        return SearchPool(TantivyBackend(root), partial(TantivyBackend, root), 2)
    if name == "fts5":
        from indexing.embedded import EmbeddedBackend

        return EmbeddedBackend(tmp_path / "index" / "search.sqlite")
    raise AssertionError(name)


def doc(id: int, pages: list[str], *, fonds: str = "12", doc_type: str | None = "Chỉ thị",
        number: str | None = None, issuer: str | None = "Tỉnh ủy Thái Bình", year: int | None = 2021,
        subject: str | None = None, access: str = "public", register: str | None = "01",
        file_number: str | None = None, entities: list[tuple[str, str]] | None = None) -> IndexDocument:
    return IndexDocument(
        id=id, fonds=fonds, fonds_name=f"Phông {fonds}", register=register, file_number=file_number or str(300 + id),
        doc_type=doc_type, number_symbol=number, issuer=issuer, place="Thái Bình",
        issued_date=date(year, 3, id % 28 + 1) if year else None, subject=subject, signer_name=None,
        access_mode=access, pages=[IndexPage(page_id=id * 100 + i, page_no=i, text=t) for i, t in enumerate(pages, 1)],
        entities=entities or [])


CORPUS = [
    doc(1, ["TỈNH ỦY THÁI BÌNH\nSố 08-CT/TU\nCHỈ THỊ về công tác năm 2021",
            "Đẩy mạnh xây dựng nông thôn mới trên địa bàn tỉnh, nâng cao đời sống nông dân."],
        number="08-CT/TU", subject="Về xây dựng nông thôn mới", file_number="345",
        entities=[("PER", "Nguyễn Văn An"), ("LOC", "Thái Bình")]),
    doc(2, ["Mới đây, nông dân ở thôn Đông đã hoàn thành kế hoạch vụ chiêm."], doc_type="Nghị quyết",
        number="15-NQ/TU", year=2015, entities=[("LOC", "Đông Hưng")]),
    doc(3, ["Phòng chống ma túy: ma túy, ma túy và ma túy trong thanh niên; ma túy là hiểm họa."],
        fonds="07", doc_type="Báo cáo", issuer="Huyện ủy Đông Hưng", year=2010),
    doc(4, ["Quy định mã số hồ sơ lưu trữ của cơ quan."], fonds="07", doc_type="Thông báo", year=2018),
    doc(5, ["Phong trào Bà má miền Nam được nhân dân hưởng ứng."], doc_type="Báo cáo", year=1975,
        entities=[("PER", "Nguyễn Văn An")]),
    doc(6, ["Ban Thường vụ Tỉnh uỷ quyết định thành lập đoàn kiểm tra."], doc_type="Quyết định", year=1998,
        issuer="Ban Thường vụ Tỉnh ủy"),
    doc(7, ["BTV Tỉnh ủy họp bàn về nông thôn mới và an ninh."], access="secret", fonds="99", year=2022,
        entities=[("PER", "Trần Văn Mật")]),
    doc(8, ["Kết quả xây dựng nông thôn mới giai đoạn 2016-2020."], access="conditional", fonds="99",
        doc_type="Báo cáo", year=2020),
    doc(9, ["Văn bản có ký tự lạ <script>alert(1)</script> & nông thôn"], doc_type=None, year=None, issuer=None),
]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SearchBackend]:
    b = make_backend(request.param, tmp_path)
    b.index(CORPUS)
    try:
        yield b
    finally:
        b.close()


def run(b: SearchBackend, text: str, **kw) -> SearchResult:
    kw.setdefault("access_modes", PUBLIC)
    kw.setdefault("limit", 50)
    return b.search(SearchQuery(text=text, **kw))


def ids(result: SearchResult) -> list[int]:
    return [h.id for h in result.hits]


def facet(result: SearchResult, key: str) -> dict[str, int]:
    return {v.value: v.count for v in result.facets.get(key, [])}


def test_with_and_without_diacritics_find_the_same_documents(backend):
    a, b = run(backend, "nông thôn mới"), run(backend, "nong thon moi")
    assert set(ids(a)) == set(ids(b)) == {1, 2}
    assert a.total == b.total == 2


def test_adjacent_words_rank_first(backend):
    assert ids(run(backend, "nông thôn mới"))[0] == 1
    assert ids(run(backend, "nong thon moi"))[0] == 1
    assert ids(run(backend, '"nông thôn mới"')) == [1]


def test_diacritic_query_ranks_exact_matches_first(backend):
    r = run(backend, "mã")
    assert ids(r)[0] == 4                    # one "mã" beats five "ma"
    assert set(ids(r)) == {3, 4, 5}          # accent-free and other forms still found, after
    assert ids(run(backend, "má"))[0] == 5
    assert set(ids(run(backend, "ma"))) == {3, 4, 5}


def test_old_and_new_tone_placement_match(backend):
    assert set(ids(run(backend, "Tỉnh uỷ quyết định"))) == set(ids(run(backend, "Tỉnh ủy quyết định"))) == {6}


def test_abbreviation_finds_full_form_and_back(backend):
    assert set(ids(run(backend, "BTV", access_modes=ALL))) == {6, 7}
    assert set(ids(run(backend, "Ban Thường vụ", access_modes=ALL))) == {6, 7}


def test_exclusion_and_or(backend):
    assert ids(run(backend, "nông thôn -mới")) == [9]
    assert set(ids(run(backend, '"ma túy" OR "mã số"'))) == {3, 4}


def test_filters(backend):
    assert set(ids(run(backend, "nông", fonds="12"))) == {1, 2, 9}
    assert ids(run(backend, "nông", doc_type="CT")) == [1]
    assert ids(run(backend, "nông", doc_type="Chỉ thị")) == [1]
    assert ids(run(backend, "nông", doc_type="chi thi")) == [1]
    assert ids(run(backend, "nông", year_from=2014, year_to=2016)) == [2]
    assert ids(run(backend, "nông", entity=("PER", "Nguyễn Văn An"))) == [1]
    assert ids(run(backend, "nông", register="01", file_number="345")) == [1]
    assert set(ids(run(backend, "", issuer="Huyện ủy Đông Hưng"))) == {3}
    assert run(backend, "nông", fonds="nope").total == 0


def test_facets_count_documents(backend):
    r = run(backend, "nông")
    assert r.total == 3
    assert facet(r, "fonds") == {"12": 3}
    assert facet(r, "doc_type") == {"Chỉ thị": 1, "Nghị quyết": 1}
    assert facet(r, "year") == {"2021": 1, "2015": 1}
    assert facet(r, "person") == {"Nguyễn Văn An": 1}
    assert facet(r, "place") == {"Thái Bình": 1, "Đông Hưng": 1}
    assert facet(r, "issuer") == {"Tỉnh ủy Thái Bình": 2}
    labels = {v.value: v.label for v in r.facets["fonds"]}
    assert labels == {"12": "Phông 12"}


def test_access_modes_hide_documents_from_hits_totals_and_facets(backend):
    r = run(backend, "nông thôn mới")
    assert 7 not in ids(r) and 8 not in ids(r) and r.total == 2
    assert "99" not in facet(r, "fonds") and "Trần Văn Mật" not in facet(r, "person")
    r = run(backend, "nông thôn mới", access_modes=("public", "conditional"))
    assert set(ids(r)) == {1, 2, 8} and facet(r, "fonds")["99"] == 1
    r = run(backend, "nông thôn mới", access_modes=ALL)
    assert set(ids(r)) == {1, 2, 7, 8} and facet(r, "person")["Trần Văn Mật"] == 1
    assert run(backend, "nông", access_modes=()).total == 0
    assert run(backend, "", access_modes=PUBLIC).total == 7


def test_reindexing_replaces_documents(backend):
    before = backend.count()
    backend.index(CORPUS)
    assert backend.count() == before == len(CORPUS)
    assert run(backend, "nông thôn mới").total == 2
    changed = doc(2, ["Hợp tác xã chăn nuôi lợn."], doc_type="Nghị quyết", year=2015)
    backend.index([changed])
    assert backend.count() == len(CORPUS)
    assert set(ids(run(backend, "nông thôn mới"))) == {1}
    assert ids(run(backend, "chăn nuôi")) == [2]
    backend.delete([2, 4])
    assert backend.count() == len(CORPUS) - 2 and run(backend, "chăn nuôi").total == 0
    backend.clear()
    assert backend.count() == 0 and run(backend, "nông").total == 0


def test_present_asks_the_index_which_documents_it_holds(backend):
    assert backend.present([1, 2, 9, 404]) == {1, 2, 9}
    assert backend.present([]) == set()
    backend.delete([2])
    assert backend.present(range(1, 10)) == set(range(1, 10)) - {2}


def test_snippet_marks_original_words_for_a_folded_query(backend):
    hit = run(backend, "nong thon moi").hits[0]
    assert hit.id == 1 and hit.best_page == 2
    assert "<mark>nông thôn mới</mark>" in hit.snippet
    assert [p.page_no for p in hit.pages] == [2]
    assert {"nông", "thôn", "mới"} <= set(hit.pages[0].terms)
    assert hit.citation == "Phông 12, Mục lục 01, Hồ sơ 345, tờ 2"


def test_snippet_is_escaped(backend):
    hit = run(backend, "nông thôn", doc_type=None, fonds="12", year_to=None).hits
    odd = next(h for h in hit if h.id == 9)
    assert "<script>" not in odd.snippet and "&lt;script&gt;" in odd.snippet
    assert odd.snippet.replace("<mark>", "").replace("</mark>", "").count("<") == 0


def test_sorting_and_paging(backend):
    asc = ids(run(backend, "", sort="date_asc"))
    desc = ids(run(backend, "", sort="date_desc"))
    assert asc[:3] == [5, 6, 3] and desc[:2] == [1, 4]
    assert asc[-1] == 9 and desc[-1] == 9      # no date: last either way
    page2 = ids(run(backend, "", sort="date_asc", offset=2, limit=2))
    assert page2 == asc[2:4]


def assert_paging_is_stable(b: SearchBackend) -> None:
    """Pages (offset/limit) concatenate to the full ordered list, in every order."""
    for sort in ("relevance", "date_asc", "date_desc"):
        full = run(b, "nông", sort=sort, access_modes=ALL)
        paged = [i for off in range(0, full.total, 2)
                 for i in ids(run(b, "nông", sort=sort, access_modes=ALL, offset=off, limit=2))]
        assert full.total >= 4 and paged == ids(full), sort
    dated = ids(run(b, "nông", sort="date_desc", access_modes=ALL))
    assert dated[-1] == 9       # undated last
    assert dated[:2] == [7, 1]   # 2022, then 2021


def test_paging_through_results_is_stable(backend):
    assert_paging_is_stable(backend)


def test_date_sort_breaks_ties_by_relevance(backend):
    """Same day: the exact-accent match ("mã") before the accent-free one ("ma"),
    whichever way the dates run (the id alone would put 40 first)."""
    backend.index([doc(40, ["Ma ma ma trong hồ sơ cũ."], fonds="T2", year=2000),
                   doc(68, ["Mã hồ sơ lưu trữ."], fonds="T2", year=2000),     # 68 % 28 == 40 % 28: same day
                   doc(41, ["Mã số cơ quan."], fonds="T2", year=1999)])
    assert ids(run(backend, "mã", fonds="T2", sort="date_desc")) == [68, 40, 41]
    assert ids(run(backend, "mã", fonds="T2", sort="date_asc")) == [41, 68, 40]
    assert [ids(run(backend, "mã", fonds="T2", sort="date_asc", offset=i, limit=1)) for i in range(3)] == [
        [41], [68], [40]]


def _facet_corpus() -> list[list[IndexDocument]]:
    """Three batches (three index segments in tantivy), each with 2,600 persons and
    issuers of their own — more distinct values in one segment than the 2,000 a
    segment used to return — plus 25 shared ones counted 2 to 26 times, most in
    the first batch and once in each of the others, where they tie with the
    one-off names at the bottom of the segment's list."""
    shared_per = [f"Vũ Văn {k:02d}" for k in range(25)]
    shared_iss = [f"Ban Tuyên giáo {k:02d}" for k in range(25)]
    types = ["Báo cáo", "Chỉ thị", "Nghị quyết", "Tờ trình", "Công văn"]
    batches = []
    for b in range(3):
        slots = [k for k in range(25) for _ in range(k)] if b == 0 else list(range(25))
        batch = []
        for i in range(2600):
            n = 10_000 + b * 10_000 + i
            k = slots[i] if i < len(slots) else None
            batch.append(doc(n, [f"Văn bản lưu trữ số {n}."], fonds=f"F{n % 3}", doc_type=types[n % 5],
                             issuer=shared_iss[k] if k is not None else f"Chi bộ {n}", year=1960 + n % 37,
                             entities=[("PER", f"Người {n}")] + ([("PER", shared_per[k])] if k is not None else [])))
        batches.append(batch)
    return batches


def test_facet_counts_are_exact_with_many_distinct_values(backend):
    from collections import Counter

    batches = _facet_corpus()
    for batch in batches:
        backend.index(batch)
    docs = [d for batch in batches for d in batch]
    r = run(backend, "văn bản lưu trữ", year_from=1960, year_to=1996, limit=1)
    assert r.total == len(docs)

    def top(counts: Counter) -> dict[str, int]:
        return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:20])

    person = Counter(v for d in docs for label, v in d.entities if label == "PER")
    assert facet(r, "person") == top(person)            # "Vũ Văn 24": 26 ... "Vũ Văn 05": 7
    assert facet(r, "issuer") == top(Counter(d.issuer for d in docs))
    assert facet(r, "doc_type") == top(Counter(d.doc_type for d in docs))
    assert facet(r, "fonds") == top(Counter(d.fonds for d in docs))
    assert facet(r, "year") == {str(y): c for y, c in Counter(d.year for d in docs).items()}


def test_malformed_query_gets_a_clear_message(backend):
    with pytest.raises(QuerySyntaxError, match="loại trừ"):
        run(backend, "-nông")
    with pytest.raises(QuerySyntaxError, match="500"):
        run(backend, "nông " * 200)
    assert run(backend, 'NEAR(nông "thôn').total == 0   # literal text, no FTS syntax error


def test_concurrent_searches_from_threads(backend):
    errors: list[BaseException] = []
    totals: list[int] = []

    def worker() -> None:
        try:
            for _ in range(20):
                totals.append(run(backend, "nông thôn mới").total)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and set(totals) == {2}


def test_embedded_index_in_an_older_format_starts_empty(tmp_path: Path):
    import sqlite3

    from indexing.embedded import EmbeddedBackend

    path = tmp_path / "old.sqlite"
    b = EmbeddedBackend(path)
    b.index(CORPUS[:2])
    b.close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE meta SET value = '0' WHERE key = 'format'")
    b = EmbeddedBackend(path)
    try:
        assert b.count() == 0
        b.index(CORPUS[:3])
        assert b.count() == 3 and run(b, "nông thôn mới").total == 2
    finally:
        b.close()


def test_embedded_write_while_another_process_writes_is_a_search_error(tmp_path: Path):
    import sqlite3

    from indexing.embedded import EmbeddedBackend
    from kholuu.errors import SearchError

    path = tmp_path / "busy.sqlite"
    b = EmbeddedBackend(path, busy_timeout_s=0.2)
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")          # another writer holds the lock
        with pytest.raises(SearchError, match="busy.sqlite"):
            b.index(CORPUS[:1])
        other.execute("ROLLBACK")
        assert b.index(CORPUS[:1]) == 1 and b.count() == 1
    finally:
        other.close()
        b.close()


def test_embedded_index_file_that_is_not_a_database_is_a_search_error(tmp_path: Path):
    from indexing.embedded import EmbeddedBackend
    from kholuu.errors import SearchError

    path = tmp_path / "broken.sqlite"
    path.write_bytes(b"this is not SQLite" * 100)
    with pytest.raises(SearchError, match=r"broken\.sqlite.*index rebuild"):
        EmbeddedBackend(path)


def test_embedded_broad_queries_order_each_tier_by_date(tmp_path: Path):
    from indexing.embedded import EmbeddedBackend

    b = EmbeddedBackend(tmp_path / "broad.sqlite", rank_limit=1)
    try:
        b.index(CORPUS)
        r = run(b, "mã")                 # 3 matches > rank_limit: tiers, then newest first
        assert ids(r) == [4, 3, 5]       # exact "mã" (2018) first, then 2010, 1975
        assert r.hits[0].score == 2.0 and r.hits[1].score == 0.0
        assert ids(run(b, "nông thôn mới"))[0] == 1
    finally:
        b.close()


def test_embedded_rebuild_is_all_or_nothing(tmp_path: Path):
    from indexing.embedded import EmbeddedBackend

    b = EmbeddedBackend(tmp_path / "rebuild.sqlite")
    try:
        b.index(CORPUS)

        def failing():
            yield CORPUS[0]
            yield CORPUS[1]
            raise RuntimeError("catalog went away")

        with pytest.raises(RuntimeError):
            b.rebuild(failing())
        assert b.count() == len(CORPUS) and run(b, "nông thôn mới").total == 2   # the old index stays
        assert b.rebuild(CORPUS[:2]) == 2 and b.count() == 2
        assert set(ids(run(b, "nông thôn mới"))) == {1, 2}
    finally:
        b.close()


def test_embedded_search_sees_documents_another_connection_wrote(tmp_path: Path):
    """Filters and facets come from columns cached in memory: a write by another
    backend (another process, e.g. the pipeline) must show in hits, totals and facets."""
    from indexing.embedded import EmbeddedBackend

    reader = EmbeddedBackend(tmp_path / "shared.sqlite")
    writer = EmbeddedBackend(tmp_path / "shared.sqlite")
    try:
        writer.index(CORPUS[:2])
        before = run(reader, "nông thôn mới")
        assert set(ids(before)) == {1, 2} and before.total == 2
        writer.index([doc(20, ["Nông thôn mới ở Vũ Thư"], fonds="31", doc_type="Kế hoạch", year=2023,
                          entities=[("PER", "Lê Thị Mai")])])
        after = run(reader, "nông thôn mới", fonds="31")
        assert ids(after) == [20] and after.total == 1
        assert [(f.value, f.count) for f in after.facets["fonds"]] == [("31", 1)]
        assert [f.value for f in after.facets["person"]] == ["Lê Thị Mai"]
        writer.delete([20])
        assert run(reader, "nông thôn mới").total == 2
    finally:
        reader.close()
        writer.close()


def test_embedded_paging_through_broad_results_is_stable(tmp_path: Path):
    """The same with FTS5's partial sort forced on every query (``rank_limit=1``)."""
    from indexing.embedded import EmbeddedBackend

    b = EmbeddedBackend(tmp_path / "paging.sqlite", rank_limit=1)
    try:
        b.index(CORPUS)
        assert_paging_is_stable(b)
    finally:
        b.close()
