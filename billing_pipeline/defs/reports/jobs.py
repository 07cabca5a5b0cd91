"""The report job: one file's report."""

import dagster as dg

from billing_pipeline.defs.reports.assets import file_report

report_file_job = dg.define_asset_job(
    "report_file",
    selection=dg.AssetSelection.assets(file_report),
    description="Write one file's report once all its chunks are done.",
)
