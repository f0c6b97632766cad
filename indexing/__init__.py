"""indexing: catalog documents → search index; ``SearchQuery`` → ``SearchResult``.

The index is derived data: everything it holds is read from the catalog by
``build_index_documents`` and can be rebuilt at any time. Two backends sit
behind ``indexing.base.SearchBackend``: the embedded tantivy index (default,
``indexing.tantivy_index``, in ``$KHOLUU_HOME/index/tantivy``) and
Elasticsearch (``indexing.elastic``, when ``KHOLUU_ELASTICSEARCH_URL`` is set).
The older embedded SQLite FTS5 backend (``indexing.embedded``) still passes
the same contract and is used by the benchmark for comparison only.
"""

from __future__ import annotations

import importlib
import importlib.util
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, Sequence

from indexing.base import IndexDocument, IndexPage, SearchBackend, SearchQuery, SearchResult
from kholuu.errors import SearchError

if TYPE_CHECKING:
    from kholuu.catalog import Catalog
    from kholuu.settings import Settings

CHUNK = 200
ELASTIC_MODULE = "indexing.elastic"   # the optional Elasticsearch backend (ElasticBackend(settings))

__all__ = ["open_backend", "build_index_documents", "index_documents", "rebuild_index", "search"]


def discard_embedded_index(settings: "Settings") -> None:
    """Delete a damaged embedded index (derived data: ``kholuu index rebuild`` refills it)."""
    shutil.rmtree(settings.embedded_index_dir, ignore_errors=True)


def drop_legacy_index(settings: "Settings") -> bool:
    """Delete the SQLite FTS5 index file of older versions (``index/search.sqlite``)
    once the tantivy index has been rebuilt from the catalog. True if there was one."""
    legacy = settings.index_dir / "search.sqlite"
    found = legacy.exists()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{legacy}{suffix}").unlink(missing_ok=True)
    return found


def open_backend(settings: "Settings") -> SearchBackend:
    """The configured backend: embedded (tantivy) unless an Elasticsearch URL is set."""
    if not settings.elasticsearch_url:
        from indexing.tantivy_index import TantivyBackend

        return TantivyBackend(settings.embedded_index_dir)
    if importlib.util.find_spec(ELASTIC_MODULE) is None:
        raise SearchError(f"KHOLUU_ELASTICSEARCH_URL={settings.elasticsearch_url}: this installation has no "
                          f"Elasticsearch backend ({ELASTIC_MODULE}); unset the variable to use the embedded index")
    module = importlib.import_module(ELASTIC_MODULE)
    return module.ElasticBackend(settings)


def _chunks(ids: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for i in range(0, len(ids), size):
        yield ids[i:i + size]


def build_index_documents(catalog: "Catalog", document_ids: Iterable[int] | None = None) -> Iterator[IndexDocument]:
    """Index documents read from the catalog, pages in order, in chunks (constant memory)."""
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from kholuu.catalog import ArchiveFileRow, DocumentRow, FondsRow, PageRow

    if document_ids is not None:
        ids = sorted({int(i) for i in document_ids})
    else:
        with catalog.session() as s:
            ids = list(s.scalars(select(DocumentRow.id).order_by(DocumentRow.id)))
    for chunk in _chunks(ids, CHUNK):
        with catalog.session() as s:
            docs = s.scalars(select(DocumentRow).options(
                selectinload(DocumentRow.entities), selectinload(DocumentRow.fonds),
                selectinload(DocumentRow.archive_file)).where(DocumentRow.id.in_(chunk))
                .order_by(DocumentRow.id)).all()
            pages: dict[int, list[IndexPage]] = {}
            for p in s.scalars(select(PageRow).where(PageRow.document_id.in_(chunk))
                               .order_by(PageRow.document_id, PageRow.page_in_document)):
                pages.setdefault(p.document_id, []).append(IndexPage(
                    page_id=p.id, page_no=p.page_in_document or len(pages.get(p.document_id, [])) + 1,
                    text=p.text or ""))   # the backend normalizes (idempotent)
            for d in docs:
                fonds: FondsRow = d.fonds
                archive_file: ArchiveFileRow | None = d.archive_file
                yield IndexDocument(
                    id=d.id, fonds=fonds.code, fonds_name=fonds.name,
                    register=archive_file.register if archive_file else None,
                    file_number=archive_file.number if archive_file else None,
                    doc_type=d.doc_type, number_symbol=d.number_symbol, issuer=d.issuer, place=d.place,
                    issued_date=d.issued_date, subject=d.subject, signer_name=d.signer_name,
                    access_mode=d.access_mode or "public", pages=pages.get(d.id, []),
                    entities=[(e.label, e.canonical or e.text) for e in d.entities],
                    segmented=d.segmented)


def index_documents(catalog: "Catalog", backend: SearchBackend, document_ids: Iterable[int] | None = None,
                    *, progress: Callable[[int], None] | None = None) -> int:
    """Index (add or replace) catalog documents and mark them indexed. Returns how many.

    An embedded index that was never built whole from the catalog (first use,
    an upgrade from the SQLite FTS5 index, a format change) is rebuilt whole
    here, so the pipeline and the demo never leave earlier documents out of it.
    """
    if getattr(backend, "complete", True) is False:
        wanted = None if document_ids is None else {int(i) for i in document_ids}
        total = rebuild_index(catalog, backend, progress=progress)
        return total if wanted is None else len(wanted & set(backend.present(sorted(wanted))))
    n = 0
    batch: list[IndexDocument] = []

    def flush() -> None:
        nonlocal n, batch
        if batch:
            backend.index(batch)
            catalog.mark_indexed([d.id for d in batch])
            n += len(batch)
            batch = []
            if progress:
                progress(n)

    for doc in build_index_documents(catalog, document_ids):
        batch.append(doc)
        if len(batch) >= CHUNK:
            flush()
    flush()
    return n


def rebuild_index(catalog: "Catalog", backend: SearchBackend, *,
                  progress: Callable[[int], None] | None = None) -> int:
    """Replace the whole index with the catalog's documents.

    A backend with ``rebuild`` swaps atomically (the embedded one in one
    transaction); otherwise clear, then index.
    """
    rebuild = getattr(backend, "rebuild", None)
    if rebuild is None:
        backend.clear()
        return index_documents(catalog, backend, progress=progress)
    indexed: list[int] = []

    def docs() -> Iterator[IndexDocument]:
        for d in build_index_documents(catalog):
            indexed.append(d.id)
            if progress and len(indexed) % CHUNK == 0:
                progress(len(indexed))
            yield d

    n = rebuild(docs())
    for chunk in _chunks(indexed, 1000):
        catalog.mark_indexed(chunk)
    if progress:
        progress(n)
    return n


def search(backend: SearchBackend, query: SearchQuery) -> SearchResult:
    """Run ``query``; malformed query text raises ``QuerySyntaxError``."""
    return backend.search(query)
