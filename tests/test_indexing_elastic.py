"""The Elasticsearch backend against a real server (``scripts/elasticsearch``).

``scripts/test`` starts the server and exports KHOLUU_TEST_ELASTICSEARCH_URL.
Without it these tests FAIL (CI must never skip them) unless
KHOLUU_ALLOW_NO_ELASTICSEARCH=1 is set for a local run without a server.

The whole search contract (``test_indexing_embedded.py``) runs here again with
the ``backend`` fixture below; every test uses its own alias and indices,
dropped afterwards, so runs never see each other.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import fields
from typing import Iterator

import pytest

import indexing
from indexing.base import IndexDocument, IndexPage, SearchQuery
from indexing.elastic import MAPPING_VERSION
from kholuu.errors import SearchError
from kholuu.settings import Settings, load_settings

# The contract suite, collected again in this module: its tests resolve the
# ``backend`` fixture defined below (pytest looks fixtures up from the module
# that collects the test), so every contract test, including ones added later,
# runs against Elasticsearch too.
import test_indexing_embedded as _contract  # noqa: E402
from test_indexing_embedded import CORPUS, doc, ids, run  # noqa: E402
from service_urls import elasticsearch_url

globals().update({name: fn for name, fn in vars(_contract).items() if name.startswith("test_")})





@pytest.fixture
def es_settings(tmp_path) -> Settings:
    """Settings pointing at the test server, with an alias of this test's own."""
    return load_settings({"KHOLUU_HOME": str(tmp_path / "home"), "KHOLUU_ELASTICSEARCH_URL": elasticsearch_url(),
                          "KHOLUU_ELASTICSEARCH_INDEX": f"kholuu-test-{os.getpid()}-{uuid.uuid4().hex[:10]}"})


@pytest.fixture
def es_backend(es_settings: Settings) -> Iterator["indexing.elastic.ElasticBackend"]:
    from indexing.elastic import ElasticBackend

    b = ElasticBackend(es_settings)
    try:
        yield b
    finally:
        b.drop()
        b.close()


@pytest.fixture(params=["direct", "pool"])
def backend(request: pytest.FixtureRequest, es_backend, es_settings: Settings):
    """The contract suite's fixture: the shared corpus in a fresh Elasticsearch index,
    searched directly and through the web app's search pool (two worker processes)."""
    from functools import partial

    from indexing.pool import SearchPool

    es_backend.index(CORPUS)
    if request.param == "direct":
        yield es_backend
        return
    pool = SearchPool(es_backend, partial(indexing.open_backend, es_settings), 2)
    try:
        yield pool
    finally:
        pool.stop_workers()   # es_backend drops its index and closes itself


# ------------------------------------------------------------- Elasticsearch only
def test_open_backend_picks_elasticsearch(es_settings: Settings):
    b = indexing.open_backend(es_settings)
    try:
        assert b.name == "elasticsearch"
        assert b.count() == 0
    finally:
        b.drop()
        b.close()


def test_index_is_versioned_behind_the_alias_and_rebuild_swaps_it(es_backend):
    es_backend.index(CORPUS)
    [first] = es_backend.indices()
    assert first.startswith(f"{es_backend.alias}-v{MAPPING_VERSION}-")
    assert es_backend.rebuild(CORPUS[:3]) == 3
    [second] = es_backend.indices()
    assert second != first and es_backend.count() == 3
    assert not es_backend.es.indices.exists(index=first)   # the old index is gone


def test_failed_rebuild_keeps_the_old_index(es_backend):
    es_backend.index(CORPUS)
    [before] = es_backend.indices()

    def broken():
        yield CORPUS[0]
        raise RuntimeError("catalog went away")

    with pytest.raises(RuntimeError):
        es_backend.rebuild(broken())
    assert es_backend.indices() == [before]
    assert es_backend.count() == len(CORPUS)
    assert run(es_backend, "nông thôn mới").total == 2
    # no half-built index left behind
    assert es_backend.es.indices.get(index=f"{es_backend.alias}-*").body.keys() == {before}


