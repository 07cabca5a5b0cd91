"""Delivery follows storage: one deliver_chunk run for each new materialization of a chunk's boletos, once no
file is being split or stored (or the wait grew too long)."""

import time

import dagster as dg

from billing_pipeline.defs.boletos.assets import boletos, notifications
from billing_pipeline.defs.ingest.sensors import POLL_SECONDS
from billing_pipeline.defs.jobs import deliver_chunk_job, ingest_file_job, process_chunk_job
from billing_pipeline.defs.resources import BillingResource

_PAGE = 1_000
IN_FLIGHT = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
             dg.DagsterRunStatus.STARTED]


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


def storing_in_flight(instance: dg.DagsterInstance) -> int:
    return sum(instance.get_runs_count(dg.RunsFilter(job_name=job.name, statuses=IN_FLIGHT))
               for job in (ingest_file_job, process_chunk_job))


def new_boletos(instance: dg.DagsterInstance, after_storage_id: int | None) -> list[dg.EventLogRecord]:
    records: list[dg.EventLogRecord] = []
    while True:
        page = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=boletos.key, after_storage_id=after_storage_id), limit=_PAGE,
            ascending=True,
        ).records
        records.extend(page)
        if len(page) < _PAGE:
            return records
        after_storage_id = page[-1].storage_id


@dg.sensor(
    job=deliver_chunk_job,
    minimum_interval_seconds=POLL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Requests one deliver_chunk run (PDFs, then e-mails) per chunk whose boletos were stored, once no "
    "file is being split or stored (at most BILLING_DELIVERY_HOLD_SECONDS later): a file's debts and boletos all "
    "land before delivery, minutes per chunk, takes the cores.",
)
def delivery_sensor(context: dg.SensorEvaluationContext, billing: BillingResource) -> dg.SensorResult:
    records = new_boletos(context.instance, int(context.cursor) if context.cursor else None)
    if not records:
        return dg.SensorResult(skip_reason="no new boletos")
    storing = storing_in_flight(context.instance)
    if storing:
        held_since = time.time() - billing.settings.delivery_hold_seconds
        overdue = 0
        while overdue < len(records) and records[overdue].timestamp <= held_since:
            overdue += 1
        records = records[:overdue]
        if not records:
            return dg.SensorResult(skip_reason=f"deliveries wait: {storing} split or store run(s) in flight")
    self_delivering = {
        run_id for run_id in {r.run_id for r in records}
        if delivers_itself(context.instance, context.instance.get_run_by_id(run_id))
    }
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(partition_key=record.partition_key, run_key=f"deliver:{record.storage_id}")
            for record in records
            if record.partition_key and record.run_id not in self_delivering
        ],
        cursor=str(records[-1].storage_id),
    )
