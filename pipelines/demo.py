"""``kholuu demo``: sample scans in, searchable documents out, page served.

Renders the project's own sample Party documents to page images (one batch per
fonds), runs every batch through the Dagster assets in process, builds the
embedded index and serves the search page. Running it again reuses what is
there: the same folders are the same batches, and OCR comes from the cache.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict

from kholuu.catalog import Catalog
from kholuu.settings import Settings

EXAMPLE_QUERIES = ("nông thôn mới", "nong thon moi")


def build_demo(settings: Settings) -> list[str]:
    """Render, register and process the demo batches; return their keys."""
    from kholuu.samples import load_samples, write_sample_batch
    from pipelines.cli import add_batch, show_progress
    from pipelines.runner import run_batch

    show_progress()
    settings.ensure_dirs()
    catalog = Catalog(settings.database_url)
    catalog.ensure_fonds_loaded()
    catalog.dispose()
    by_fonds = defaultdict(list)
    for doc in load_samples():
        by_fonds[doc.fonds].append(doc)
    keys = []
    for fonds, docs in sorted(by_fonds.items()):
        folder = settings.home / "demo-scans" / fonds
        if not (folder / "manifest.csv").is_file():
            print(f"Tạo ảnh quét mẫu cho phông {fonds} ({len(docs)} văn bản)…", file=sys.stderr)
            write_sample_batch(folder, docs)
        _, key = add_batch(settings, fonds, folder)
        started = time.monotonic()
        print(f"Xử lý lô {key}…", file=sys.stderr)
        outcome = run_batch(settings, key)
        print(f"Lô {key}: {outcome.state} — {outcome.message} ({time.monotonic() - started:.0f} s)",
              file=sys.stderr)
        if not outcome.success:
            raise RuntimeError(f"demo batch {key} failed: {outcome.message}")
        keys.append(key)
    return keys


def run_demo(args: argparse.Namespace, settings: Settings) -> int:
    keys = build_demo(settings)
    catalog = Catalog(settings.database_url)
    n_docs = catalog.count_documents()
    catalog.dispose()
    host = args.host or settings.host
    port = args.port or settings.port
    url = f"http://{host}:{port}"
    print(f"Đã xử lý {len(keys)} lô, {n_docs} văn bản. Dữ liệu: {settings.home}")
    print(f"Trang tra cứu: {url}/search")
    for q in EXAMPLE_QUERIES:
        print(f"  Thử: {url}/search?q={q.replace(' ', '+')}")
    if args.no_serve:
        return 0
    from search_ui.cli import serve

    serve(settings, host, port)
    return 0