def test_an_index_of_another_mapping_version_asks_for_a_rebuild(es_settings: Settings):
    from indexing.elastic import ElasticBackend, index_body

    old = ElasticBackend(es_settings)
    body = index_body()
    body["mappings"]["_meta"]["kholuu_mapping_version"] = 0
    old.es.indices.create(index=f"{old.alias}-v0-old", aliases={old.alias: {}}, **body)
    fresh = ElasticBackend(es_settings)
    try:
        with pytest.raises(SearchError, match=r"mapping version 0.*kholuu index rebuild"):
            fresh.search(SearchQuery(text="nông"))
        assert fresh.rebuild(CORPUS) == len(CORPUS)      # the way out
        assert run(fresh, "nông thôn mới").total == 2
    finally:
        fresh.drop()
        old.close()
        fresh.close()


def test_ids_and_idempotent_reindex(es_backend):
    es_backend.index(CORPUS)
    size = es_backend.size_bytes()
    es_backend.index(CORPUS)
    assert es_backend.ids() == {d.id for d in CORPUS}
    assert es_backend.count() == len(CORPUS) and size > 0


class _YearTooBig(IndexDocument):
    """A document whose year the mapping refuses (beyond a 32-bit integer)."""

    @property
    def year(self) -> int:
        return 10**12


def test_bulk_failure_is_counted_and_reported(es_backend):
    base = doc(50, ["nông thôn"])
    odd = _YearTooBig(**{f.name: getattr(base, f.name) for f in fields(base)})
    with pytest.raises(SearchError, match=r"1 of 2 documents failed.*document 50"):
        es_backend.index([odd, doc(52, ["nông thôn"])])
    assert es_backend.ids() == {52}     # the good one is in, the bad one counted


def test_page_text_with_diacritics_is_marked_for_a_folded_query(es_backend):
    es_backend.index([doc(60, ["Trang đầu.", "Đảng bộ tỉnh Thái Bình lãnh đạo công tác dân vận."],
                          subject="Về công tác dân vận")])
    r = run(es_backend, "dang bo")
    [hit] = r.hits
    assert hit.best_page == 2 and hit.pages[0].page_id == 6002
    assert "<mark>Đảng bộ</mark>" in hit.snippet


def test_metadata_only_match_cites_the_first_page(es_backend):
    es_backend.index([doc(61, ["Nội dung không liên quan."], number="99-CT/TU", subject="Về phòng cháy")])
    [hit] = run(es_backend, "99-CT/TU").hits
    assert hit.id == 61 and hit.best_page == 1 and hit.pages == []
    assert "<mark>" not in hit.snippet or "99" in hit.snippet


def test_user_text_is_never_query_syntax(es_backend):
    es_backend.index(CORPUS)
    for text in ['nông AND (thôn', 'title:nông', 'nông~2', 'nông^10 *', '{"match_all": {}}', "nông \\"]:
        r = run(es_backend, text)          # no SearchError from Elasticsearch's parser
        assert r.total <= 3


def test_unreachable_server_is_a_clear_error(tmp_path):
    from indexing.elastic import ElasticBackend

    s = load_settings({"KHOLUU_HOME": str(tmp_path), "KHOLUU_ELASTICSEARCH_URL": "http://127.0.0.1:9",
                       "KHOLUU_ELASTICSEARCH_INDEX": "nowhere"})
    b = ElasticBackend(s, request_timeout=2)
    with pytest.raises(SearchError, match=r"Elasticsearch at http://127.0.0.1:9 is unreachable"):
        b.search(SearchQuery(text="nông"))
    with pytest.raises(SearchError, match="unreachable"):
        b.index([doc(1, ["x"])])
    b.close()


