"""Jobs over the assets."""

from dagster import AssetSelection, define_asset_job

from pipelines.assets import ALL_ASSETS, ALL_CHECKS

batch_job = define_asset_job("process_batch", selection=ALL_ASSETS,
                             description="Pages → OCR → documents → PDFs and index, for one batch.")

# Only the standalone checks, nothing re-materialized: "is everything of this
# batch still in the index?" asked at any time. Dagster 1.13 infers no
# partition set from a selection of checks alone, so the caller names the batch
# with the run's ``dagster/partition`` tag (``pipelines.runner.check_batch``).
check_job = define_asset_job("check_batch", selection=AssetSelection.checks(*ALL_CHECKS),
                             description="Re-run the batch's checks (catalog against index) without re-processing.")
