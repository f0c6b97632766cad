"""An Elasticsearch outage during indexing, then recovery: resumable, nothing lost.

The outage is real from the pipeline's side: the batch is pointed at a port
where no server listens (connection refused, as when the cluster is down), so
the index step fails after its retries while the catalog keeps every document.
Pointed at the real test server again, a re-run reuses the OCR and documents
and indexes them.
"""

from __future__ import annotations

import dataclasses
import socket
from pathlib import Path

import pytest

from indexing.base import SearchQuery
from kholuu.catalog import Catalog
from kholuu.samples import load_samples, write_sample_batch
from pipelines.cli import add_batch
from pipelines.runner import run_batch
from test_indexing_elastic import es_settings  # noqa: F401  (the fixture)

pytestmark = pytest.mark.slow


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when the block ends: nothing listens there


def test_outage_during_indexing_then_recovery(es_settings, tmp_path: Path) -> None:
    from indexing.elastic import ElasticBackend

    docs = [d for d in load_samples() if d.id == "vt-2016-cv-tieu-chi-ntm"]
    folder = write_sample_batch(tmp_path / "hop-es", docs, formats=("png",))
    down = dataclasses.replace(es_settings, elasticsearch_url=f"http://127.0.0.1:{_closed_port()}")
    down.ensure_dirs()
    batch_id, key = add_batch(down, "F01", folder)

    failed = run_batch(down, key)
    assert not failed.success and failed.state == "failed"
    assert "search_index" in failed.message
    catalog = Catalog(down.database_url)
    [doc] = catalog.documents(batch_id)           # the work before the outage is kept
    assert doc.indexed_at is None
    pages_before = {p.id: p.updated_at for p in catalog.batch_pages(batch_id)}

    recovered = run_batch(es_settings, key)       # the cluster is back
    assert recovered.success and recovered.state == "done", recovered.message
    assert [d.id for d in catalog.documents(batch_id)] == [doc.id]
    assert {p.id: p.updated_at for p in catalog.batch_pages(batch_id)} == pages_before  # OCR reused
    backend = ElasticBackend(es_settings)
    try:
        result = backend.search(SearchQuery(text="nông thôn mới", facets=False))
        assert [h.id for h in result.hits] == [doc.id]
    finally:
        backend.drop()
        backend.close()
        catalog.dispose()
