"""The ingest jobs: a file's split, and each chunk's validation, load and boletos."""

import dagster as dg

from billing_pipeline.defs.ingest.assets import debts, source_file, validated_chunk
from billing_pipeline.defs.priorities import INGEST_PRIORITY, SPLIT_PRIORITY

ingest_file_job = dg.define_asset_job(
    "ingest_file",
    selection=dg.AssetSelection.assets(source_file),
    description="Archive a received file and cut it into chunk partitions.",
    tags={"dagster/priority": SPLIT_PRIORITY},
)

process_chunk_job = dg.define_asset_job(
    "process_chunk",
    # boletos by key: the boletos area builds on this one, not the other way round.
    selection=dg.AssetSelection.assets(validated_chunk, debts, "boletos"),
    description="Validate one chunk, load its debts and number their boletos.",
    tags={"dagster/priority": INGEST_PRIORITY},
)