def test_many_pages_best_page_and_hit_pages(es_backend):
    pages = [f"Trang {i} nói về thủy lợi." for i in range(1, 40)]
    pages[29] = "Trang 30: xây dựng nông thôn mới, nông thôn mới, nông thôn mới."
    es_backend.index([doc(70, pages)])
    [hit] = run(es_backend, "nông thôn mới").hits
    assert hit.best_page == 30 and [p.page_no for p in hit.pages] == [30]
    r = run(es_backend, "thủy lợi")          # every page but 30 has it: all listed, as in the embedded index
    assert r.hits[0].best_page == 1 and [p.page_no for p in r.hits[0].pages] == [n for n in range(1, 40) if n != 30]


def test_results_are_documents_with_index_pages(es_backend):
    es_backend.index([IndexDocument(
        id=80, fonds="12", fonds_name="Phông 12", register=None, file_number=None, doc_type="Chỉ thị",
        number_symbol=None, issuer=None, place=None, issued_date=None, subject=None, signer_name=None,
        access_mode="public", pages=[IndexPage(1, 1, "lúa gạo"), IndexPage(2, 2, "lúa gạo lúa")],
        segmented="lúa_gạo lúa_gạo lúa")])
    r = run(es_backend, "lúa gạo")
    assert r.total == 1 and [p.page_no for p in r.hits[0].pages] == [1, 2]
    assert r.facets["doc_type"][0].count == 1


def test_facet_labels_come_from_public_documents_or_the_query_own_matches(es_backend, es_settings):
    """Facet labels (fonds name, type and issuer spelling) come from a cached
    lookup over public documents; a key it lacks (only in restricted documents,
    or written by another process after the lookup was read) is labelled from
    the query's own matches, never shown as its lower-case key."""
    from indexing.elastic import ElasticBackend

    es_backend.index([doc(1, ["lúa gạo"], fonds="07", doc_type="Chỉ thị"),
                      doc(2, ["lúa gạo"], fonds="07", doc_type="chỉ thị", access="secret"),
                      doc(3, ["lúa gạo"], fonds="09", issuer="Huyện ủy Đông Hưng", access="secret")])
    other = ElasticBackend(es_settings)      # a second process: its lookup is read now, then kept
    try:
        everyone = run(other, "lúa gạo", access_modes=("public", "secret"))
        # the public spelling, although the secret document's one sorts higher
        assert [(v.value, v.count) for v in everyone.facets["doc_type"]] == [("Chỉ thị", 3)]
        assert {(v.value, v.label) for v in everyone.facets["issuer"]} == {
            ("Tỉnh ủy Thái Bình", "Tỉnh ủy Thái Bình"), ("Huyện ủy Đông Hưng", "Huyện ủy Đông Hưng")}
        assert {(v.value, v.label) for v in everyone.facets["fonds"]} == {("07", "Phông 07"), ("09", "Phông 09")}
        public = run(other, "lúa gạo")
        assert [v.value for v in public.facets["issuer"]] == ["Tỉnh ủy Thái Bình"]
        assert [v.value for v in public.facets["fonds"]] == ["07"]
        es_backend.index([doc(4, ["lúa gạo"], fonds="11", doc_type="Nghị quyết")])
        later = run(other, "lúa gạo")
        assert {(v.value, v.count) for v in later.facets["doc_type"]} == {("Chỉ thị", 1), ("Nghị quyết", 1)}
        assert {(v.value, v.label) for v in later.facets["fonds"]} == {("07", "Phông 07"), ("11", "Phông 11")}
    finally:
        other.close()


