"""End to end through Dagster with real Tesseract: scans in, searchable documents out.

The project's own sample documents are rendered to scans, registered as a batch
and run through every asset in process; then the catalog, the searchable PDFs,
the search index and the Dagster instance are checked, and the batch is run
again to prove re-runs are idempotent and reuse the OCR.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from dagster import DagsterRunStatus, RunsFilter

import indexing
from indexing.base import SearchQuery
from kholuu.catalog import Catalog
from kholuu.samples import load_samples, write_sample_batch
from kholuu.settings import Settings
from pipelines.cli import add_batch
from pipelines.instance import get_instance
from pipelines.runner import run_batch

pytestmark = pytest.mark.slow

SAMPLE_IDS = ("vt-2016-cv-tieu-chi-ntm", "tu-2021-ct-van-thu-luu-tru")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    docs = [d for d in load_samples() if d.id in SAMPLE_IDS]
    assert len(docs) == 2
    return write_sample_batch(tmp_path_factory.mktemp("scans") / "hop-01", docs, formats=("png",))


def _search(settings: Settings, text: str) -> list[int]:
    backend = indexing.open_backend(settings)
    try:
        return [h.id for h in backend.search(SearchQuery(text=text, facets=False)).hits]
    finally:
        backend.close()


def test_batch_runs_end_to_end_and_reruns_idempotently(settings: Settings, rendered: Path) -> None:
    samples = {d.id: d for d in load_samples()}
    batch_id, key = add_batch(settings, "F01", rendered)
    outcome = run_batch(settings, key)
    assert outcome.success, outcome.message
    assert outcome.state == "done"

    catalog = Catalog(settings.database_url)
    docs = catalog.documents(batch_id)
    assert [d.number_symbol for d in docs] == [samples[i].number_symbol for i in SAMPLE_IDS]
    assert [d.doc_type for d in docs] == [samples[i].doc_type for i in SAMPLE_IDS]
    assert docs[0].issued_date == samples[SAMPLE_IDS[0]].issued_date
    assert docs[0].archive_file is not None and docs[0].archive_file.number == samples[SAMPLE_IDS[0]].file_number
    pages = catalog.batch_pages(batch_id)
    assert all(p.status == "ocr" and p.confidence > 60 and p.words for p in pages)
    assert all(p.document_id is not None for p in pages)

    # searchable PDF: the text layer reads back with its diacritics
    pdf = Path(docs[0].pdf_path)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "nông thôn" in text.lower()

    # search with and without diacritics finds the same document
    ntm_id = docs[0].id
    with_marks = _search(settings, "nông thôn mới")
    assert with_marks and with_marks[0] == ntm_id
    assert _search(settings, "nong thon moi") == with_marks

    # the run is recorded in the persistent instance, with its checks passed
    instance = get_instance(settings)
    runs = instance.get_runs(RunsFilter(tags={"dagster/partition": key}))
    assert [r.status for r in runs] == [DagsterRunStatus.SUCCESS]
    instance.dispose()

    # re-run: same documents (same ids), no duplicates, OCR not redone
    before = {p.id: p.updated_at for p in pages}
    pdf_written = pdf.stat().st_mtime_ns
    again = run_batch(settings, key)
    assert again.success and again.state == "done"
    assert [d.id for d in catalog.documents(batch_id)] == [d.id for d in docs]
    assert {p.id: p.updated_at for p in catalog.batch_pages(batch_id)} == before
    assert pdf.stat().st_mtime_ns == pdf_written  # unchanged document: PDF not rewritten
    assert _search(settings, "nông thôn mới") == with_marks

    # after a settings change, re-read only the pages under a confidence: here none are
    import dataclasses

    other = dataclasses.replace(settings, ocr_target_dpi=400)
    selective = run_batch(other, key, reocr_below=10.0)
    assert selective.success, selective.message
    assert {p.id: p.updated_at for p in catalog.batch_pages(batch_id)} == before
    catalog.dispose()

