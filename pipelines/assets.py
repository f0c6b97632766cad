"""Software-defined assets over the batch stages, one partition per batch.

The assets hold no logic of their own: each calls one function of
``kholuu.stages`` with the batch and records what it did as metadata and asset
checks. Data flows through the catalog (the source of truth), not through IO
managers, so memory stays bounded and any asset can be re-materialized alone.
"""


import logging
import warnings
from typing import Optional

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    Config,
    Backoff,
    DynamicPartitionsDefinition,
    MaterializeResult,
    MetadataValue,
    PreviewWarning,
    RetryPolicy,
    asset,
    asset_check,
)

from kholuu import stages
from pipelines.resources import KholuuResource

BATCHES = DynamicPartitionsDefinition(name="batches")
GROUP = "digitization"
log = logging.getLogger("kholuu.progress")

# Infrastructure errors (the search server restarting, a locked database) are
# retried with backoff; bad input never raises here, it is recorded per page.
INFRA_RETRY = RetryPolicy(max_retries=3, delay=2, backoff=Backoff.EXPONENTIAL)


class OcrRunConfig(Config):
    """Per-run OCR choices an archivist can make in the launchpad."""

    reocr_below: Optional[float] = None  # re-read only pages under this confidence (after a model change)


def _context(context: AssetExecutionContext | AssetCheckExecutionContext, kholuu: KholuuResource) -> tuple[int, stages.StageContext]:
    def progress(message: str) -> None:
        context.log.info(message)
        log.info(message)

    ctx = kholuu.stage_context(progress)
    batch = ctx.catalog.get_batch(context.partition_key)
    return batch.id, ctx


def _metadata(values: dict) -> dict:
    """Metadata as Dagster shows it best: lists (page numbers, ids) as JSON."""
    return {k: MetadataValue.json(v) if isinstance(v, list) else v for k, v in values.items()}


def _check(name: str, passed: bool, *, warn: bool = False, **metadata: object) -> AssetCheckResult:
    """One check result; ``warn`` for checks that flag work for review, not a broken batch."""
    return AssetCheckResult(check_name=name, passed=passed, metadata=_metadata(metadata),
                            severity=AssetCheckSeverity.WARN if warn else AssetCheckSeverity.ERROR)


def _result(metadata: dict, *checks: AssetCheckResult) -> MaterializeResult:
    return MaterializeResult(metadata=_metadata(metadata), check_results=list(checks))


def _error_list(errors: list[str]) -> MetadataValue:
    """Errors as a Markdown list: each names the file and the reason."""
    return MetadataValue.md("\n".join(f"- {e}" for e in errors) or "none")


@asset(partitions_def=BATCHES, group_name=GROUP, retry_policy=INFRA_RETRY,
       check_specs=[AssetCheckSpec("page_count_matches_manifest", asset="batch_pages")],
       description="Scans of the batch rasterized into page images (bad files quarantined).")
def batch_pages(context: AssetExecutionContext, kholuu: KholuuResource) -> MaterializeResult:
    batch_id, ctx = _context(context, kholuu)
    ctx.catalog.set_batch_state(batch_id, "running")
    s = stages.register_pages(batch_id, ctx)
    expected = s.expected_pages
    found = s.pages + len(s.errors)
    return _result(
        {"files": s.files, "pages": s.pages, "new_pages": s.new_pages, "errors": _error_list(s.errors)},
        _check("page_count_matches_manifest", expected is None or expected == found, warn=True,
               expected=expected if expected is not None else -1, found=found))


@asset(partitions_def=BATCHES, group_name=GROUP, deps=[batch_pages], retry_policy=INFRA_RETRY,
       description="Resized page images (thumbnails to reading size) for the web viewer.")
def page_images(context: AssetExecutionContext, kholuu: KholuuResource) -> MaterializeResult:
    batch_id, ctx = _context(context, kholuu)
    return _result({"pages": stages.make_page_derivatives(batch_id, ctx)})


@asset(partitions_def=BATCHES, group_name=GROUP, deps=[batch_pages], retry_policy=INFRA_RETRY,
       check_specs=[AssetCheckSpec("every_page_read_or_error", asset="ocr_pages"),
                    AssetCheckSpec("confidence", asset="ocr_pages")],
       description="Words with boxes and confidence for every page (Tesseract vie, all cores).")
