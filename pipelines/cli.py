"""``kholuu batch add|run|list``: the archivist's batch commands."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from kholuu.catalog import Catalog
from kholuu.errors import InputFileError
from kholuu.manifest import scan_folder
from kholuu.settings import Settings

STATE_LABELS = {"registered": "đã đăng ký", "running": "đang chạy", "done": "xong",
                "partial": "xong một phần", "failed": "lỗi"}


def show_progress() -> None:
    """Print stage progress lines (Vietnamese) on stderr."""
    logger = logging.getLogger("kholuu.progress")
    if not any(getattr(h, "_kholuu", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("  %(message)s"))
        handler._kholuu = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


def add_batch(settings: Settings, fonds: str, path: str | Path) -> tuple[int, str]:
    """Register a folder as a batch of a fonds; returns (id, key). Idempotent."""
    folder = Path(path).expanduser().resolve()
    layout = scan_folder(folder)  # validates the folder and its manifest now, not mid-run
    settings.ensure_dirs()
    catalog = Catalog(settings.database_url)
    catalog.ensure_fonds_loaded()
    manifest = {"files": len({e.file for e in layout.entries}), "has_manifest": layout.has_manifest}
    batch = catalog.create_batch(fonds, str(folder), manifest=manifest)
    catalog.dispose()
    return batch.id, batch.key


def run_batch_add(args: argparse.Namespace, settings: Settings) -> int:
    if not Path(args.path).exists():
        raise InputFileError(args.path, "no such folder")
    batch_id, key = add_batch(settings, args.fonds, args.path)
    print(f"Đã đăng ký lô {key} (phông {args.fonds}) từ {Path(args.path).resolve()}")
    print(batch_id)
    return 0


def run_batch_run(args: argparse.Namespace, settings: Settings) -> int:
    from pipelines.runner import run_batch

    show_progress()
    print(f"Đang xử lý lô {args.batch}…", file=sys.stderr)
    outcome = run_batch(settings, args.batch, reocr_below=getattr(args, "reocr_below", None))
    label = STATE_LABELS.get(outcome.state, outcome.state)
    print(f"Lô {outcome.batch_key}: {label} — {outcome.message} (Dagster run {outcome.run_id[:8]})")
    return 0 if outcome.state in ("done", "partial") else 1


SHOWN_ERRORS = 10   # per batch in the table; --json lists them all


def failed_files(catalog: Catalog, batch_id: int) -> list[tuple[str, str]]:
    """(file, reason) of the batch's failed pages, in page order: the quarantine list.

    Reads two columns only: a batch of thousands of pages must not load its
    OCR words to say which files were refused.
    """
    from sqlalchemy import select

    from kholuu.catalog import PageRow

    with catalog.session() as s:
        return [(f, e or "") for f, e in s.execute(
            select(PageRow.source_path, PageRow.error)
            .where(PageRow.batch_id == batch_id, PageRow.status == "error").order_by(PageRow.seq))]


def run_batch_list(args: argparse.Namespace, settings: Settings) -> int:
    catalog = Catalog(settings.database_url)
    rows = catalog.list_batches()
    errors = {r.id: failed_files(catalog, r.id) for r in rows if r.pages_failed}
    if args.json:
        print(json.dumps([{**vars(r), "errors": [{"file": f, "reason": e} for f, e in errors.get(r.id, [])]}
                          for r in rows], ensure_ascii=False, indent=2))
        return 0
    if not rows:
        print("Chưa có lô nào. Đăng ký: kholuu batch add --fonds F01 THƯ_MỤC")
        return 0
    print(f"{'ID':>4}  {'Lô':16} {'Phông':6} {'Trạng thái':14} {'Trang':>11} {'Lỗi':>4} {'Văn bản':>7}")
    for r in rows:
        pages = f"{r.pages_done}/{r.pages}"
        print(f"{r.id:>4}  {r.key:16} {r.fonds:6} {STATE_LABELS.get(r.state, r.state):14} "
              f"{pages:>11} {r.pages_failed:>4} {r.documents:>7}")
        failed = errors.get(r.id, [])
        for file, reason in failed[:SHOWN_ERRORS]:
            print(f"        cách ly: {reason if file in reason else f'{file}: {reason}'}")
        if len(failed) > SHOWN_ERRORS:
            print(f"        … và {len(failed) - SHOWN_ERRORS} tệp lỗi khác (kholuu batch list --json)")
    return 0
