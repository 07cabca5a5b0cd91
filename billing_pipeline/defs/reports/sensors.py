"""The report sensor: a file's report is requested once the file is finished."""

import dagster as dg

from billing_pipeline import stages
from billing_pipeline.defs.reports.jobs import report_file_job
from billing_pipeline.defs.resources import BillingResource
from billing_pipeline.defs.run_tags import file_tags
from billing_pipeline.defs.sensor_ticks import TICK_SECONDS


@dg.sensor(
    job=report_file_job,
    minimum_interval_seconds=TICK_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Requests a file's report once the file is finished: split (or rejected), every chunk loaded and "
    "no notice pending. A file is looked at until its report is written.",
)
def file_report_sensor(context: dg.SensorEvaluationContext, billing: BillingResource) -> dg.SensorResult:
    finished = stages.finished_inbox_files(billing.engine)
    if not finished:
        return dg.SensorResult(skip_reason="no finished file without a report")
    return dg.SensorResult(
        run_requests=[dg.RunRequest(partition_key=file_id, run_key=f"report:{file_id}", tags=tags_of_file(billing, file_id))
                      for file_id in finished]
    )


def tags_of_file(billing: BillingResource, file_id: str) -> dict[str, str]:
    record = stages.file_record(billing.engine, file_id)
    return file_tags(file_id, record["original_name"]) if record else {}
