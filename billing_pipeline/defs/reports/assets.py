"""The file-level rollup: fresh once every chunk of the file is done, shown in the UI and written as JSON."""

import dagster as dg

from billing_pipeline import stages
from billing_pipeline.defs.file_links import chunk_list, file_paths, partition_link
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
    "amounts, boletos, notices by state, wall time and rows/s, and where its boletos stand with the bank (paid, "
    "outstanding, overdue, rejected by the bank, written off, protested; again after each retorno). Also "
    "`{BILLING_DATA_DIR}/reports/{file_id}.json`.",
)
def file_report(context: dg.AssetExecutionContext, billing: BillingResource) -> dg.MaterializeResult:
    with permanent_errors_fail_fast():
        outcome = stages.report_stage(billing.engine, billing.settings, context.partition_key)
        chunk_keys = [chunk["chunk_key"] for chunk in stages.file_chunks(billing.engine, context.partition_key)]
    report = outcome.report
    metadata = {
        "file": dg.MetadataValue.md(partition_link("source_file", report["file_id"], report["original_name"])),
        "file_id": report["file_id"],
        "original_name": report["original_name"],
        "status": report["status"],
        **file_paths(billing.settings, report["file_id"]),
        "summary": dg.MetadataValue.json(report),
        "rows": report["rows"],
        "accepted": report["accepted"],
        "rejected": report["rejected"],
        "duplicates": report["duplicates"],
        "chunk_partitions": chunk_list(chunk_keys),
        "file_finished": outcome.final,
        "staged_frames_removed": outcome.frames_removed,
    }
    if collection := report.get("collection"):
        metadata["collection"] = dg.MetadataValue.md(collection_table(collection))
        for name in ("paid", "outstanding", "overdue", "rejected_by_bank"):
            metadata[f"{name}_boletos"] = collection[name]["count"]
        metadata["paid_amount"] = collection["paid"]["paid_amount"]
    if report["reason"]:
        metadata["reason"] = f"{report['reason']['code']}: {report['reason']['message']}"
    if report["rows_per_second"] is not None:  # none for a rejected file: nothing of it was processed
        metadata["rows_per_second"] = report["rows_per_second"]
    return dg.MaterializeResult(metadata=metadata)


COLLECTION_ROWS = {"paid": "paid", "outstanding": "outstanding", "overdue": "overdue",
                   "rejected_by_bank": "rejected by the bank", "written_off": "written off", "protested": "protested"}


def collection_table(collection: dict) -> str:
    """The file's boletos by where they stand with the bank, as a markdown table (numbers only: no client text)."""
    lines = ["| boletos | count | face value | paid |", "| --- | ---: | ---: | ---: |"]
    for name, label in COLLECTION_ROWS.items():
        figure = collection[name]
        paid = figure.get("paid_amount", "")
        lines.append(f"| {label} | {figure['count']:,} | {figure['amount']} | {paid} |")
    return "\n".join(lines)
