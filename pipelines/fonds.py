"""Fonds-level rollups: one static partition per fonds of the catalog.

The partition set is read from the catalog when the code location loads, so
it follows the archive's own fonds list (``kholuu fonds load``).
"""

from dagster import (
    AssetExecutionContext,
    AssetsDefinition,
    MaterializeResult,
    MetadataValue,
    StaticPartitionsDefinition,
    asset,
)

from pipelines.resources import KholuuResource


def fonds_assets(fonds_codes: list[str]) -> list[AssetsDefinition]:
    partitions = StaticPartitionsDefinition(sorted(fonds_codes))

    @asset(partitions_def=partitions, group_name="fonds",
           description="Per-fonds statistics: batches, pages read or failed, documents, index status, confidence.")
    def fonds_summary(context: AssetExecutionContext, kholuu: KholuuResource) -> MaterializeResult:
        ctx = kholuu.stage_context(context.log.info)
        stats = ctx.catalog.fonds_statistics(context.partition_key)
        return MaterializeResult(metadata={
            "batches": stats["batches"], "pages": stats["pages"], "documents": stats["documents"],
            "documents_not_indexed": stats["documents_not_indexed"],
            "mean_confidence": stats["mean_confidence"] if stats["mean_confidence"] is not None else -1.0,
            "detail": MetadataValue.json(stats),
        })

    return [fonds_summary]
