"""``kholuu search`` and ``kholuu index rebuild``.

The command line is a trusted local tool, but it still shows public documents
only (``access_modes=("public",)``), like an anonymous reader of the web page.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

from indexing.base import Hit, SearchQuery
from kholuu.errors import QuerySyntaxError, SearchError

_MARK_RE = re.compile(r"<mark>(.*?)</mark>", re.S)


def _plain(snippet: str, tty: bool) -> str:
    """A snippet for the terminal: marks as ANSI bold (terminal) or [..]."""
    import html

    text = _MARK_RE.sub((lambda m: f"\x1b[1m{m.group(1)}\x1b[0m") if tty else (lambda m: f"[{m.group(1)}]"), snippet)
    return html.unescape(text)


def hit_json(hit: Hit) -> dict[str, Any]:
    return {
        "id": hit.id, "doc_type": hit.doc_type, "number_symbol": hit.number_symbol,
        "issued_date": hit.issued_date.isoformat() if hit.issued_date else None,
        "subject": hit.subject, "fonds": hit.fonds, "score": hit.score, "snippet": hit.snippet,
        "issuer": hit.issuer, "best_page": hit.best_page, "citation": hit.citation,
    }


def run_search(args: Any, settings: Any) -> int:
    import indexing
    from kholuu.catalog import Catalog

    limit = int(getattr(args, "limit", 10) or 10)
    if not 1 <= limit <= 1000:
        raise SearchError(f"--limit {limit}: expected a number from 1 to 1000")
    fonds = getattr(args, "fonds", None)
    filters = (fonds, getattr(args, "doc_type", None), getattr(args, "year_from", None), getattr(args, "year_to", None))
    if not (args.query or "").strip() and not any(f is not None and f != "" for f in filters):
        raise QuerySyntaxError("câu tìm kiếm trống: hãy nhập từ cần tìm hoặc một bộ lọc (--fonds, --type, --from, --to) "
                               "(empty query: give words to search for, or a filter to list documents)")
    if fonds:
        catalog = Catalog(settings.database_url)
        try:
            catalog.get_fonds(fonds)          # unknown fonds → CatalogError, one line
        finally:
            catalog.dispose()
    query = SearchQuery(text=args.query, fonds=fonds, doc_type=getattr(args, "doc_type", None),
                        year_from=getattr(args, "year_from", None), year_to=getattr(args, "year_to", None),
                        limit=limit, access_modes=("public",), facets=False)
    backend = indexing.open_backend(settings)
    try:
        result = indexing.search(backend, query)
        empty_index = result.total == 0 and backend.count() == 0
    finally:
        backend.close()
    if getattr(args, "json", False):
        json.dump({"total": result.total, "hits": [hit_json(h) for h in result.hits]}, sys.stdout,
                  ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return 0
    out = sys.stdout
    tty = out.isatty()
    if not result.total:
        out.write(f"Không tìm thấy tài liệu nào cho «{args.query}».\n")
        if empty_index:
            out.write("Chỉ mục tìm kiếm đang trống: chạy `kholuu index rebuild` (hoặc `kholuu batch run`).\n")
        return 0
    out.write(f"Tìm thấy {result.total} tài liệu cho «{args.query}» (hiện {len(result.hits)}):\n\n")
    for i, h in enumerate(result.hits, 1):
        title = " ".join(x for x in (h.doc_type, h.number_symbol) if x) or f"Tài liệu #{h.id}"
        date = h.issued_date.strftime("%d/%m/%Y") if h.issued_date else "không rõ ngày"
        out.write(f"{i}. {title} — {date} — {h.citation}\n")
        if h.subject:
            subject = " ".join(h.subject.split())
            out.write(f"   {subject[:200]}{'…' if len(subject) > 200 else ''}\n")
        if h.snippet:
            out.write(f"   {_plain(h.snippet, tty)}\n")
        out.write("\n")
    return 0


def run_rebuild(args: Any, settings: Any) -> int:
    import indexing
    from kholuu.catalog import Catalog

    catalog = Catalog(settings.database_url)
    try:
        backend = indexing.open_backend(settings)
    except SearchError as exc:
        if settings.elasticsearch_url:
            catalog.dispose()
            raise
        # the embedded index is derived data: an unreadable file is replaced
        sys.stdout.write(f"Chỉ mục hỏng, tạo lại: {exc}\n")
        indexing.discard_embedded_index(settings)
        backend = indexing.open_backend(settings)
    try:
        total = catalog.count_documents()
        sys.stdout.write(f"Lập lại chỉ mục từ danh mục: {total} tài liệu ({backend.name})\n")

        def progress(n: int) -> None:
            sys.stdout.write(f"  … {n}/{total}\n")
            sys.stdout.flush()

        n = indexing.rebuild_index(catalog, backend, progress=progress)
        if not settings.elasticsearch_url and indexing.drop_legacy_index(settings):
            sys.stdout.write("Đã xóa chỉ mục SQLite FTS5 cũ (index/search.sqlite).\n")
        sys.stdout.write(f"Đã lập chỉ mục {n} tài liệu; chỉ mục có {backend.count()} tài liệu.\n")
    finally:
        backend.close()
        catalog.dispose()
    return 0


def index_status(catalog: Any, backend: Any) -> dict[str, Any]:
    """Documents in the catalog vs in the index, and which differ."""
    from sqlalchemy import select

    from kholuu.catalog import DocumentRow

    with catalog.session() as s:
        rows = s.execute(select(DocumentRow.id, DocumentRow.indexed_at)).all()
    in_catalog = {r[0] for r in rows}
    status: dict[str, Any] = {"backend": backend.name, "catalog": len(in_catalog), "index": backend.count(),
                              "never_indexed": sum(1 for r in rows if r[1] is None)}
    ids = getattr(backend, "ids", None)
    if ids is not None:
        in_index = set(ids())
        status["missing"] = sorted(in_catalog - in_index)[:100]
        status["stale"] = sorted(in_index - in_catalog)[:100]
        status["missing_count"] = len(in_catalog - in_index)
        status["stale_count"] = len(in_index - in_catalog)
    return status


def run_status(args: Any, settings: Any) -> int:
    import indexing
    from kholuu.catalog import Catalog

    catalog = Catalog(settings.database_url)
    backend = indexing.open_backend(settings)
    try:
        st = index_status(catalog, backend)
    finally:
        backend.close()
        catalog.dispose()
    if getattr(args, "json", False):
        json.dump(st, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return 0
    sys.stdout.write(f"Danh mục: {st['catalog']} tài liệu; chỉ mục ({st['backend']}): {st['index']} tài liệu\n")
    if "missing_count" in st:
        sys.stdout.write(f"Chưa có trong chỉ mục: {st['missing_count']}; "
                         f"thừa trong chỉ mục (đã xóa khỏi danh mục): {st['stale_count']}\n")
    if st.get("missing_count") or st.get("stale_count") or st["never_indexed"]:
        sys.stdout.write("Chạy `kholuu index rebuild` để đồng bộ.\n")
    return 0