def test_catalog_rebuild_and_cli_search_on_elasticsearch(es_settings: Settings, tmp_path):
    """`kholuu index rebuild/status` and `kholuu search` with KHOLUU_ELASTICSEARCH_URL set."""
    import json
    import subprocess
    import sys

    from test_indexing_catalog import build_catalog

    es_settings.ensure_dirs()
    build_catalog(es_settings).dispose()
    env = {**os.environ, "KHOLUU_HOME": str(es_settings.home), "KHOLUU_ELASTICSEARCH_URL": es_settings.elasticsearch_url,
           "KHOLUU_ELASTICSEARCH_INDEX": es_settings.elasticsearch_index}
    env.pop("KHOLUU_DATABASE_URL", None)

    def kholuu(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "kholuu.cli", *args], env=env, capture_output=True,
                              text=True, timeout=120)

    from indexing.elastic import ElasticBackend

    backend = ElasticBackend(es_settings)
    try:
        rebuilt = kholuu("index", "rebuild")
        assert rebuilt.returncode == 0, rebuilt.stderr
        status = json.loads(kholuu("index", "status", "--json").stdout)
        assert (status["backend"], status["catalog"], status["index"], status["missing_count"]) == \
               ("elasticsearch", 3, 3, 0)
        out = kholuu("search", "nong thon moi", "--json")
        assert out.returncode == 0, out.stderr
        data = json.loads(out.stdout)
        assert data["total"] == 1                       # the secret document stays hidden
        hit = data["hits"][0]
        assert hit["number_symbol"] == "08-CT/TU" and hit["best_page"] == 2
        assert "<mark>nông thôn mới</mark>" in hit["snippet"]
    finally:
        backend.drop()
        backend.close()


def test_an_unreachable_or_overloaded_server_is_search_unavailable(tmp_path):
    """Not the query's fault: the web page says "try again later" (HTTP 503), not "change the words"."""
    from indexing.elastic import ElasticBackend
    from kholuu.errors import SearchUnavailable

    settings = load_settings({"KHOLUU_HOME": str(tmp_path / "home"), "KHOLUU_ELASTICSEARCH_URL": "http://127.0.0.1:9"})
    backend = ElasticBackend(settings, request_timeout=5)
    try:
        with pytest.raises(SearchUnavailable, match="unreachable"):
            backend.search(SearchQuery(text="nông thôn", access_modes=("public",)))
    finally:
        backend.close()


