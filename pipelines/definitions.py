"""The Dagster code location: ``dagster dev -m pipelines.definitions``.

Settings are read from the environment here, at the edge, once.
"""

from __future__ import annotations

from dagster import Definitions, define_asset_job

from kholuu.settings import load_settings
from pipelines.assets import ALL_ASSETS, BATCHES
from pipelines.resources import KholuuResource

batch_job = define_asset_job("process_batch", selection=ALL_ASSETS, partitions_def=BATCHES,
                             description="Pages → OCR → documents → PDFs and index, for one batch.")


def build_definitions() -> Definitions:
    settings = load_settings()
    return Definitions(
        assets=ALL_ASSETS,
        jobs=[batch_job],
        resources={"kholuu": KholuuResource.from_settings(settings)},
    )


defs = build_definitions()
