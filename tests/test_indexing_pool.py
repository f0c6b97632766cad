"""The search pool (``indexing.pool``): the same answers as in-process searches,
errors that reach the caller, a killed worker replaced, rebuilds seen by workers.

The contract suite of ``test_indexing_embedded.py`` runs through the pool too
(its ``tantivy-pool`` backend); these are the pool's own cases.
"""

from __future__ import annotations

import os
import signal
import sys
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Iterator

import pytest

from indexing.base import SearchQuery, SearchResult
from indexing.pool import SearchPool, open_search_backend
from indexing.tantivy_index import TantivyBackend
from kholuu.errors import QuerySyntaxError, SearchError
from kholuu.settings import load_settings, search_worker_count

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.search import QUERY_MIX, corpus  # noqa: E402

ACCESS = [("public",), ("public", "conditional"), ("public", "conditional", "secret"), ()]


@pytest.fixture(scope="module")
def pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SearchPool]:
    root = tmp_path_factory.mktemp("pool") / "tantivy"
    backend = TantivyBackend(root)
    backend.index(corpus(400, 3, seed=11))
    p = SearchPool(backend, partial(TantivyBackend, root), 2)
    try:
        yield p
    finally:
        p.close()


def same(a: SearchResult, b: SearchResult) -> bool:
    return replace(a, took_ms=0.0) == replace(b, took_ms=0.0)


def test_pool_answers_exactly_as_the_in_process_backend(pool: SearchPool):
    checked = 0
    for _label, kw in QUERY_MIX:
        for modes in ACCESS:
            for extra in ({}, {"offset": 10, "limit": 5}, {"granted_ids": (3, 5, 8), "fonds_scope": ("F07",)}):
                q = SearchQuery(**kw, access_modes=modes, facets=True, **extra)
                direct, through_pool = pool.backend.search(q), pool.search(q)
                assert same(direct, through_pool), (kw, modes, extra)
                checked += direct.total > 0
    assert checked > 50   # most of the cases found something: the comparison is not between empty results


def test_worker_cpu_time_is_reported(pool: SearchPool):
    result, cpu_ms = pool.search_timed(SearchQuery(text="nông thôn", access_modes=("public",)))
    assert result.total > 0 and cpu_ms > 0


def test_malformed_query_is_the_same_typed_error(pool: SearchPool):
    q = SearchQuery(text="-nông", access_modes=("public",))
    with pytest.raises(QuerySyntaxError) as direct:
        pool.backend.search(q)
    with pytest.raises(QuerySyntaxError) as pooled:
        pool.search(q)
    assert str(pooled.value) == str(direct.value) and "loại trừ" in str(pooled.value)


def test_a_killed_worker_is_replaced_and_the_search_answered(pool: SearchPool):
    q = SearchQuery(text="hop tac xa", access_modes=("public",))
    expected = pool.backend.search(q)
    before = pool.warm()
    assert len(before) == 2
    os.kill(before[0], signal.SIGKILL)
    assert same(pool.search(q), expected)       # the broken pool is replaced, the search retried
    after = pool.warm()
    assert len(after) == 2 and before[0] not in after
    assert pool.pids() == after                 # the pool itself knows its new worker (CPU accounting)
    assert same(pool.search(q), expected)


def test_workers_see_commits_and_rebuilds(tmp_path: Path):
    root = tmp_path / "tantivy"
    backend = TantivyBackend(root)
    docs = list(corpus(120, 2, seed=3))
    backend.index(docs[:60])
    p = SearchPool(backend, partial(TantivyBackend, root), 2)
    try:
        p.warm()
        everything = SearchQuery(text="", access_modes=("public", "conditional", "secret"), limit=0)
        assert p.search(everything).total == 60
        p.index(docs[60:])                                  # a commit by the in-process writer
        assert {p.search(everything).total for _ in range(6)} == {120}   # every worker sees it
        p.rebuild(iter(docs[:30]))                          # a new generation, CURRENT swapped
        assert {p.search(everything).total for _ in range(6)} == {30}
        assert same(p.search(SearchQuery(text="nông thôn", access_modes=("public",))),
                    backend.search(SearchQuery(text="nông thôn", access_modes=("public",))))
    finally:
        p.close()


def test_closed_pool_is_a_search_error(tmp_path: Path):
    root = tmp_path / "tantivy"
    backend = TantivyBackend(root)
    backend.index(list(corpus(10, 1, seed=1)))
    p = SearchPool(backend, partial(TantivyBackend, root), 1)
    p.close()
    with pytest.raises(SearchError, match="closed"):
        p.search(SearchQuery(text="nông", access_modes=("public",)))


