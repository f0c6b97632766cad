"""The Dagster instance kept under the data directory (``DAGSTER_HOME``)."""

from __future__ import annotations

import shutil
from pathlib import Path

from dagster import DagsterInstance

from kholuu.settings import Settings

REPO_DAGSTER_YAML = Path(__file__).resolve().parent.parent / "dagster.yaml"
MINIMAL_DAGSTER_YAML = "telemetry:\n  enabled: false\n"


def prepare_dagster_home(settings: Settings) -> Path:
    """Create ``$KHOLUU_HOME/dagster`` with the project's dagster.yaml."""
    home = settings.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    target = home / "dagster.yaml"
    if not target.exists():
        if REPO_DAGSTER_YAML.is_file():
            shutil.copyfile(REPO_DAGSTER_YAML, target)
        else:  # installed without the repository checkout
            target.write_text(MINIMAL_DAGSTER_YAML, encoding="utf-8")
    return home


def get_instance(settings: Settings) -> DagsterInstance:
    """The persistent instance: runs and their logs show in the Dagster UI."""
    home = prepare_dagster_home(settings)
    return DagsterInstance.from_config(str(home))
