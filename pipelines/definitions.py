"""The Dagster code location: ``dagster dev -m pipelines.definitions``.

Settings are read from the environment here, at the edge, once.
"""

from __future__ import annotations

from dagster import Definitions

from kholuu.settings import load_settings
from pipelines.assets import ALL_ASSETS
from pipelines.jobs import batch_job
from pipelines.resources import KholuuResource
from pipelines.sensors import inbox_sensor


def build_definitions() -> Definitions:
    settings = load_settings()
    return Definitions(
        assets=ALL_ASSETS,
        jobs=[batch_job],
        sensors=[inbox_sensor],
        resources={"kholuu": KholuuResource.from_settings(settings)},
    )


defs = build_definitions()
