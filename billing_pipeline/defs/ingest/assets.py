"""Ingest assets: a received file, cut into chunk partitions; each chunk validated, then loaded as debts."""


from collections import Counter

import dagster as dg
import pandas as pd

from billing_pipeline import stages
from billing_pipeline.defs.file_links import chunk_file_metadata, chunk_list, file_paths, rejects_preview
from billing_pipeline.defs.ingest.checks import (
    DEBTS_CHECKS,
    SOURCE_FILE_CHECKS,
    debts_check_results,
    file_accepted_result,
)
from billing_pipeline.defs.partitions import chunk_partitions, source_file_partitions
from billing_pipeline.defs.resources import BillingResource
from billing_pipeline.defs.retries import STORE_RETRY, permanent_errors_fail_fast
from billing_pipeline.instance.pools import DB


@dg.asset(
    partitions_def=source_file_partitions,
    group_name="ingest",
    kinds={"csv"},
    owners=["team:billing"],
    retry_policy=STORE_RETRY,
    pool=DB,
    check_specs=SOURCE_FILE_CHECKS,
    description="A received CSV file (partition = its sha256), archived and cut into chunk partitions of "
    "BILLING_CHUNK_ROWS records. A file that cannot be read as a whole is rejected with a stable code: the "
    "materialization and the failed `file_accepted` check say why, and its rejects report holds the reason.",
)
def source_file(context: dg.AssetExecutionContext, billing: BillingResource) -> dg.MaterializeResult:
    file_id = context.partition_key
    settings = billing.settings
    with permanent_errors_fail_fast():
        outcome = stages.split_stage(billing.engine, settings, file_id)
    if (rejected := outcome.rejected) is not None:
        # An outcome of the data, not a failure of the pipeline: no exception, so no stack trace and no red run.
        context.log.warning(f"{outcome.original_name} rejected: {rejected.code}: {rejected.message}")
        told = {"outcome": f"rejected: {rejected.code}", "code": str(rejected.code), "message": rejected.message}
    else:
        context.instance.add_dynamic_partitions(chunk_partitions.name, outcome.chunk_keys)
        told = {"outcome": f"split into {len(outcome.chunk_keys)} chunks",
                "chunk_partitions": chunk_list(outcome.chunk_keys)}
    return dg.MaterializeResult(
        metadata={
            **told,
            "chunks": len(outcome.chunk_keys),
            "file_id": file_id,
            "original_name": outcome.original_name,
            "rows": outcome.rows,
            "size_bytes": outcome.size_bytes,
            "archive": dg.MetadataValue.path(str(settings.archive_path(file_id))),
            **file_paths(settings, file_id),
        },
        check_results=[file_accepted_result(outcome, settings.rejects_path(file_id))],
    )


@dg.asset(
    partitions_def=chunk_partitions,
    deps=[dg.AssetDep(source_file, partition_mapping=dg.AllPartitionMapping())],
    io_manager_key="chunk_io_manager",
    group_name="ingest",
    kinds={"pandas", "pandera"},
    owners=["team:billing"],
    retry_policy=STORE_RETRY,
    pool=DB,
    description="One chunk's records checked by the Pandera debt schema; bad rows go to the file's rejects report "
    "with a stable code (the first ones are shown here), the accepted rows (normalised) flow on.",
)
def validated_chunk(context: dg.AssetExecutionContext, billing: BillingResource) -> dg.Output[pd.DataFrame]:
    with permanent_errors_fail_fast():
        validation = stages.validate_stage(billing.engine, billing.settings, context.partition_key)
        place = stages.chunk_place(billing.engine, context.partition_key)
    codes = Counter(validation.rejects["code"])
    return dg.Output(
        validation.accepted,
        metadata={
            **chunk_file_metadata(place, billing.settings),
            "accepted_rows": len(validation.accepted),
            "rejected_rows": validation.rejected_rows,
            "duplicates": len(validation.duplicate_lines),
            "reject_codes": dict(sorted(codes.items())),
            "rejected": rejects_preview(validation.rejects),
        },
    )


@dg.asset(
    partitions_def=chunk_partitions,
    group_name="ingest",
    kinds={"sql"},
    owners=["team:billing"],
    retry_policy=STORE_RETRY,
    pool=DB,
    check_specs=DEBTS_CHECKS,
    description="The chunk's accepted debts in the store: on PostgreSQL a first load is one COPY straight into "
    "debts; otherwise COPY into staging, then one INSERT ... ON CONFLICT DO NOTHING. Re-running adds nothing.",
)
def debts(
    context: dg.AssetExecutionContext, billing: BillingResource, validated_chunk: pd.DataFrame
) -> dg.MaterializeResult:
    key = context.partition_key
    with permanent_errors_fail_fast():
        outcome = stages.load_stage(billing.engine, billing.settings, key, validated_chunk)
        numbers = stages.chunk_numbers(billing.engine, key)
        place = stages.chunk_place(billing.engine, key)
    result = dg.MaterializeResult(
        metadata={
            **chunk_file_metadata(place, billing.settings),
            "rows": numbers.rows,
            "accepted": outcome.accepted,
            "rejected": numbers.rejected,
            "duplicates": numbers.duplicates,
            "conflicts_with_store": outcome.conflicts,
        },
        check_results=debts_check_results(numbers, place, billing.settings.max_reject_rate),
    )
    stages.release_staged_frame(billing.engine, billing.settings, key)
    return result
