"""Elasticsearch side of the search benchmark (issue 5), on ``bench/search.py``'s corpus and query mix.

    .venv/bin/python bench/search_elastic.py --docs 200000 [--url http://127.0.0.1:9200] [--queries 240]
                                             [--alias kholuu-bench-es] [--reuse] [--keep] [--json]
                                             [--search-workers N]

Builds the synthetic corpus of ``bench/search.py`` (same generator, seed and
query mix) into Elasticsearch the way ``kholuu index rebuild`` does
(``ElasticBackend.rebuild``: a new index, bulk writes, a force merge, then
the alias swap), then runs the fixed query mix at concurrency 1 and 8.
``--cold`` clears the shard request cache before every query, so each pays
for its facets (otherwise a repeated query's facets come from that cache).

The machine is shared, so besides wall times it reports what load does not
inflate as much: CPU seconds of the client (this process and its analysis
workers) and of the Elasticsearch node (from its node stats) while indexing,
and per query Elasticsearch's own ``took`` and the client's CPU time. The load
average is sampled at every step. ``--reuse`` queries an index already behind
``--alias`` (from an earlier ``--keep`` run) without rebuilding; the index is
dropped at the end unless ``--keep``.

Searches go through the web app's pool of ``--search-workers`` processes
(``indexing.pool``; default ``KHOLUU_SEARCH_WORKERS``, every core this process may use, at most 8), each with
its own Elasticsearch client; ``--search-workers 0`` runs them in this
process's client threads (the old mode). Through the pool, Elasticsearch's
``took`` stays in the worker and is not reported (the node's CPU per query
is); client CPU is the worker's plus the calling thread's.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from search import (  # noqa: E402
    QUERY_MIX,
    CountedCorpus,
    all_cpu_s,
    default_search_workers,
    percentile,
    search_mode,
    timed_search,
    with_search_pool,
)

from indexing.base import SearchQuery  # noqa: E402


class _TookRecorder:
    """Wraps the backend's client: keeps each search's server-side ``took`` per thread."""

    def __init__(self, es: Any):
        self._es = es
        self._local = threading.local()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._es, name)

    def msearch(self, **kwargs: Any) -> Any:
        resp = self._es.msearch(**kwargs)
        self._local.took = float(resp["took"])
        return resp

    def search(self, **kwargs: Any) -> Any:
        resp = self._es.search(**kwargs)
        self._local.took = float(resp["took"])
        return resp

    @property
    def last_took(self) -> float:
        return getattr(self._local, "took", float("nan"))


def _node_cpu_s(es: Any) -> float:
    """CPU seconds of the Elasticsearch node process so far (every node of the cluster)."""
    stats = es.nodes.stats(metric="process")
    return sum(n["process"]["cpu"]["total_in_millis"] for n in stats["nodes"].values()) / 1000


def _node_heap_peak_mb(es: Any) -> float:
    stats = es.nodes.stats(metric="jvm")
    peak = 0
    for n in stats["nodes"].values():
        peak += sum(p.get("peak_used_in_bytes", 0) for p in n["jvm"]["mem"]["pools"].values())
    return round(peak / 2**20, 1)


def _children_cpu_s() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def _summary(values: list[float | None]) -> dict[str, float | None]:
    if any(v is None for v in values):   # Elasticsearch's took, not seen through the pool
        return {"p50": None, "p95": None, "p99": None}
    return {"p50": round(percentile(values, 50), 1), "p95": round(percentile(values, 95), 1),
            "p99": round(percentile(values, 99), 1)}


def _took(backend: Any, rec: _TookRecorder) -> float | None:
    """Elasticsearch's ``took`` of this thread's last search (None when it ran in a pool worker)."""
    return None if getattr(backend, "workers", 0) else rec.last_took


def run_mix(backend: Any, rec: _TookRecorder, n: int, concurrency: int, cold: bool = False) -> dict[str, Any]:
    """``n`` queries of the fixed mix at ``concurrency``: wall, ES took, client CPU, ES CPU per query."""
    jobs = [QUERY_MIX[i % len(QUERY_MIX)][1] for i in range(n)]

    def one(kw: dict) -> tuple[float, float | None, float]:
        if cold:
            rec.indices.clear_cache(index=backend.alias, request=True)
        started = time.perf_counter()
        _, cpu_ms = timed_search(backend, SearchQuery(**kw, limit=10, facets=True, access_modes=("public",)))
        return (time.perf_counter() - started) * 1000, _took(backend, rec), cpu_ms

    es_cpu, client_all = _node_cpu_s(rec), all_cpu_s(backend)
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        results = list(pool.map(one, jobs))
    wall = time.perf_counter() - started
    es_cpu, client_all = _node_cpu_s(rec) - es_cpu, all_cpu_s(backend) - client_all
    return {"wall_ms": _summary([r[0] for r in results]), "es_took_ms": _summary([r[1] for r in results]),
            "client_cpu_ms": _summary([r[2] for r in results]), "qps": round(n / wall, 1),
            "client_cpu_all_ms_per_query": round(client_all * 1000 / n, 1),
            "es_cpu_ms_per_query": round(es_cpu * 1000 / n, 1), "load_average": round(os.getloadavg()[0], 1)}


def per_kind(backend: Any, rec: _TookRecorder, repeat: int = 5, cold: bool = False) -> dict[str, dict[str, float]]:
    """Median and p95 per kind at concurrency 1: wall and Elasticsearch ``took``."""
    wall: dict[str, list[float]] = {}
    took: dict[str, list[float | None]] = {}
    for _ in range(repeat):
        for label, kw in QUERY_MIX:
            if cold:
                rec.indices.clear_cache(index=backend.alias, request=True)
            started = time.perf_counter()
            backend.search(SearchQuery(**kw, limit=10, facets=True, access_modes=("public",)))
            wall.setdefault(label, []).append((time.perf_counter() - started) * 1000)
            took.setdefault(label, []).append(_took(backend, rec))
    return {f"{name}_by_kind_ms": {k: _summary(v)[f"p{q}"] for k, v in values.items()}
            for name, values, q in (("wall_p50", wall, 50), ("wall_p95", wall, 95),
                                    ("took_p50", took, 50), ("took_p95", took, 95))}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=20000)
    ap.add_argument("--pages", type=int, default=5, help="mean pages per document")
    ap.add_argument("--queries", type=int, default=240)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--url", default="http://127.0.0.1:9200")
    ap.add_argument("--alias", default="kholuu-bench-es", help="index alias used (and dropped) by the benchmark")
    ap.add_argument("--reuse", action="store_true", help="query the index already behind --alias")
    ap.add_argument("--keep", action="store_true", help="keep the index (for a later --reuse)")
    ap.add_argument("--cold", action="store_true", help="clear the request cache before every query")
    ap.add_argument("--search-workers", type=int, default=None, metavar="N",
                    help="run searches in N worker processes as the web app does (default: KHOLUU_SEARCH_WORKERS, "
                         "i.e. every core this process may use, at most 8); 0 = in the client threads of this process (the old mode)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    if args.search_workers is None:
        args.search_workers = default_search_workers()

    from indexing.elastic import ElasticBackend
    from kholuu.settings import load_settings

    settings = load_settings({"KHOLUU_HOME": "/tmp/kholuu-bench-es", "KHOLUU_ELASTICSEARCH_URL": args.url,
                              "KHOLUU_ELASTICSEARCH_INDEX": args.alias})
    backend = ElasticBackend(settings, request_timeout=120)
    rec = _TookRecorder(backend.es)
    backend.es = rec   # type: ignore[assignment]
    searcher: Any = backend
    result: dict[str, Any] = {"backend": "elasticsearch", "cores": os.cpu_count(),
                              "load_average_start": round(os.getloadavg()[0], 1)}
    try:
        if args.reuse:
            result.update(documents=backend.count(), reused_index=True)
        else:
            docs = CountedCorpus(args.docs, args.pages, args.seed)
            es_cpu, cpu, child = _node_cpu_s(rec), time.process_time(), _children_cpu_s()
            started = time.perf_counter()
            n = backend.rebuild(iter(docs))
            pages = docs.pages
            wall = max(time.perf_counter() - started, 1e-9)
            es_cpu, cpu, child = _node_cpu_s(rec) - es_cpu, time.process_time() - cpu, _children_cpu_s() - child
            result.update(documents=n, pages=pages, reused_index=False, index_seconds=round(wall, 1),
                          docs_per_s=round(n / wall, 1), pages_per_s=round(pages / wall, 1),
                          bulk_s=round(backend.last_rebuild.get("bulk_s", 0.0), 1),
                          merge_s=round(backend.last_rebuild.get("merge_s", 0.0), 1),
                          client_cpu_s=round(cpu, 1), analysis_workers_cpu_s=round(child, 1),
                          es_cpu_s=round(es_cpu, 1),
                          # what the two cores could do if nothing else ran: all CPU spent, shared by 2
                          docs_per_s_cpu_bound=round(n / max((cpu + child + es_cpu) / (os.cpu_count() or 1),
                                                             1e-9), 1),
                          load_average_indexing=round(os.getloadavg()[0], 1))
        backend.search(SearchQuery(text="", limit=10, access_modes=("public",)))   # first query: warm-up
        searcher = with_search_pool(backend, partial(ElasticBackend, settings, request_timeout=120),
                                    args.search_workers)
        result.update(search_mode=search_mode(searcher), search_workers=getattr(searcher, "workers", 0))
        if searcher is not backend:
            searcher.search(SearchQuery(text="", limit=10, access_modes=("public",)))   # warm-up, as above
        result["request_cache"] = "cleared before every query" if args.cold else "on"
        result["concurrency_1"] = run_mix(searcher, rec, args.queries, 1, args.cold)
        result["concurrency_8"] = run_mix(searcher, rec, args.queries, 8, args.cold)
        result.update(per_kind(searcher, rec, cold=args.cold))
        result["load_average_end"] = round(os.getloadavg()[0], 1)
        # measured last: right after a rebuild the merged-away segments' files may still be on disk
        result["index_mb"] = round(backend.size_bytes() / 2**20, 1)
        result["client_peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        result["es_heap_peak_mb"] = _node_heap_peak_mb(rec)
    finally:
        if not args.keep:
            backend.drop()
        searcher.close()   # the pool's workers, then the backend
    print(json.dumps(result, ensure_ascii=False, indent=2) if args.json else _text(result))
    return 0


def _text(r: dict[str, Any]) -> str:
    lines = []
    if not r.get("reused_index"):
        lines.append(f"elasticsearch: {r['documents']} documents, {r['pages']} pages in {r['index_seconds']} s "
                     f"({r['docs_per_s']} docs/s: bulk {r['bulk_s']} s, force merge {r['merge_s']} s; "
                     f"CPU: client {r['client_cpu_s']} s + analysis workers "
                     f"{r['analysis_workers_cpu_s']} s + Elasticsearch {r['es_cpu_s']} s → "
                     f"{r['docs_per_s_cpu_bound']} docs/s if the {r['cores']} cores were free; "
                     f"load {r['load_average_indexing']}), index {r['index_mb']} MB")
    else:
        lines.append(f"elasticsearch: existing index of {r['documents']} documents, {r['index_mb']} MB")
    lines.append(f"  searches: {r['search_mode']}; request cache: {r['request_cache']}")
    for c in ("concurrency_1", "concurrency_8"):
        q = r[c]
        lines.append(f"  {c}: wall p50/p95/p99 {q['wall_ms']['p50']}/{q['wall_ms']['p95']}/{q['wall_ms']['p99']} ms, "
                     + (f"ES took {q['es_took_ms']['p50']}/{q['es_took_ms']['p95']}/{q['es_took_ms']['p99']} ms, "
                        if q['es_took_ms']['p50'] is not None else "ES took: in the workers, ")
                     + f"client CPU {q['client_cpu_ms']['p50']}/{q['client_cpu_ms']['p95']} ms "
                     f"(all client processes {q['client_cpu_all_ms_per_query']} ms a query), "
                     f"ES CPU {q['es_cpu_ms_per_query']} ms/query, {q['qps']} queries/s, load {q['load_average']}")
    for name in ("wall_p50", "wall_p95", "took_p50", "took_p95"):
        lines.append(f"  {name.replace('_', ' ')} by kind: "
                     + ", ".join(f"{k} {v} ms" for k, v in r[f"{name}_by_kind_ms"].items()))
    lines.append(f"  peak memory: client {r['client_peak_rss_mb']} MB, Elasticsearch heap {r['es_heap_peak_mb']} MB")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
