"""Delivery follows storage: one deliver_chunk run for each new materialization of a chunk's boletos."""

import dagster as dg

from billing_pipeline.defs.boletos.assets import boletos, notifications
from billing_pipeline.defs.ingest.sensors import POLL_SECONDS
from billing_pipeline.defs.jobs import deliver_chunk_job

_PAGE = 1_000


def delivers_itself(instance: dg.DagsterInstance, run: dg.DagsterRun | None) -> bool:
    """A run whose plan also sends the notices (a UI backfill or run of every chunk asset) delivers its own
    boletos; a second, concurrent delivery of the same chunk would race it for the same pending notices."""
    if run is None or run.execution_plan_snapshot_id is None:
        return False
    plan = instance.get_execution_plan_snapshot(run.execution_plan_snapshot_id)
    planned = {step.key for step in plan.steps}
    if run.step_keys_to_execute is not None:
        planned &= set(run.step_keys_to_execute)
    return notifications.key.to_python_identifier() in planned


@dg.sensor(
    job=deliver_chunk_job,
    minimum_interval_seconds=POLL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Requests one deliver_chunk run (PDFs, then e-mails) per chunk whose boletos were just stored, at "
    "a lower queue priority than storing: a file's debts and boletos all land before delivery takes the cores.",
)
def delivery_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    cursor = context.cursor
    records = []
    while True:
        page = context.instance.fetch_materializations(boletos.key, limit=_PAGE, cursor=cursor, ascending=True)
        records.extend(page.records)
        cursor = page.cursor
        if not page.has_more:
            break
    if not records:
        return dg.SensorResult(skip_reason="no new boletos")
    runs = {run_id: context.instance.get_run_by_id(run_id) for run_id in {r.run_id for r in records}}
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(partition_key=record.partition_key, run_key=f"deliver:{record.storage_id}")
            for record in records
            if record.partition_key and not delivers_itself(context.instance, runs[record.run_id])
        ],
        cursor=cursor,
    )
