"""``bench/search_elastic.py`` end to end on a tiny corpus against the real test server."""

from __future__ import annotations

import json
import os
import sys
import uuid
from pathlib import Path

from service_urls import elasticsearch_url

BENCH = Path(__file__).resolve().parent.parent / "bench"


def run_bench(capsys, *args: str) -> dict:
    """``bench/search_elastic.py`` on a fresh alias of the test server; its JSON report."""
    sys.path.insert(0, str(BENCH))
    try:
        import search_elastic
    finally:
        sys.path.remove(str(BENCH))
    alias = f"kholuu-test-bench-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    assert search_elastic.main([*args, "--queries", "12", "--url", elasticsearch_url(), "--alias", alias,
                                "--json"]) == 0
    return {**json.loads(capsys.readouterr().out), "_alias": alias}


def test_elastic_bench_builds_queries_reports_and_drops_its_index(capsys):
    from elasticsearch import Elasticsearch

    from kholuu.settings import load_settings, search_worker_count

    r = run_bench(capsys, "--docs", "60")
    assert r["documents"] == 60 and r["pages"] >= 60 and r["index_mb"] > 0
    assert r["es_cpu_s"] >= 0 and r["client_cpu_s"] > 0 and r["merge_s"] >= 0
    # the web app's way, by default: the worker pool, every core (as with the embedded index)
    workers = search_worker_count(load_settings())
    assert r["search_mode"] == f"pool of {workers} search processes" and r["search_workers"] == workers
    for c in ("concurrency_1", "concurrency_8"):
        assert r[c]["es_took_ms"]["p50"] is None      # took stays in the workers
        assert r[c]["client_cpu_ms"]["p50"] > 0 and r[c]["wall_ms"]["p95"] >= r[c]["wall_ms"]["p50"] > 0
    assert set(r["wall_p95_by_kind_ms"]) == {"word+diacritics", "word folded", "phrase", "filters+facets"}
    es = Elasticsearch(elasticsearch_url())
    try:
        assert not es.indices.exists_alias(name=r["_alias"])   # dropped after the run
    finally:
        es.close()


def test_elastic_bench_in_process_reports_took(capsys):
    r = run_bench(capsys, "--docs", "40", "--search-workers", "0")
    assert r["search_mode"].startswith("in-process") and r["search_workers"] == 0
    for c in ("concurrency_1", "concurrency_8"):
        assert r[c]["es_took_ms"]["p50"] >= 0 and r[c]["client_cpu_all_ms_per_query"] > 0
    assert set(r["took_p95_by_kind_ms"]) == {"word+diacritics", "word folded", "phrase", "filters+facets"}
