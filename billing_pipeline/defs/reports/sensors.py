"""The report sensor: a file's report is requested once the file is finished, and again once a retorno from the
bank has moved its boletos (its collection figures: paid, outstanding, rejected by the bank)."""

import json
from datetime import datetime, timedelta

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
    "no notice pending. A file is looked at until its report is written. After each retorno is imported, the "
    "reports of the files whose boletos it answered are requested again, so their collection figures are current.",
)
def file_report_sensor(context: dg.SensorEvaluationContext, billing: BillingResource) -> dg.SensorResult:
    cursor = _cursor(context.cursor)
    requests = [dg.RunRequest(partition_key=file_id, run_key=f"report:{file_id}", tags=tags_of_file(billing, file_id))
                for file_id in stages.finished_inbox_files(billing.engine)]
    # Imports are looked at again for a while: one that started first (PostgreSQL's now() is its transaction's
    # start) or in the same second (SQLite's) may be recorded after a later one was seen.
    seen = set(cursor.get("seen", []))
    imported = stages.retornos_processed_after(billing.engine, cursor.get("since", ""))
    for retorno_id in [retorno_id for retorno_id, _ in imported if retorno_id not in seen]:
        requests += [dg.RunRequest(partition_key=file_id, run_key=f"report:{file_id}:retorno:{retorno_id}",
                                   tags=tags_of_file(billing, file_id))
                     for file_id in stages.files_answered_by(billing.engine, retorno_id)]
    since = _looked_back(imported[-1][1]) if imported else cursor.get("since", "")
    new_cursor = json.dumps({"since": since, "seen": [retorno_id for retorno_id, at in imported if at >= since]})
    if not requests:
        return dg.SensorResult(skip_reason="no finished file without a report, no retorno imported since",
                               cursor=new_cursor)
    return dg.SensorResult(run_requests=requests, cursor=new_cursor)


LOOK_BACK = timedelta(minutes=10)  # longer than an import of a 1.1M-title retorno takes


def _looked_back(moment: str) -> str:
    """The store's text of a time, LOOK_BACK earlier, in a form that compares as the store's texts do."""
    return (datetime.fromisoformat(moment) - LOOK_BACK).strftime("%Y-%m-%d %H:%M:%S")


def _cursor(raw: str | None) -> dict:
    try:
        value = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def tags_of_file(billing: BillingResource, file_id: str) -> dict[str, str]:
    record = stages.file_record(billing.engine, file_id)
    return file_tags(file_id, record["original_name"]) if record else {}
