"""Fault injection: a batch that crashes half way resumes with nothing lost or duplicated."""

from __future__ import annotations

from pathlib import Path

import pytest

from kholuu.catalog import Catalog
from kholuu.samples import load_samples, write_sample_batch
from kholuu.settings import Settings
from pipelines.cli import add_batch
from pipelines.runner import run_batch

pytestmark = pytest.mark.slow


def test_crash_during_ocr_then_resume(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    docs = [d for d in load_samples() if d.id in ("hh-2019-ttr-huyen-ntm", "tu-1981-ct-khoan-san-pham")]
    folder = write_sample_batch(tmp_path / "hop-03", docs, formats=("png",))
    batch_id, key = add_batch(settings, "F01", folder)

    real_record = Catalog.record_ocr
    calls = {"n": 0}

    def crash_after_first_page(self, page_id, ocr):  # the machine dies while saving page 2
        calls["n"] += 1
        if calls["n"] >= 2:
            raise RuntimeError("simulated crash while saving OCR")
        return real_record(self, page_id, ocr)

    monkeypatch.setattr(Catalog, "record_ocr", crash_after_first_page)
    crashed = run_batch(settings, key)
    assert not crashed.success and crashed.state == "failed"
    assert "simulated crash" in crashed.message
    catalog = Catalog(settings.database_url)
    assert sorted(p.status for p in catalog.batch_pages(batch_id)) == ["new", "ocr"]  # one page saved
    assert catalog.documents(batch_id) == []

    monkeypatch.setattr(Catalog, "record_ocr", real_record)
    resumed = run_batch(settings, key)
    assert resumed.success and resumed.state == "done", resumed.message
    pages = catalog.batch_pages(batch_id)
    assert [p.status for p in pages] == ["ocr", "ocr"]
    docs_after = catalog.documents(batch_id)
    assert [d.number_symbol for d in docs_after] == [d.number_symbol for d in docs]
    assert sorted(p.document_id for p in pages) == sorted(d.id for d in docs_after)
    catalog.dispose()
