"""Ingest assets: a received file, cut into chunk partitions; each chunk validated, then loaded as debts."""


from collections import Counter

import dagster as dg
import pandas as pd

from billing_pipeline import stages
from billing_pipeline.defs.ingest.checks import DEBTS_CHECKS, debts_check_results
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
    description="A received CSV file (partition = its sha256), archived and cut into chunk partitions of "
    "BILLING_CHUNK_ROWS records. A file that cannot be read at all fails here with a stable code.",
)
def source_file(context: dg.AssetExecutionContext, billing: BillingResource) -> dg.MaterializeResult:
    file_id = context.partition_key
    with permanent_errors_fail_fast():
        outcome = stages.split_stage(billing.engine, billing.settings, file_id)
    if outcome.rejected is not None:
        raise dg.Failure(
            description=f"file rejected: {outcome.rejected.code}: {outcome.rejected.message}",
            metadata={"code": str(outcome.rejected.code),
                      "rejects_report": str(billing.settings.rejects_path(file_id))},
            allow_retries=False,
        )
    context.instance.add_dynamic_partitions(chunk_partitions.name, outcome.chunk_keys)
    return dg.MaterializeResult(
        metadata={
            "original_name": outcome.original_name,
            "rows": outcome.rows,
            "chunks": len(outcome.chunk_keys),
            "size_bytes": outcome.size_bytes,
            "archive": dg.MetadataValue.path(str(billing.settings.archive_path(file_id))),
        }
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
    description="One chunk's records checked by the Pandera debt schema; bad rows go to `rejects` with a "
    "stable code, the accepted rows (normalised) flow on.",
)
def validated_chunk(context: dg.AssetExecutionContext, billing: BillingResource) -> dg.Output[pd.DataFrame]:
    with permanent_errors_fail_fast():
        validation = stages.validate_stage(billing.engine, billing.settings, context.partition_key)
    codes = Counter(validation.rejects["code"])
    return dg.Output(
        validation.accepted,
        metadata={
            "accepted_rows": len(validation.accepted),
            "rejected_rows": validation.rejected_rows,
            "duplicates": len(validation.duplicate_lines),
            "reject_codes": dict(sorted(codes.items())),
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
    return dg.MaterializeResult(
        metadata={
            "rows": numbers.rows,
            "accepted": outcome.accepted,
            "rejected": numbers.rejected,
            "duplicates": numbers.duplicates,
            "conflicts_with_store": outcome.conflicts,
        },
        check_results=debts_check_results(numbers, billing.settings.max_reject_rate),
    )
