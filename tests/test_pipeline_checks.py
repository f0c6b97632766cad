"""The catalog-against-index check asks the search index, not the indexing step.

A batch runs through Dagster with real Tesseract; one of its documents is then
deleted from the index behind the pipeline's back. The check, run again on its
own, must see the loss (naming the document), and a re-run must mend it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import indexing
from kholuu.catalog import Catalog
from kholuu.samples import load_samples, write_sample_batch
from kholuu.settings import Settings
from pipelines.cli import add_batch
from pipelines.runner import check_batch, run_batch

pytestmark = pytest.mark.slow

SAMPLE_IDS = ("vt-2016-cv-tieu-chi-ntm", "tu-2021-ct-van-thu-luu-tru")


def _index_check(settings: Settings, key: str) -> tuple[bool, dict]:
    [outcome] = [c for c in check_batch(settings, key) if c.name == "catalog_matches_index"]
    return outcome.passed, outcome.metadata


def test_check_fails_when_a_document_is_missing_from_the_index(settings: Settings, tmp_path: Path) -> None:
    docs = [d for d in load_samples() if d.id in SAMPLE_IDS]
    folder = write_sample_batch(tmp_path / "hop-idx", docs, formats=("png",))
    batch_id, key = add_batch(settings, "F01", folder)
    outcome = run_batch(settings, key)
    assert outcome.success and outcome.state == "done", outcome.message

    catalog = Catalog(settings.database_url)
    ids = [d.id for d in catalog.documents(batch_id)]
    catalog.dispose()
    assert len(ids) == 2
    passed, meta = _index_check(settings, key)
    assert passed and meta["catalog"] == 2 and meta["index"] == 2 and meta["missing_document_ids"] == []

    backend = indexing.open_backend(settings)
    try:
        backend.delete([ids[1]])          # lost behind the pipeline's back
    finally:
        backend.close()
    passed, meta = _index_check(settings, key)
    assert not passed
    assert meta["catalog"] == 2 and meta["index"] == 1 and meta["missing_document_ids"] == [ids[1]]

    again = run_batch(settings, key)      # a re-run puts it back; OCR and documents reused
    assert again.success and again.state == "done", again.message
    assert _index_check(settings, key)[0]
