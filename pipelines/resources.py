"""Dagster resources: the kholuu settings, catalog and stage context.

The resource carries the settings as plain config (so the Dagster UI shows them
and runs launched elsewhere get the same values) and builds the heavy objects
(catalog engine, backend) lazily, once per process.
"""

from __future__ import annotations

from functools import cached_property
from typing import Callable

from dagster import ConfigurableResource

from kholuu.settings import Settings, load_settings
from kholuu.stages import StageContext


class KholuuResource(ConfigurableResource):
    """Settings for every stage; ``KHOLUU_*`` variables are read at the edge."""

    home: str
    database_url: str
    elasticsearch_url: str = ""
    ocr_lang: str = "vie"
    tessdata_dir: str = ""
    ocr_workers: int = 0
    inbox_stable_seconds: float = 30.0

    @classmethod
    def from_settings(cls, settings: Settings) -> "KholuuResource":
        return cls(
            home=str(settings.home),
            database_url=settings.database_url,
            elasticsearch_url=settings.elasticsearch_url or "",
            ocr_lang=settings.ocr_lang,
            tessdata_dir=str(settings.tessdata_dir or ""),
            ocr_workers=settings.ocr_workers,
        )

    def settings(self) -> Settings:
        env = {
            "KHOLUU_HOME": self.home,
            "KHOLUU_DATABASE_URL": self.database_url,
            "KHOLUU_ELASTICSEARCH_URL": self.elasticsearch_url,
            "KHOLUU_OCR_LANG": self.ocr_lang,
            "KHOLUU_TESSDATA_DIR": self.tessdata_dir,
        }
        if self.ocr_workers:
            env["KHOLUU_OCR_WORKERS"] = str(self.ocr_workers)
        return load_settings(env)

    def stage_context(self, progress: Callable[[str], None]) -> StageContext:
        return StageContext.from_settings(self.settings(), progress=progress)
