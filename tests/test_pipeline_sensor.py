"""The inbox sensor, evaluated for real with Dagster's sensor context."""

from __future__ import annotations

import os
import time
from pathlib import Path

from dagster import DagsterInstance, RunRequest, SensorResult, SkipReason, build_sensor_context

from kholuu.catalog import Catalog
from kholuu.inbox import ready_folders
from kholuu.settings import Settings
from pipelines.resources import KholuuResource
from pipelines.sensors import inbox_sensor


def _drop(settings: Settings, fonds: str, name: str, *, marker: str | None = "READY", age_s: float = 120) -> Path:
    folder = settings.inbox_dir / fonds / name
    folder.mkdir(parents=True)
    (folder / "p1.png").write_bytes(b"not really a png, the pipeline will quarantine it")
    if marker:
        (folder / marker).write_text("", encoding="utf-8")
    past = time.time() - age_s
    for p in [*folder.iterdir(), folder]:
        os.utime(p, (past, past))
    return folder


def _evaluate(settings: Settings, instance: DagsterInstance):
    resource = KholuuResource.from_settings(settings).model_copy(update={"inbox_stable_seconds": 60})
    context = build_sensor_context(instance=instance, resources={"kholuu": resource})
    return inbox_sensor(context)


def test_ready_folder_is_registered_and_launched_once(settings: Settings) -> None:
    _drop(settings, "F03", "hop-12")
    _drop(settings, "F03", "still-copying", age_s=0)           # changed just now
    _drop(settings, "F03", "not-marked", marker=None)          # no READY, no manifest
    with DagsterInstance.ephemeral() as instance:
        result = _evaluate(settings, instance)
        assert isinstance(result, SensorResult)
        assert len(result.run_requests) == 1
        request: RunRequest = result.run_requests[0]
        key = request.partition_key
        assert key.startswith("F03-") and request.run_key == key
        assert result.dynamic_partitions_requests[0].partition_keys == [key]
        # the batch is in the catalog, pointing at the folder
        batch = Catalog(settings.database_url).get_batch(key)
        assert batch.source_path.endswith("hop-12")
        # evaluated again: same batch, same run key (Dagster drops the duplicate run)
        instance.add_dynamic_partitions("batches", [key])
        again = _evaluate(settings, instance)
        assert [r.run_key for r in again.run_requests] == [key]
        assert again.dynamic_partitions_requests == []


def test_unknown_fonds_is_reported_not_launched(settings: Settings) -> None:
    _drop(settings, "NOPE", "hop-1")
    with DagsterInstance.ephemeral() as instance:
        result = _evaluate(settings, instance)
    assert isinstance(result, SkipReason)
    assert "NOPE" in result.skip_message


def test_ready_folders_waits_for_stable_files(tmp_path: Path) -> None:
    folder = tmp_path / "F01" / "b"
    folder.mkdir(parents=True)
    (folder / "manifest.csv").write_text("file\n", encoding="utf-8")
    now = time.time()
    assert ready_folders(tmp_path, stable_seconds=30, now=now) == []
    found = ready_folders(tmp_path, stable_seconds=30, now=now + 31)
    assert [(f.fonds, f.name) for f in found] == [("F01", "b")]


def test_demo_editor_account_is_made_once_and_kept_private(settings) -> None:
    from kholuu.access import verify_password
    from kholuu.catalog.users import AccessStore
    from pipelines.demo import demo_editor

    Catalog(settings.database_url).ensure_fonds_loaded()
    name, password = demo_editor(settings)
    assert demo_editor(settings) == (name, password)        # a second demo run reuses it
    assert (settings.home / "demo-account.txt").stat().st_mode & 0o077 == 0
    user, password_hash = AccessStore(Catalog(settings.database_url)).login_record(name)
    assert user.role == "editor" and verify_password(password_hash, password)