def test_cli_reports_an_unreachable_server_in_one_line(tmp_path):
    import subprocess
    import sys

    env = {**os.environ, "KHOLUU_HOME": str(tmp_path / "home"), "KHOLUU_ELASTICSEARCH_URL": "http://127.0.0.1:9"}
    env.pop("KHOLUU_DATABASE_URL", None)
    out = subprocess.run([sys.executable, "-m", "kholuu.cli", "search", "nông thôn"], env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode != 0 and "Traceback" not in out.stderr
    assert "http://127.0.0.1:9" in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_an_accented_phrase_is_the_folded_phrase_with_its_words_as_typed(es_backend):
    """``body_exact`` keeps each page word once, without positions: an accented
    phrase (exclusion, exact tier) is the folded phrase plus its words as typed."""
    from indexing.elastic import to_source

    es_backend.index([doc(1, ["Quy định mã số hồ sơ lưu trữ."]), doc(2, ["Quy định má số hồ sơ lưu trữ."]),
                      doc(3, ["Quy định hồ sơ lưu trữ, mã hồ sơ và số trang."]), doc(4, ["Quy định hồ sơ lưu trữ."])])
    assert set(ids(run(es_backend, 'quy định -"mã số"'))) == {2, 3, 4}
    assert set(ids(run(es_backend, "hồ sơ -mã"))) == {2, 4}
    phrase = ids(run(es_backend, '"mã số"'))
    assert set(phrase) == {1, 2} and phrase[0] == 1          # the spelling as typed first
    words = to_source(doc(5, ["Hồ sơ, hồ sơ", "và hồ sơ."], issuer=None))["body_exact"].split()
    assert sorted(words) == sorted(set(words)) == ["hồ", "sơ", "và"]


def test_the_header_is_searched_as_the_start_of_the_text(es_backend):
    """Subject, number, issuer and signer are one text with the pages (header
    first, as in the embedded index): found, ranked and excluded like page words."""
    from indexing.elastic import to_source

    source = to_source(doc(7, ["Công tác năm."], number="08-CT/TU", subject="Về thủy lợi", issuer=None))
    assert source["body_folded"].split() == ["ve", "thuy", "loi", "08", "ct", "tu", "cong", "tac", "nam"]
    assert source["body_exact"].split() == ["về", "thủy", "lợi", "08", "ct", "tu", "công", "tác", "năm"]
    assert not {"meta_exact", "meta_folded"} & set(source)
    es_backend.index([doc(1, ["Công tác năm."], subject="Về thủy lợi nội đồng"), doc(2, ["Thủy lợi nội đồng."]),
                      doc(3, ["Công tác năm."], number="08-CT/TU"), doc(4, ["Công tác năm."])])
    assert set(ids(run(es_backend, '"thủy lợi nội đồng"'))) == {1, 2}
    assert ids(run(es_backend, "08-CT/TU")) == [3]
    assert set(ids(run(es_backend, "công tác -thủy"))) == {3, 4}


def test_pages_are_checked_joined_and_normalized_when_stored_otherwise():
    """``to_source`` checks the pages joined, on the chunks it splits for the
    search forms: the same answer and the same indexed texts as checking (and
    if need be normalizing) page by page."""
    import random

    from indexing.elastic import to_source
    from indexing.fields import page_texts
    from kholuu.textnorm import is_normalized, normalize

    rng = random.Random(8)
    alphabet = list("oòóỏõọaàáảãạeuùủyỳýhtOÒÀỦY1-.,đ ") + ["\n", "\r", "  ", "\u00a0", "\u0301", "ho\u0300a",
                                                           "hoà", "thuỷ", "Tỉnh uỷ"]
    seen = {True: 0, False: 0}
    for i in range(3000):
        raw = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))) for _ in range(rng.randint(1, 3))]
        for texts in (raw, [normalize(t) for t in raw]):
            per_page = [t if is_normalized(t) else normalize(t) for t in texts]
            joined = "\n".join(texts)
            fixed = page_texts(texts, joined, dict.fromkeys(joined.split()))
            assert (fixed is None) == (per_page == texts) and (fixed or texts) == per_page, repr(texts)
            seen[fixed is None] += 1
            if i % 10 == 0:
                assert [p["text"] for p in to_source(doc(1, texts))["pages"]] == per_page
    assert seen[True] > 500 and seen[False] > 500


# ------------------------------------------------------- bulk writing at speed
def test_worker_processes_encode_exactly_as_in_process():
    """Large writes are encoded in spawned worker processes: same bytes, same order."""
    from indexing.elastic import encode, encoded

    docs = [doc(100 + i, [f"Trang {i}: xây dựng nông thôn mới.", "Đảng bộ tỉnh."]) for i in range(12)]
    docs += CORPUS
    assert list(encoded(docs, min_pool=2, workers=2)) == [encode(d) for d in docs]
    assert list(encoded(docs[:3], min_pool=5, workers=2)) == [encode(d) for d in docs[:3]]


def _index_settings(es, name: str) -> tuple[str, str]:
    s = es.indices.get_settings(index=name, flat_settings=True)[name]["settings"]
    return s.get("index.refresh_interval", "1s"), s.get("index.translog.durability", "request")


def test_rebuild_writes_without_refresh_and_restores_live_settings(es_backend, monkeypatch):
    import indexing.elastic as elastic

    monkeypatch.setattr(elastic, "POOL_MIN_DOCS", 2)     # CORPUS through the worker processes
    es_backend.index(CORPUS[:1])
    [old] = es_backend.indices()
    seen: list[tuple[str, str]] = []

    def docs():
        for i, d in enumerate(CORPUS):
            if i == len(CORPUS) - 1:   # the new index exists, not yet behind the alias
                [new] = set(es_backend.es.indices.get(index=f"{es_backend.alias}-*").body) - {old}
                seen.append(_index_settings(es_backend.es, new))
            yield d

    assert es_backend.rebuild(docs()) == len(CORPUS)
    assert seen == [("-1", "async")]
    [new] = es_backend.indices()
    assert new != old and _index_settings(es_backend.es, new) == ("1s", "request")
    shards = es_backend.es.indices.segments(index=new)["indices"][new]["shards"]["0"]
    assert [c["num_search_segments"] for c in shards] == [1]        # force-merged before the swap
    assert set(es_backend.last_rebuild) == {"bulk_s", "merge_s"}
    assert run(es_backend, "nông thôn mới").total == 2


