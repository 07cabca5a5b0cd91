"""The file-level rollup: fresh once every chunk of the file is done, shown in the UI and written as JSON."""

import dagster as dg

from billing_pipeline import stages
from billing_pipeline.defs.notifications.assets import notifications
from billing_pipeline.defs.partitions import source_file_partitions
from billing_pipeline.defs.resources import BillingResource
from billing_pipeline.defs.retries import STORE_RETRY, permanent_errors_fail_fast


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
        outcome = stages.report_stage(billing.engine, billing.settings, context.partition_key)
    report = outcome.report
    return dg.MaterializeResult(
        metadata={
            "report": dg.MetadataValue.path(str(outcome.path)),
            "summary": dg.MetadataValue.json(report),
            "rows": report["rows"],
            "accepted": report["accepted"],
            "rejected": report["rejected"],
            "duplicates": report["duplicates"],
            "rows_per_second": report["rows_per_second"] or 0.0,
            "file_finished": outcome.final,
            "staged_frames_removed": outcome.frames_removed,
        }
    )
