"""Dagster resources: the kholuu settings, catalog and stage context.

The resource carries the settings as plain config (so the Dagster UI shows them
and runs launched elsewhere get the same values) and builds the heavy objects
(catalog engine, backend) lazily, once per process.
"""

from __future__ import annotations

import json
from typing import Callable

from dagster import ConfigurableResource

from kholuu.settings import Settings, load_settings, settings_env
from kholuu.stages import StageContext


class KholuuResource(ConfigurableResource):
    """Settings for every stage, as the ``KHOLUU_*`` variables read at the edge.

    Carrying the whole set (not a hand-picked few) guarantees that a run
    launched from the UI, a sensor or ``kholuu batch run`` sees exactly the
    settings of the process that configured it.
    """

    env_json: str  # JSON object of KHOLUU_* variables (a string: resources must hash)
    inbox_stable_seconds: float = 30.0

    @classmethod
    def from_settings(cls, settings: Settings) -> "KholuuResource":
        return cls(env_json=json.dumps(settings_env(settings), ensure_ascii=False, sort_keys=True))

    def settings(self) -> Settings:
        return load_settings(json.loads(self.env_json))

    def stage_context(self, progress: Callable[[str], None]) -> StageContext:
        return StageContext.from_settings(self.settings(), progress=progress)
