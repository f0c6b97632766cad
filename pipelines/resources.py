"""Dagster resources: the kholuu settings, catalog and stage context.

The resource carries the settings as plain config (so the Dagster UI shows them
and runs launched elsewhere get the same values) and builds the heavy objects
lazily, once per process: every asset step of a run used to open its own
catalog (a new engine, ``create_all`` and the column check each time).
"""

from __future__ import annotations

import json
import os
import threading
from typing import Callable

from dagster import ConfigurableResource

from kholuu.catalog import Catalog
from kholuu.settings import Settings, load_settings, settings_env
from kholuu.stages import StageContext

_catalogs: dict[tuple[int, str], Catalog] = {}
_catalogs_lock = threading.Lock()


def process_catalog(database_url: str) -> Catalog:
    """The catalog for ``database_url`` in this process, opened on first use.

    Keyed by process id as well: a step process forked by the multiprocess
    executor must not use its parent's engine (pooled connections do not
    survive a fork), so it opens its own, once.
    """
    key = (os.getpid(), database_url)
    with _catalogs_lock:
        catalog = _catalogs.get(key)
        if catalog is None:
            catalog = _catalogs[key] = Catalog(database_url)
        return catalog


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
        settings = self.settings()
        settings.ensure_dirs()
        return StageContext(settings=settings, catalog=process_catalog(settings.database_url), progress=progress)
