"""Run one batch through the assets, in process, recorded in the instance.

Used by ``kholuu batch run``, ``kholuu demo`` and the tests. Runs go into the
persistent Dagster instance under the data directory, so the Dagster UI shows
them like runs it launched itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from dagster import Definitions, materialize

from kholuu.catalog import Catalog
from kholuu.errors import KholuuError
from kholuu.settings import Settings
from pipelines.assets import ALL_ASSETS, ALL_CHECKS, BATCHES
from pipelines.instance import get_instance
from pipelines.jobs import check_job
from pipelines.resources import KholuuResource

QUIET_LOGS = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


@dataclass
class RunOutcome:
    batch_key: str
    state: str
    success: bool
    run_id: str
    message: str


def run_batch(settings: Settings, batch_ref: str | int, *, quiet: bool = True,
              reocr_below: float | None = None) -> RunOutcome:
    """Materialize every asset for one batch partition; return the batch state.

    ``reocr_below``: re-read only the pages that scored under this confidence
    and were read with other OCR settings (e.g. before a better model).
    """
    settings.ensure_dirs()
    catalog = Catalog(settings.database_url)
    batch = catalog.get_batch(batch_ref)
    instance = get_instance(settings)
    if not instance.has_dynamic_partition(BATCHES.name, batch.key):
        instance.add_dynamic_partitions(BATCHES.name, [batch.key])
    try:
        result = materialize(
            [*ALL_ASSETS, *ALL_CHECKS],
            instance=instance,
            partition_key=batch.key,
            resources={"kholuu": KholuuResource.from_settings(settings)},
            tags={"kholuu/fonds": batch.fonds.code, "kholuu/batch": batch.key},
            run_config=_run_config(quiet, reocr_below),
            raise_on_error=False,
        )
    finally:
        instance.dispose()
    batch = catalog.get_batch(batch.id)
    if not result.success:
        failure = _first_failure(result)
        catalog.set_batch_state(batch.id, "failed", failure)
        catalog.dispose()
        return RunOutcome(batch.key, "failed", False, result.run_id, failure)
    catalog.dispose()
    return RunOutcome(batch.key, batch.state, True, result.run_id, batch.message)


@dataclass
class CheckOutcome:
    name: str
    passed: bool
    metadata: dict


def check_batch(settings: Settings, batch_ref: str | int) -> list[CheckOutcome]:
    """Run the batch's standalone checks now, without re-materializing anything.

    An archivist (or a test) asks again later whether the index still holds
    every catalogued document of the batch; the result is recorded in the
    instance like the checks of a full run.
    """
    catalog = Catalog(settings.database_url)
    try:
        batch = catalog.get_batch(batch_ref)
    finally:
        catalog.dispose()
    instance = get_instance(settings)
    try:
        defs = Definitions(assets=[*ALL_ASSETS, *ALL_CHECKS], jobs=[check_job],
                           resources={"kholuu": KholuuResource.from_settings(settings)})
        result = defs.resolve_job_def(check_job.name).execute_in_process(
            instance=instance, run_config=QUIET_LOGS, raise_on_error=False,
            tags={"dagster/partition": batch.key, "kholuu/fonds": batch.fonds.code, "kholuu/batch": batch.key})
    finally:
        instance.dispose()
    if not result.success:
        raise KholuuError(f"checks of batch {batch.key} could not run: {_first_failure(result)}")
    return [CheckOutcome(e.check_name, e.passed, {k: v.value for k, v in e.metadata.items()})
            for e in result.get_asset_check_evaluations()]


def _run_config(quiet: bool, reocr_below: float | None) -> dict:
    config: dict = dict(QUIET_LOGS) if quiet else {}
    if reocr_below is not None:
        config["ops"] = {"ocr_pages": {"config": {"reocr_below": reocr_below}}}
    return config


def _first_failure(result) -> str:
    for event in result.all_events:
        if event.is_step_failure:
            data = event.step_failure_data
            err = data.error
            if err is not None:
                # the user error's own message, without the traceback
                cause = err.cause or err
                return f"{event.step_key}: {cause.message.strip().splitlines()[-1]}"
            return f"{event.step_key} failed"
    return "the run failed"
