"""Fonds-level rollups: static partitions from the catalog, statistics per fonds."""

from __future__ import annotations

import pytest
from dagster import materialize

from kholuu.catalog import Catalog
from kholuu.model import DocumentMetadata
from kholuu.settings import Settings
from pipelines.fonds import fonds_assets
from pipelines.resources import KholuuResource


def test_fonds_summary_counts_one_fonds(settings: Settings) -> None:
    catalog = Catalog(settings.database_url)
    catalog.ensure_fonds_loaded()
    batch = catalog.create_batch("F01", "/scans/hop-1")
    ids = [catalog.upsert_page(batch.id, i, f"p{i}.png", 1, status="ocr", confidence=c, text="x")
           for i, c in ((1, 90.0), (2, 70.0))]
    catalog.upsert_page(batch.id, 3, "bad.png", 1, status="error", error="bad.png: truncated")
    catalog.upsert_document(batch.id, 1, ids, "x", DocumentMetadata(doc_type="Chỉ thị"), [])
    other = catalog.create_batch("F02", "/scans/hop-2")
    catalog.upsert_page(other.id, 1, "q.png", 1, status="ocr", confidence=10.0)

    result = materialize(fonds_assets(["F01", "F02"]), partition_key="F01",
                         resources={"kholuu": KholuuResource.from_settings(settings)})
    assert result.success
    meta = result.asset_materializations_for_node("fonds_summary")[0].metadata
    detail = meta["detail"].data
    assert detail["pages_by_status"] == {"ocr": 2, "error": 1}
    assert detail["mean_confidence"] == 80.0          # F02's page does not count
    assert (detail["documents"], detail["documents_not_indexed"]) == (1, 1)
    catalog.dispose()


def test_code_location_has_a_partition_per_fonds(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KHOLUU_HOME", str(settings.home))
    from pipelines.definitions import build_definitions

    defs = build_definitions()
    fonds_def = defs.resolve_assets_def("fonds_summary")
    assert len(fonds_def.partitions_def.get_partition_keys()) == 41
    assert defs.resolve_sensor_def("inbox_sensor") is not None
