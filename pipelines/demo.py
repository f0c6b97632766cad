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


DEMO_EDITOR = "bientap"


def demo_editor(settings: Settings) -> tuple[str, str]:
    """An editor account for trying collections and exports on the demo data.

    The password is random, made once, and kept beside the demo data in a file
    only its owner can read; nothing fixed is ever shipped.
    """
    import secrets

    from kholuu.access import hash_password
    from kholuu.catalog.users import AccessStore

    secret_file = settings.home / "demo-account.txt"
    if secret_file.is_file():
        name, password = secret_file.read_text(encoding="utf-8").split()[:2]
        return name, password
    password = secrets.token_urlsafe(9)
    catalog = Catalog(settings.database_url)
    try:
        AccessStore(catalog).add_user(DEMO_EDITOR, "editor", hash_password(password),
                                      display_name="Biên tập viên (demo)", actor="demo")
    finally:
        catalog.dispose()
    secret_file.write_text(f"{DEMO_EDITOR} {password}\n", encoding="utf-8")
    secret_file.chmod(0o600)
    return DEMO_EDITOR, password


def run_demo(args: argparse.Namespace, settings: Settings) -> int:
    keys = build_demo(settings)
    editor, password = demo_editor(settings)
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
    print(f"Biên tập viên (tập văn kiện, xuất PDF/DOCX): đăng nhập {url}/login "
          f"với {editor} / {password}  (lưu ở {settings.home / 'demo-account.txt'})")
    if args.no_serve:
        return 0
    from search_ui.cli import serve

    serve(settings, host, port)
    return 0
