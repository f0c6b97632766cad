"""``bench/search_elastic.py`` end to end on a tiny corpus against the real test server."""

from __future__ import annotations

import json
import os
import sys
import uuid
from pathlib import Path

from service_urls import elasticsearch_url

BENCH = Path(__file__).resolve().parent.parent / "bench"


def test_elastic_bench_builds_queries_reports_and_drops_its_index(capsys):
    from elasticsearch import Elasticsearch

    url = elasticsearch_url()
    sys.path.insert(0, str(BENCH))
    try:
        import search_elastic
    finally:
        sys.path.remove(str(BENCH))
    alias = f"kholuu-test-bench-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    assert search_elastic.main(["--docs", "60", "--queries", "12", "--url", url, "--alias", alias, "--json",
                                "--search-workers", "2"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["documents"] == 60 and r["pages"] >= 60 and r["index_mb"] > 0
    assert r["es_cpu_s"] >= 0 and r["client_cpu_s"] > 0 and r["merge_s"] >= 0
    assert r["search_mode"].startswith("pool") and r["search_workers"] == 2
    for c in ("concurrency_1", "concurrency_8"):
        assert r[c]["es_took_ms"]["p50"] is None      # took stays in the workers
        assert r[c]["client_cpu_ms"]["p50"] > 0 and r[c]["wall_ms"]["p95"] >= r[c]["wall_ms"]["p50"] > 0
    assert set(r["wall_p95_by_kind_ms"]) == {"word+diacritics", "word folded", "phrase", "filters+facets"}
    es = Elasticsearch(url)
    try:
        assert not es.indices.exists_alias(name=alias)       # dropped after the run
    finally:
        es.close()


def test_elastic_bench_in_process_by_default_reports_took(capsys):
    url = elasticsearch_url()
    sys.path.insert(0, str(BENCH))
    try:
        import search_elastic
    finally:
        sys.path.remove(str(BENCH))
    alias = f"kholuu-test-bench-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    assert search_elastic.main(["--docs", "40", "--queries", "12", "--url", url, "--alias", alias, "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    # the web app's way with Elasticsearch, by default: in-process (its node does the searching)
    assert r["search_mode"].startswith("in-process") and r["search_workers"] == 0
    for c in ("concurrency_1", "concurrency_8"):
        assert r[c]["es_took_ms"]["p50"] >= 0 and r[c]["client_cpu_all_ms_per_query"] > 0
    assert set(r["took_p95_by_kind_ms"]) == {"word+diacritics", "word folded", "phrase", "filters+facets"}
