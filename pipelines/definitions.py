"""The Dagster code location: ``dagster dev -m pipelines.definitions``.

Settings are read from the environment here, at the edge, once.
"""

from __future__ import annotations

from dagster import Definitions

from kholuu.catalog import Catalog
from kholuu.settings import load_settings
from pipelines.fonds import fonds_assets
from pipelines.assets import ALL_ASSETS, ALL_CHECKS
from pipelines.jobs import batch_job, check_job
from pipelines.resources import KholuuResource
from pipelines.sensors import inbox_sensor


def build_definitions() -> Definitions:
    settings = load_settings()
    settings.ensure_dirs()
    catalog = Catalog(settings.database_url)
    catalog.ensure_fonds_loaded()
    codes = [f.code for f in catalog.list_fonds()]
    catalog.dispose()
    return Definitions(
        assets=[*ALL_ASSETS, *ALL_CHECKS, *fonds_assets(codes)],
        jobs=[batch_job, check_job],
        sensors=[inbox_sensor],
        resources={"kholuu": KholuuResource.from_settings(settings)},
    )


defs = build_definitions()
