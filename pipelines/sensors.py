"""The inbox sensor: a ready batch folder becomes a partition and a run.

The run key is the batch key, so a batch never runs twice by accident; the
catalog registration is idempotent (same folder, same batch).
"""

from dagster import RunRequest, SensorEvaluationContext, SensorResult, SkipReason, sensor

from kholuu.errors import KholuuError
from kholuu.inbox import ready_folders
from pipelines.assets import BATCHES
from pipelines.jobs import batch_job
from pipelines.resources import KholuuResource


@sensor(job=batch_job, minimum_interval_seconds=30,
        description="Registers and launches batches dropped in inbox/<fonds>/<batch>/ (READY or manifest.csv).")
def inbox_sensor(context: SensorEvaluationContext, kholuu: KholuuResource):
    from pipelines.cli import add_batch

    settings = kholuu.settings()
    requests, new_keys, problems = [], [], []
    for folder in ready_folders(settings.inbox_dir, kholuu.inbox_stable_seconds):
        try:
            _, key = add_batch(settings, folder.fonds, folder.path)
        except KholuuError as exc:
            problems.append(f"{folder.path}: {exc}")
            context.log.warning(f"inbox folder not registered: {exc}")
            continue
        if context.instance is None or not context.instance.has_dynamic_partition(BATCHES.name, key):
            new_keys.append(key)
        requests.append(RunRequest(run_key=key, partition_key=key,
                                   tags={"kholuu/fonds": folder.fonds, "kholuu/batch": key}))
    if not requests:
        return SkipReason("; ".join(problems) if problems else "no ready batch folder in the inbox")
    return SensorResult(run_requests=requests,
                        dynamic_partitions_requests=[BATCHES.build_add_request(new_keys)] if new_keys else [])
