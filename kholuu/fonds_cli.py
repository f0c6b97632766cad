"""``kholuu fonds load|list``: the fonds list is data the archive edits."""

from __future__ import annotations

import argparse
import json

from kholuu.catalog import Catalog, read_fonds_file
from kholuu.settings import Settings


def run_fonds_load(args: argparse.Namespace, settings: Settings) -> int:
    fonds = read_fonds_file(args.file)
    catalog = Catalog(settings.database_url)
    n = catalog.load_fonds(fonds)
    print(f"Đã nạp {n} phông từ {args.file}")
    return 0


def run_fonds_list(args: argparse.Namespace, settings: Settings) -> int:
    catalog = Catalog(settings.database_url)
    catalog.ensure_fonds_loaded()
    rows = catalog.list_fonds()
    if args.json:
        print(json.dumps([{"code": r.code, "name": r.name, "creator": r.creator,
                           "start_year": r.start_year, "end_year": r.end_year} for r in rows],
                         ensure_ascii=False, indent=2))
        return 0
    for r in rows:
        years = f"{r.start_year or '?'}–{r.end_year or '?'}"
        print(f"{r.code:6} {years:10} {r.name}")
    return 0