def ocr_pages(context: AssetExecutionContext, kholuu: KholuuResource, config: OcrRunConfig) -> MaterializeResult:
    batch_id, ctx = _context(context, kholuu)
    s = stages.ocr_pages(batch_id, ctx, only_below=config.reocr_below)
    unread = [p.seq for p in ctx.catalog.batch_pages(batch_id) if p.status == "new"]
    low_share = len(s.low_confidence_pages) / s.pages if s.pages else 0.0
    return _result(
        {"pages": s.pages, "processed": s.processed, "reused": s.reused, "blank": s.blank,
         "errors": len(s.errors), "mean_confidence": round(s.mean_confidence, 2),
         "low_confidence_pages": s.low_confidence_pages},
        _check("every_page_read_or_error", not unread, unread_pages=unread),
        _check("confidence", low_share <= 0.2, warn=True, mean_confidence=round(s.mean_confidence, 2),
               share_below_threshold=round(low_share, 3), review_pages=s.low_confidence_pages))


@asset(partitions_def=BATCHES, group_name=GROUP, deps=[ocr_pages], retry_policy=INFRA_RETRY,
       description="Pages grouped into documents with metadata and named entities.")
def documents(context: AssetExecutionContext, kholuu: KholuuResource) -> MaterializeResult:
    batch_id, ctx = _context(context, kholuu)
    s = stages.build_documents(batch_id, ctx)
    return _result({"documents": s.documents, "removed": len(s.removed_ids),
                    "boundaries_from_manifest": s.from_manifest})


@asset(partitions_def=BATCHES, group_name=GROUP, deps=[documents], retry_policy=INFRA_RETRY,
       description="A searchable two-layer PDF (page images + invisible text) per document.")
def searchable_pdfs(context: AssetExecutionContext, kholuu: KholuuResource) -> MaterializeResult:
    batch_id, ctx = _context(context, kholuu)
    return _result({"pdfs": stages.write_pdfs(batch_id, ctx)})


@asset(partitions_def=BATCHES, group_name=GROUP, deps=[documents], retry_policy=INFRA_RETRY,
       description="The batch's documents in the search index (embedded or Elasticsearch).")
def search_index(context: AssetExecutionContext, kholuu: KholuuResource) -> MaterializeResult:
    batch_id, ctx = _context(context, kholuu)
    s = stages.index_batch(batch_id, ctx)
    return _result({"indexed": s.indexed, "backend": s.backend})


def _catalog_matches_index(context: AssetCheckExecutionContext, kholuu: KholuuResource) -> AssetCheckResult:
    batch_id, ctx = _context(context, kholuu)
    c = stages.index_coverage(batch_id, ctx)
    return _check("catalog_matches_index", not c.missing,
                  catalog=c.catalog, index=c.indexed, missing_document_ids=c.missing)


# Partitioned asset checks are "preview" in Dagster 1.13; this one needs the
# batch partition to know which documents to ask for, so the warning is silenced
# here, where that choice is made, instead of printing on every run.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", PreviewWarning)
    catalog_matches_index = asset_check(
        asset=search_index, partitions_def=BATCHES, retry_policy=INFRA_RETRY, name="catalog_matches_index",
        description="Every document of the batch in the catalog is in the search index, "
                    "as the index itself answers (not as the indexing step reported).",
    )(_catalog_matches_index)


@asset(partitions_def=BATCHES, group_name=GROUP, deps=[search_index, searchable_pdfs, page_images],
       description="The batch's final state: done, partial (some pages failed) or failed.")
def batch_report(context: AssetExecutionContext, kholuu: KholuuResource) -> MaterializeResult:
    batch_id, ctx = _context(context, kholuu)
    state = stages.finish_batch(batch_id, ctx)
    batch = ctx.catalog.get_batch(batch_id)
    errors = [f"{p.source_path}: {p.error}" for p in ctx.catalog.batch_pages(batch_id) if p.status == "error"]
    return _result({"state": state, "message": batch.message, "errors": _error_list(errors)})


ALL_ASSETS = [batch_pages, page_images, ocr_pages, documents, searchable_pdfs, search_index, batch_report]
# Checks that can run on their own, after the fact (`pipelines.runner.check_batch`).
ALL_CHECKS = [catalog_matches_index]
