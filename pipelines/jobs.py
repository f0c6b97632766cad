"""Jobs over the assets."""

from dagster import define_asset_job

from pipelines.assets import ALL_ASSETS

batch_job = define_asset_job("process_batch", selection=ALL_ASSETS,
                             description="Pages → OCR → documents → PDFs and index, for one batch.")
