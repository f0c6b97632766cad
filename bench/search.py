"""Search benchmark: a synthetic corpus from the project's own sample documents.

    .venv/bin/python bench/search.py [--docs 20000] [--pages 5] [--queries 240] [--json]
                                     [--elasticsearch http://127.0.0.1:9200] [--search-workers N]

Builds ``--docs`` synthetic documents (about ``--pages`` pages each) whose
sentences are recombined from ``kholuu/samples/documents.yaml`` (the project's
own text, never the reference documents), indexes them into the embedded
backend in a temporary folder (or Elasticsearch), and reports documents per second, index size,
query latency p50/p95/p99 for a fixed query mix (words with and without
diacritics, phrases, filters + facets + highlighting) at concurrency 1 and 8,
and the process's peak memory. The corpus is deterministic (``--seed``).

Searches go through ``indexing.pool.SearchPool`` with ``--search-workers``
processes, as the web app runs them (default: ``KHOLUU_SEARCH_WORKERS``, i.e.
every core this process may use, at most 8); ``--search-workers 0`` runs them in the client threads of this one
process (the old mode: eight threads share one interpreter). The output says
which mode ran. Through the pool, CPU per query is the worker's CPU for the
search plus the client thread's (sending the query, receiving the result).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from functools import partial
from pathlib import Path
from typing import Callable, Iterator

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from indexing.base import IndexDocument, IndexPage, SearchBackend, SearchQuery, SearchResult  # noqa: E402
from kholuu.textnorm import normalize  # noqa: E402

SAMPLES = ROOT / "kholuu" / "samples" / "documents.yaml"
DOC_TYPES = ["Nghị quyết", "Chỉ thị", "Kết luận", "Quyết định", "Thông báo", "Hướng dẫn", "Báo cáo",
             "Kế hoạch", "Chương trình", "Tờ trình", "Công văn", "Đề án"]
ISSUERS = ["Tỉnh ủy Thái Bình", "Ban Thường vụ Tỉnh ủy", "Huyện ủy Đông Hưng", "Huyện ủy Hưng Hà",
           "Huyện ủy Kiến Xương", "Huyện ủy Quỳnh Phụ", "Huyện ủy Thái Thụy", "Huyện ủy Tiền Hải",
           "Huyện ủy Vũ Thư", "Thành ủy Thái Bình", "Văn phòng Tỉnh ủy", "Ban Tổ chức Tỉnh ủy"]
PLACES = ["Thái Bình", "Đông Hưng", "Hưng Hà", "Kiến Xương", "Quỳnh Phụ", "Thái Thụy", "Tiền Hải", "Vũ Thư"]
SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Ngô"]
MIDDLE = ["Văn", "Thị", "Đức", "Minh", "Hữu", "Quang"]
GIVEN = ["An", "Bình", "Cường", "Dũng", "Hà", "Hùng", "Lan", "Long", "Mai", "Nam", "Sơn", "Thắng", "Tuấn"]

# (label, query kwargs); the same fixed mix for every run
QUERY_MIX: list[tuple[str, dict]] = [
    ("word+diacritics", {"text": "thủy lợi"}),
    ("word+diacritics", {"text": "Đảng"}),
    ("word+diacritics", {"text": "mã"}),
    ("word folded", {"text": "nong thon"}),
    ("word folded", {"text": "hop tac xa"}),
    ("word folded", {"text": "dang vien"}),
    ("phrase", {"text": '"nông thôn mới"'}),
    ("phrase", {"text": '"Ban Thường vụ"'}),
    ("phrase", {"text": "công tác cán bộ"}),
    ("filters+facets", {"text": "kế hoạch", "fonds": "F03", "year_from": 1990, "year_to": 2010}),
    ("filters+facets", {"text": "sản xuất", "doc_type": "CT"}),
    ("filters+facets", {"text": "chi bo", "issuer": "Huyện ủy Đông Hưng", "sort": "date_desc"}),
]


def topics() -> list[list[str]]:
    """Sentences of each sample document: one topic each (thủy lợi, cán bộ, ...)."""
    raw = yaml.safe_load(SAMPLES.read_text(encoding="utf-8"))
    out: list[list[str]] = []
    for d in raw["documents"]:
        sents: list[str] = [normalize(str(s)) for s in d.get("subject") or []]
        for para in d.get("body") or []:
            para = re.sub(r"^[\^#>] ", "", str(para))
            sents.extend(s.strip() for s in re.split(r"(?<=[.;:])\s+", normalize(para)) if len(s.strip()) > 20)
        if sents:
            out.append(sents)
    return out


class CountedCorpus:
    """``corpus(...)`` as an iterable that counts the pages it has handed out."""

    def __init__(self, n_docs: int, pages_per_doc: int, seed: int):
        self.args, self.pages = (n_docs, pages_per_doc, seed), 0

    def __iter__(self) -> Iterator[IndexDocument]:
        for d in corpus(*self.args):
            self.pages += len(d.pages)
            yield d


def corpus(n_docs: int, pages_per_doc: int, seed: int) -> Iterator[IndexDocument]:
    """Documents on one topic each (most sentences from one sample document, a few
    from others), with names, places and numbers varied so texts differ."""
    rng = random.Random(seed)
    by_topic = topics()
    everything = [s for t in by_topic for s in t]
    page_id = 0
    for i in range(1, n_docs + 1):
        topic = rng.choice(by_topic)
        n_pages = max(1, min(2 * pages_per_doc - 1, int(rng.expovariate(1 / pages_per_doc)) + 1))
        pages = []
        for p in range(1, n_pages + 1):
            page_id += 1
            lines = [rng.choice(topic) if rng.random() < 0.95 else rng.choice(everything) for _ in range(8)]
            text = "\n".join(lines)
            text = re.sub(r"\d+", lambda m: str(rng.randint(1, 2000)), text)
            text += f"\n{rng.choice(SURNAMES)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}, {rng.choice(PLACES)}."
            pages.append(IndexPage(page_id=page_id, page_no=p, text=text))
        year = rng.randint(1960, 2024)
        people = [f"{rng.choice(SURNAMES)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}" for _ in range(2)]
        access = rng.choices(["public", "conditional", "secret"], weights=[85, 10, 5])[0]
        doc_type = rng.choice(DOC_TYPES)
        yield IndexDocument(
            id=i, fonds=f"F{rng.randint(1, 41):02d}", fonds_name="Phông", register="01",
            file_number=str(rng.randint(1, 2000)), doc_type=doc_type, number_symbol=f"{rng.randint(1, 300)}-X/TU",
            issuer=rng.choice(ISSUERS), place=rng.choice(PLACES),
            issued_date=date(year, rng.randint(1, 12), rng.randint(1, 28)), subject=topic[0][:120],
            signer_name=people[0], access_mode=access, pages=pages,
            entities=[("PER", people[0]), ("PER", people[1]), ("LOC", rng.choice(PLACES)),
                      ("ORG", rng.choice(ISSUERS))])


def open_embedded_backend(folder: Path, kind: str) -> SearchBackend:
    """The embedded backend ``kind`` in ``folder``: tantivy (``folder/tantivy``, the
    default) or the older SQLite FTS5 one (``folder/search.sqlite``)."""
    if kind == "fts5":
        from indexing.embedded import EmbeddedBackend

        return EmbeddedBackend(folder / "search.sqlite")
    from indexing.tantivy_index import TantivyBackend

    return TantivyBackend(folder / "tantivy")


def embedded_bytes(backend: SearchBackend, folder: Path) -> int:
    """Size on disk of an embedded index (tantivy: every file of its folder)."""
    if backend.__class__.__name__ == "TantivyBackend":
        return sum(p.stat().st_size for p in (folder / "tantivy").rglob("*") if p.is_file())
    return sum(p.stat().st_size for p in folder.glob("search.sqlite*"))


def open_bench_backend(folder: Path, es_url: str | None, *, keep: bool = False,
                       embedded: str = "tantivy") -> SearchBackend:
    """A fresh, empty backend: embedded in ``folder``, or Elasticsearch at ``es_url``."""
    if es_url is None:
        backend: SearchBackend = open_embedded_backend(folder, embedded)
    else:
        import indexing
        from kholuu.settings import load_settings

        settings = load_settings({"KHOLUU_HOME": str(folder), "KHOLUU_ELASTICSEARCH_URL": es_url,
                                  "KHOLUU_ELASTICSEARCH_INDEX": "kholuu-bench"})
        backend = indexing.open_backend(settings)
    if not keep:
        backend.clear()
    return backend


def bench_opener(folder: Path, es_url: str | None, embedded: str = "tantivy") -> Callable[[], SearchBackend]:
    """How a search worker opens the same backend as ``open_bench_backend`` (picklable: spawn)."""
    return partial(open_bench_backend, folder, es_url, keep=True, embedded=embedded)


def default_search_workers() -> int:
    """What the web app uses: ``KHOLUU_SEARCH_WORKERS``, by default every core."""
    from kholuu.settings import load_settings, search_worker_count

    return search_worker_count(load_settings())


def with_search_pool(backend: SearchBackend, opener: Callable[[], SearchBackend], workers: int) -> SearchBackend:
    """``backend`` with its searches in ``workers`` processes (started and opened now), or as is for 0."""
    from indexing.pool import SearchPool, pooled

    out = pooled(backend, opener, workers)
    if isinstance(out, SearchPool):
        out.warm()
    return out


def all_cpu_s(backend: SearchBackend) -> float:
    """CPU seconds so far of this process (every thread) and of the search workers, if any."""
    total = time.process_time()
    for pid in backend.pids() if hasattr(backend, "pids") else ():
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")   # utime + stime
    return total


def search_mode(backend: SearchBackend) -> str:
    workers = getattr(backend, "workers", 0)
    return f"pool of {workers} search processes" if workers else "in-process (client threads, one interpreter)"


def timed_search(backend: SearchBackend, query: SearchQuery) -> tuple[SearchResult, float]:
    """Search; with the CPU time (ms) of the search: the calling thread's, plus the
    worker's when it ran in the pool (the embedded backend runs in the calling thread;
    Elasticsearch counts the client side only)."""
    cpu_started = time.thread_time()
    timed = getattr(backend, "search_timed", None)
    if timed is None:
        result, worker_ms = backend.search(query), 0.0
    else:
        result, worker_ms = timed(query)
    return result, (time.thread_time() - cpu_started) * 1000 + worker_ms


def index_bytes(backend: SearchBackend, folder: Path) -> int:
    """Size of the index on disk (Elasticsearch: primary store size)."""
    es = getattr(backend, "es", None)
    if es is None:
        return embedded_bytes(backend, folder)
    es.indices.refresh(index=backend.alias)  # type: ignore[attr-defined]
    stats = es.indices.stats(index=backend.alias)  # type: ignore[attr-defined]
    return int(stats["_all"]["primaries"]["store"]["size_in_bytes"])


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    k = max(0, min(len(values) - 1, round(q / 100 * (len(values) - 1))))
    return values[k]


def run_queries(backend: SearchBackend, n: int, concurrency: int) -> dict[str, float]:
    jobs = [QUERY_MIX[i % len(QUERY_MIX)][1] for i in range(n)]

    def one(kw: dict) -> tuple[float, float]:
        started = time.perf_counter()
        _, cpu_ms = timed_search(backend, SearchQuery(**kw, limit=10, facets=True, access_modes=("public",)))
        return (time.perf_counter() - started) * 1000, cpu_ms

    started, cpu_all = time.perf_counter(), all_cpu_s(backend)
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        results = list(pool.map(one, jobs))
    wall, cpu_all = time.perf_counter() - started, all_cpu_s(backend) - cpu_all
    times, cpu = [r[0] for r in results], [r[1] for r in results]
    return {"p50_ms": round(percentile(times, 50), 1), "p95_ms": round(percentile(times, 95), 1),
            "p99_ms": round(percentile(times, 99), 1), "mean_ms": round(statistics.fmean(times), 1),
            "cpu_p50_ms": round(percentile(cpu, 50), 1), "cpu_p95_ms": round(percentile(cpu, 95), 1),
            "cpu_p99_ms": round(percentile(cpu, 99), 1), "qps": round(n / wall, 1),
            # every thread of this process and of the search workers (pool plumbing included)
            "cpu_all_ms_per_query": round(cpu_all * 1000 / n, 1)}


def per_kind(backend: SearchBackend, repeat: int = 5) -> dict[str, dict[str, float]]:
    """Median and p95 per kind of query at concurrency 1: wall time, and CPU time.

    CPU time does not grow when other programs load the machine, so it is the
    figure to compare between runs on a shared machine (for Elasticsearch it
    counts only the client's side).
    """
    wall: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}
    for label, kw in QUERY_MIX:
        for _ in range(repeat):
            started = time.perf_counter()
            _, cpu_ms = timed_search(backend, SearchQuery(**kw, limit=10, facets=True, access_modes=("public",)))
            wall.setdefault(label, []).append((time.perf_counter() - started) * 1000)
            cpu.setdefault(label, []).append(cpu_ms)
    return {f"{name}_by_kind_ms": {k: round(percentile(v, q), 1) for k, v in values.items()}
            for name, values, q in (("p50", wall, 50), ("p95", wall, 95), ("p50_cpu", cpu, 50),
                                    ("p95_cpu", cpu, 95))}


def _rss_mb() -> float:
    """Resident memory now (the peak, ``ru_maxrss``, covers the whole process)."""
    with open("/proc/self/statm") as fh:
        return round(int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20, 1)


def embedded_side_by_side(args: argparse.Namespace, folder: Path) -> dict:
    """Tantivy and SQLite FTS5 on the same corpus, queries and process, interleaved.

    Each index is built unless ``--reuse`` finds it already filled in ``folder``.
    The concurrency runs alternate backends (tantivy, FTS5, FTS5, tantivy) so a
    change of machine load hits both; the load average is sampled at each step.
    """
    kinds = ("tantivy", "fts5")
    backends = {kind: open_embedded_backend(folder, kind) for kind in kinds}
    out: dict[str, dict] = {kind: {} for kind in kinds}
    try:
        for kind, backend in backends.items():
            r = out[kind]
            existing = backend.count() if args.reuse else 0
            if existing:
                r.update(documents=existing, reused_index=True)
            else:
                backend.clear()
                docs = CountedCorpus(args.docs, args.pages, args.seed)
                started, cpu_started = time.perf_counter(), time.process_time()
                n = backend.index(iter(docs))
                wall, cpu = max(time.perf_counter() - started, 1e-9), time.process_time() - cpu_started
                pages = docs.pages
                r.update(documents=n, pages=pages, reused_index=False, index_seconds=round(wall, 1),
                         docs_per_s=round(n / wall, 1), docs_per_cpu_s=round(n / max(cpu, 1e-9), 1),
                         load_average_indexing=round(os.getloadavg()[0], 1))
            r["index_mb"] = round(embedded_bytes(backend, folder) / 2**20, 1)
            # the first query loads what a backend keeps in memory (FTS5: its columns)
            started, cpu_started = time.perf_counter(), time.thread_time()
            backend.search(SearchQuery(text="", limit=10, access_modes=("public",)))
            r["first_query_ms"] = round((time.perf_counter() - started) * 1000, 1)
            r["first_query_cpu_ms"] = round((time.thread_time() - cpu_started) * 1000, 1)
        for concurrency, order in ((1, kinds), (8, kinds[::-1])):
            for kind in order:
                out[kind][f"concurrency_{concurrency}"] = {
                    **run_queries(backends[kind], args.queries, concurrency),
                    "load_average": round(os.getloadavg()[0], 1)}
                out[kind][f"rss_mb_after_c{concurrency}"] = _rss_mb()
        for kind in kinds:
            out[kind].update(per_kind(backends[kind]))
            out[kind]["load_average_per_kind"] = round(os.getloadavg()[0], 1)
    finally:
        for backend in backends.values():
            backend.close()
    return {"embedded_side_by_side": out, "cores": os.cpu_count(),
            "peak_rss_mb_process": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=20000)
    ap.add_argument("--pages", type=int, default=5, help="mean pages per document")
    ap.add_argument("--queries", type=int, default=240)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--dir", type=Path, default=None, help="keep the index here (default: a temp folder)")
    ap.add_argument("--elasticsearch", metavar="URL", default=None,
                    help="benchmark the Elasticsearch backend at URL instead (index kholuu-bench, dropped after)")
    ap.add_argument("--reuse", action="store_true",
                    help="query the embedded index already in --dir (built by an earlier run) without re-indexing "
                         "(--embedded both: build only the one that is missing)")
    ap.add_argument("--embedded", choices=("tantivy", "fts5", "both"), default="tantivy",
                    help="embedded backend: tantivy (the default), the older SQLite FTS5 one, or both side by side "
                         "in one process (same corpus and queries; with --reuse, an index already in --dir is kept; searches in-process)")
    ap.add_argument("--search-workers", type=int, default=None, metavar="N",
                    help="run searches in N worker processes as the web app does (default: KHOLUU_SEARCH_WORKERS, "
                         "i.e. every core this process may use, at most 8); 0 = in the client threads of this process (the old mode)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    if args.search_workers is None:
        args.search_workers = default_search_workers()
    if args.embedded == "both" and not args.elasticsearch:
        with tempfile.TemporaryDirectory(prefix="kholuu-bench-") as tmp:
            print(json.dumps(embedded_side_by_side(args, args.dir or Path(tmp)), ensure_ascii=False, indent=2))
        return 0
    if args.reuse and (args.dir is None or args.elasticsearch):
        ap.error("--reuse needs --dir (embedded index only)")

    with tempfile.TemporaryDirectory(prefix="kholuu-bench-") as tmp:
        folder = args.dir or Path(tmp)
        backend = open_bench_backend(folder, args.elasticsearch, keep=args.reuse, embedded=args.embedded)
        docs = CountedCorpus(args.docs, args.pages, args.seed)
        started, cpu_started = time.perf_counter(), time.process_time()
        n = backend.index(iter(docs)) if not args.reuse else backend.count()
        index_s = max(time.perf_counter() - started, 1e-9)
        index_cpu_s = time.process_time() - cpu_started
        pages = docs.pages
        size = index_bytes(backend, folder)
        backend = with_search_pool(backend, bench_opener(folder, args.elasticsearch, args.embedded),
                                   args.search_workers)
        result = {
            "backend": backend.name, "search_mode": search_mode(backend),
            "search_workers": getattr(backend, "workers", 0), "documents": n, "pages": pages, "reused_index": args.reuse,
            "index_seconds": round(index_s, 1), "docs_per_s": round(n / index_s, 1),
            "pages_per_s": round(pages / index_s, 1), "index_mb": round(size / 2**20, 1),
            "docs_per_cpu_s": round(n / max(index_cpu_s, 1e-9), 1),
            "concurrency_1": run_queries(backend, args.queries, 1),
            "concurrency_8": run_queries(backend, args.queries, 8),
            **per_kind(backend),
            "load_average": round(os.getloadavg()[0], 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        }
        if args.elasticsearch:
            backend.drop()   # type: ignore[attr-defined]
        backend.close()
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        if args.reuse:
            print(f"{result['backend']}: existing index of {n} documents, {result['index_mb']} MB (not re-indexed)")
        else:
            print(f"{result['backend']}: {n} documents, {pages} pages indexed in {result['index_seconds']} s "
                  f"({result['docs_per_s']} docs/s, {result['pages_per_s']} pages/s; {result['docs_per_cpu_s']} docs "
                  f"per CPU second), index {result['index_mb']} MB")
        print(f"  searches: {result['search_mode']}")
        for c in ("concurrency_1", "concurrency_8"):
            r = result[c]
            print(f"  {c}: p50 {r['p50_ms']} ms, p95 {r['p95_ms']} ms, p99 {r['p99_ms']} ms, {r['qps']} queries/s; "
                  f"CPU per query p50 {r['cpu_p50_ms']} ms, p95 {r['cpu_p95_ms']} ms, all processes {r['cpu_all_ms_per_query']} ms "
                  f"a query")
        for name in ("p50", "p95", "p50_cpu", "p95_cpu"):
            print(f"  {name.replace('_', ' ')} by kind: "
                  + ", ".join(f"{k} {v} ms" for k, v in result[f"{name}_by_kind_ms"].items()))
        print(f"  load average during the run: {result['load_average']} ({os.cpu_count()} cores)")
        print(f"  peak memory {result['peak_rss_mb']} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
