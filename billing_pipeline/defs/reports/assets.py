"""The file-level rollup: fresh once every chunk of the file is done, shown in the UI and written as JSON."""

import dagster as dg

from billing_pipeline.defs.boletos.assets import notifications
from billing_pipeline.defs.partitions import source_file_partitions
from billing_pipeline.defs.resources import BillingResource, discard_staged_frames, staged_chunk_keys
from billing_pipeline.defs.retries import STORE_RETRY, permanent_errors_fail_fast
from billing_pipeline.reports import file_report as build_file_report
from billing_pipeline.reports import write_report
from billing_pipeline.store.files import is_finished, mark_reported, stored_chunks_of_reported_files


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
        engine, settings = billing.engine, billing.settings
        # Decided before the report is built: a report started while the last notices settle shows them pending,
        # so it must not be recorded as the final one.
        finished = is_finished(engine, context.partition_key)
        report = build_file_report(engine, context.partition_key)
        path = write_report(report, settings.reports_dir)
        frames_removed = 0
        if finished:
            mark_reported(engine, context.partition_key)
            # This file's frames, and any a reported file still has (an operator's re-run of one of its chunks).
            settled = stored_chunks_of_reported_files(engine, staged_chunk_keys(settings.staging_dir))
            frames_removed = discard_staged_frames(settings.staging_dir, settled)
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