def test_failed_rebuild_in_worker_processes_keeps_the_live_index(es_backend, monkeypatch):
    import indexing.elastic as elastic

    monkeypatch.setattr(elastic, "POOL_MIN_DOCS", 2)
    es_backend.index(CORPUS)
    [before] = es_backend.indices()

    def broken():
        yield from CORPUS[:3]
        raise RuntimeError("catalog went away")

    with pytest.raises(RuntimeError, match="catalog went away"):
        es_backend.rebuild(broken())
    assert es_backend.indices() == [before] and es_backend.count() == len(CORPUS)
    assert _index_settings(es_backend.es, before) == ("1s", "request")
    assert es_backend.es.indices.get(index=f"{es_backend.alias}-*").body.keys() == {before}


class _Refusing429:
    """An HTTP relay in front of the real test server that marks the first item
    of the first ``times`` bulk responses as refused with 429, as a busy node
    does (the item may have been written: a retry must replace it, not add)."""

    def __init__(self, target: str, times: int):
        import http.server
        import threading
        import urllib.request

        relay = self
        self.target, self.times, self.bulk_bodies = target.rstrip("/"), times, []

        class Handler(http.server.BaseHTTPRequestHandler):
            def _relay(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)) or None
                req = urllib.request.Request(relay.target + self.path, data=body, method=self.command,
                                             headers={k: v for k, v in self.headers.items()
                                                      if k.lower() not in ("host", "content-length")})
                try:
                    resp = urllib.request.urlopen(req, timeout=60)
                    status, data, ctype = resp.status, resp.read(), resp.headers.get("Content-Type")
                except urllib.error.HTTPError as exc:
                    status, data, ctype = exc.code, exc.read(), exc.headers.get("Content-Type")
                if self.path.split("?")[0].endswith("/_bulk"):
                    relay.bulk_bodies.append(body or b"")
                    if relay.times > 0:
                        relay.times -= 1
                        import json
                        out = json.loads(data)
                        op = next(iter(out["items"][0]))
                        out["items"][0][op].update(status=429, error={
                            "type": "es_rejected_execution_exception", "reason": "rejected by the test relay"})
                        out["errors"] = True
                        data = json.dumps(out).encode()
                self.send_response(status)
                self.send_header("Content-Type", ctype or "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("X-Elastic-Product", "Elasticsearch")
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _relay

            def log_message(self, *args) -> None:  # quiet
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_items_refused_with_429_are_retried_and_counted_once(es_settings: Settings, monkeypatch):
    import dataclasses

    import indexing.elastic as elastic
    from indexing.elastic import ElasticBackend

    monkeypatch.setattr(elastic, "BULK_BACKOFF", (0.05, 0.1))
    relay = _Refusing429(es_settings.elasticsearch_url, times=2)
    backend = ElasticBackend(dataclasses.replace(es_settings, elasticsearch_url=relay.url))
    try:
        assert backend.index(CORPUS) == len(CORPUS)            # each document counted once
        assert backend.ids() == {d.id for d in CORPUS} and backend.count() == len(CORPUS)
        assert len(relay.bulk_bodies) >= 3                     # the refused items went again
        assert any(b.count(b"\n") == 2 for b in relay.bulk_bodies[1:])   # one item: header + source
        relay.times = 10**6                                    # now the node never accepts it
        monkeypatch.setattr(elastic, "BULK_RETRIES", 2)
        with pytest.raises(SearchError, match=r"\d of \d+ documents failed.*es_rejected_execution"):
            backend.index(CORPUS)
    finally:
        backend.drop()
        backend.close()
        relay.close()