def test_a_backend_that_cannot_open_in_the_worker_is_its_error(tmp_path: Path):
    backend = TantivyBackend(tmp_path / "tantivy")
    p = SearchPool(backend, partial(_unopenable, str(tmp_path)), 1)
    try:
        with pytest.raises(SearchError, match="cannot open"):
            p.search(SearchQuery(text="nông", access_modes=("public",)))
    finally:
        p.close()


def test_a_worker_that_dies_on_every_start_is_a_search_error_not_a_hang(tmp_path: Path):
    backend = TantivyBackend(tmp_path / "tantivy")
    p = SearchPool(backend, _dies, 1)
    try:
        with pytest.raises(SearchError, match="stopped twice"):
            p.search(SearchQuery(text="nông", access_modes=("public",)))
    finally:
        p.close()


class _BuggyBackend(TantivyBackend):
    def search(self, query: SearchQuery) -> SearchResult:
        return super().search(query) if query.text.startswith("-") else _misread_facets(query)


def _misread_facets(query: SearchQuery) -> SearchResult:
    return len(query)   # type: ignore[arg-type]  # a bug: TypeError, deep in the worker


def test_a_bug_in_the_worker_keeps_its_traceback(tmp_path: Path):
    from indexing.pool import RemoteTraceback

    backend = TantivyBackend(tmp_path / "tantivy")
    p = SearchPool(backend, partial(_BuggyBackend, tmp_path / "tantivy"), 1)
    try:
        with pytest.raises(TypeError) as err:
            p.search(SearchQuery(text="nông", access_modes=("public",)))
        cause = err.value.__cause__
        assert isinstance(cause, RemoteTraceback) and "_misread_facets" in str(cause)
        with pytest.raises(SearchError) as typed:   # typed errors stay as they are
            p.search(SearchQuery(text="-nông", access_modes=("public",)))
        assert typed.value.__cause__ is None
    finally:
        p.close()


def _unopenable(where: str) -> TantivyBackend:
    raise SearchError(f"{where}: cannot open")


def _dies() -> TantivyBackend:
    os._exit(3)   # the worker process ends before it is ready


def test_settings_choose_the_pool_or_in_process(tmp_path: Path):
    zero = load_settings({"KHOLUU_HOME": str(tmp_path), "KHOLUU_SEARCH_WORKERS": "0"})
    two = load_settings({"KHOLUU_HOME": str(tmp_path), "KHOLUU_SEARCH_WORKERS": "2"})
    auto = load_settings({"KHOLUU_HOME": str(tmp_path)})
    assert auto.search_workers is None and search_worker_count(auto) == min(len(os.sched_getaffinity(0)), 8)
    es = load_settings({"KHOLUU_HOME": str(tmp_path), "KHOLUU_ELASTICSEARCH_URL": "http://127.0.0.1:9"})
    assert search_worker_count(es) == search_worker_count(auto)   # the same pool with Elasticsearch
    es0 = load_settings({"KHOLUU_HOME": str(tmp_path), "KHOLUU_ELASTICSEARCH_URL": "http://127.0.0.1:9",
                         "KHOLUU_SEARCH_WORKERS": "0"})
    assert search_worker_count(es0) == 0           # unless told otherwise
    assert search_worker_count(load_settings({"KHOLUU_HOME": str(tmp_path), "KHOLUU_SEARCH_WORKERS": "auto"})) \
        == min(len(os.sched_getaffinity(0)), 8)
    plain = open_search_backend(zero)
    try:
        assert isinstance(plain, TantivyBackend)
    finally:
        plain.close()
    pooled = open_search_backend(two)
    try:
        assert isinstance(pooled, SearchPool) and pooled.workers == 2 and len(pooled.warm()) == 2
        assert pooled.complete is pooled.backend.complete   # extras stay in-process
    finally:
        pooled.close()


def test_a_worker_returned_after_the_pool_stopped_is_stopped_too(tmp_path: Path, monkeypatch):
    """A search still running when stop_workers stops waiting gives its worker back later: that
    worker must end, not sit in a pool nobody will stop."""
    import indexing.pool as pool_module

    root = tmp_path / "tantivy"
    backend = TantivyBackend(root)
    backend.index(corpus(20, 2, seed=3))
    p = SearchPool(backend, partial(TantivyBackend, root), 2)
    try:
        busy = p._take()                      # as a search in flight holds it
        monkeypatch.setattr(pool_module, "CLOSE_WAIT_S", 0.2)
        p.stop_workers()
        assert busy.process.is_alive()
        p._give_back(busy)                    # the search finishes after the stop
        busy.process.join(10)
        assert not busy.process.is_alive() and not p._idle
    finally:
        p.close()
