"""Both backends, one behaviour: the same random corpus and queries give the same
documents, totals, facets, best pages and snippets on Elasticsearch as on the
embedded index. (Scores differ — two BM25s — so only order-free facts and the
ranking tiers are compared.)"""

from __future__ import annotations

import random
from datetime import date

import pytest

from indexing.base import IndexDocument, IndexPage, SearchQuery
from indexing.embedded import EmbeddedBackend
from indexing.tantivy_index import TantivyBackend
from test_indexing_elastic import es_backend, es_settings  # noqa: F401 - fixtures

WORDS = ("nông thôn mới xây dựng Đảng bộ tỉnh Thái Bình công tác cán bộ thủy lợi hợp tác xã sản xuất "
         "lúa gạo chi bộ đảng viên Ban Thường vụ Tỉnh ủy BTV kế hoạch năm mã số ma túy má mà ma "
         "hòa bình hoà giải khoẻ mạnh thuỷ sản 08-CT/TU 15/3/2021 1.000 an ninh quốc phòng").split()
TYPES = ["Chỉ thị", "Nghị quyết", "Báo cáo", None]
PEOPLE = ["Nguyễn Văn An", "Trần Thị Lan", "Lê Minh Hùng"]
QUERIES = ["nông thôn mới", "nong thon moi", '"nông thôn mới"', "mã", "ma", "má", "Đảng", "dang",
           "BTV", "Ban Thường vụ", "hoà", "hòa giải", "thủy -lợi", '"ma túy" OR "mã số"', "08-CT/TU",
           "1.000", "kế hoạch OR sản xuất", "khỏe", "an ninh -quốc"]
FILTERS = [{}, {"fonds": "07"}, {"doc_type": "CT"}, {"year_from": 1990, "year_to": 2005},
           {"entity": ("PER", "Trần Thị Lan")}, {"issuer": "huyen uy dong hung"}]


def corpus(n: int, seed: int = 11) -> list[IndexDocument]:
    rng = random.Random(seed)
    docs = []
    for i in range(1, n + 1):
        pages = [IndexPage(page_id=i * 100 + p, page_no=p,
                           text=" ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 25))) + ".")
                 for p in range(1, rng.randint(1, 4) + 1)]
        year = rng.choice([None, rng.randint(1975, 2024)])
        docs.append(IndexDocument(
            id=i, fonds=rng.choice(["07", "12"]), fonds_name="Phông", register="01", file_number=str(i % 7),
            doc_type=rng.choice(TYPES), number_symbol=rng.choice([None, f"{i}-CT/TU"]),
            issuer=rng.choice(["Tỉnh ủy Thái Bình", "Huyện ủy Đông Hưng", None]), place=None,
            issued_date=date(year, 5, 1 + i % 28) if year else None,
            subject=rng.choice([None, "Về " + " ".join(rng.choice(WORDS) for _ in range(4))]),
            signer_name=None, access_mode=rng.choice(["public"] * 4 + ["secret"]), pages=pages,
            entities=[("PER", rng.choice(PEOPLE))] if rng.random() < 0.5 else []))
    return docs


@pytest.fixture(params=["tantivy", "fts5"])
def both(es_backend, tmp_path, request):
    docs = corpus(150)
    if request.param == "tantivy":   # the default embedded index
        embedded = TantivyBackend(tmp_path / "tantivy")
    else:                            # the older SQLite FTS5 one
        embedded = EmbeddedBackend(tmp_path / "search.sqlite")
    embedded.index(docs)
    es_backend.index(docs)
    yield embedded, es_backend
    embedded.close()


def _facts(r):
    return {"total": r.total,
            "facets": {k: sorted((v.value, v.count, v.label) for v in vs) for k, vs in r.facets.items()},
            "hits": {h.id: (h.best_page, h.snippet, [(p.page_no, p.page_id, p.terms) for p in h.pages],
                            h.citation, h.subject, h.issued_date) for h in r.hits}}


@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: ",".join(f) or "nofilter")
def test_same_documents_facets_pages_and_snippets(both, filters):
    embedded, es = both
    for text in QUERIES + [""]:
        q = SearchQuery(text=text, limit=200, access_modes=("public",), **filters)
        a, b = _facts(embedded.search(q)), _facts(es.search(q))
        assert a == b, f"query {text!r} {filters}"


def test_same_ranking_tiers(both):
    """Documents with the accented word exactly, then phrase matches, come first on both."""
    embedded, es = both
    for text in ["mã", "má", "nông thôn mới", "hòa giải", "Đảng bộ"]:
        q = SearchQuery(text=text, limit=200, access_modes=("public", "secret"))
        ra, rb = embedded.search(q), es.search(q)
        tier = lambda r: [int(h.score) for h in r.hits]  # noqa: E731 - embedded: whole tiers; ES: per tier
        ta = tier(ra)
        top_a = {h.id for h, t in zip(ra.hits, ta) if t == ta[0]} if ta else set()
        top_b = {h.id for h in rb.hits[:len(top_a)]}
        assert top_a == top_b, text
