"""The file-level rollup: fresh once every chunk of the file is done, shown in the UI and written as JSON."""

import dagster as dg

from billing_pipeline.defs.boletos.assets import notifications
from billing_pipeline.defs.partitions import source_file_partitions
from billing_pipeline.defs.resources import BillingResource, discard_staged_frames
from billing_pipeline.defs.retries import STORE_RETRY, permanent_errors_fail_fast
from billing_pipeline.reports import file_report as build_file_report
from billing_pipeline.reports import write_report
from billing_pipeline.store.files import file_chunks, mark_reported


@dg.asset(
    partitions_def=source_file_partitions,
    deps=[dg.AssetDep(notifications, partition_mapping=dg.AllPartitionMapping())],
    group_name="reports",
    kinds={"json"},
    owners=["team:billing"],
    retry_policy=STORE_RETRY,
    description="One file's totals after all its chunks: rows = accepted + rejected + duplicates, reject codes, "
    "amounts, boletos, notices by state, wall time and rows/s. Also <BILLING_DATA_DIR>/reports/<file_id>.json.",
)
def file_report(context: dg.AssetExecutionContext, billing: BillingResource) -> dg.MaterializeResult:
    with permanent_errors_fail_fast():
        report = build_file_report(billing.engine, context.partition_key)
        path = write_report(report, billing.settings.reports_dir)
        finished = mark_reported(billing.engine, context.partition_key)
        # A finished file's chunks are all stored: their validated frames have no reader left.
        chunk_keys = [chunk["chunk_key"] for chunk in file_chunks(billing.engine, context.partition_key)]
        frames_removed = discard_staged_frames(billing.settings.staging_dir, chunk_keys) if finished else 0
    return dg.MaterializeResult(
        metadata={
            "report": dg.MetadataValue.path(str(path)),
            "summary": dg.MetadataValue.json(report),
            "rows": report["rows"],
            "accepted": report["accepted"],
            "rejected": report["rejected"],
            "duplicates": report["duplicates"],
            "rows_per_second": report["rows_per_second"] or 0.0,
            "file_finished": finished,
            "staged_frames_removed": frames_removed,
        }
    )
