"""Delivery follows storage: one deliver_chunk run for each new materialization of a chunk's boletos, once no
file is being split or stored (or the wait grew too long); and again, at growing intervals, for a chunk whose
delivery failed with notices left to send."""

import json
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import dagster as dg

from billing_pipeline import stages
from billing_pipeline.defs.boletos.assets import boletos
from billing_pipeline.defs.ingest.jobs import ingest_file_job, process_chunk_job
from billing_pipeline.defs.notifications.assets import notifications
from billing_pipeline.defs.notifications.jobs import deliver_chunk_job
from billing_pipeline.defs.resources import BillingResource
from billing_pipeline.defs.run_tags import CHUNK_TAG, FILE_ID_TAG, ORIGINAL_NAME_TAG, chunk_tags
from billing_pipeline.defs.sensor_ticks import TICK_SECONDS

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


def tags_of_chunk(chunk_key: str, files: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """The file tags of a chunk's run; a chunk the store does not know (its file was removed) gets none."""
    file = files.get(chunk_key)
    return chunk_tags(chunk_key, file["file_id"], file["original_name"]) if file else {}


def file_tags_of(run: dg.DagsterRun, billing: BillingResource) -> dict[str, str]:
    """A redelivery carries the file tags of the delivery it repeats; one launched by hand has none, so the store
    names the chunk's file."""
    carried = {key: value for key, value in run.tags.items() if key in (FILE_ID_TAG, ORIGINAL_NAME_TAG, CHUNK_TAG)}
    if FILE_ID_TAG in carried:
        return carried
    key = run.tags.get(PARTITION_TAG, "")
    return tags_of_chunk(key, stages.files_of_chunks(billing.engine, [key]))


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
    minimum_interval_seconds=TICK_SECONDS,
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
    to_deliver = [r for r in records if r.partition_key and r.run_id not in self_delivering]
    files = stages.files_of_chunks(billing.engine, [str(r.partition_key) for r in to_deliver])
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(partition_key=record.partition_key, run_key=f"deliver:{record.storage_id}",
                          tags=tags_of_chunk(str(record.partition_key), files))
            for record in to_deliver
        ],
        cursor=str(records[-1].storage_id),
    )


PARTITION_TAG = "dagster/partition"
WILL_RETRY_TAG = "dagster/will_retry"
FAILURE_REASON_TAG = "dagster/failure_reason"
REDELIVERY_TAG = "billing/redelivery"
_FAILURE_LOOKBACK_SECONDS = 60  # run records are matched by update time: overlap the windows of two ticks
_FIRST_LOOK_BACK_SECONDS = 7 * 24 * 3600  # a new cursor takes up the deliveries that failed in the last week
_RETRY_EXPECTED_WITHIN_SECONDS = 600  # a run Dagster said it would retry, whose retry has not appeared by then
_SHOWN_IN_SKIP_REASON = 10
# A redelivery is due a minute or more after a failure (BILLING_REDELIVERY_FIRST_WAIT_SECONDS): a look every 30 s
# is prompt enough, and each tick costs the code server an instance of its own, measurable on the storing path when
# this sensor ticked with the others (docs/benchmarks.md, "Crash recovery costs nothing on this path").
LOOK_SECONDS = 30


def redelivery_wait(attempts: int, first_wait: float, max_wait: float) -> float:
    """Seconds between a failed delivery and the next: first_wait, doubling with each redelivery, capped."""
    return min(first_wait * 2**attempts, max_wait)


def what_waits(left: stages.Undelivered) -> str:
    """Pending notices with a server's answer wait on the mail server; others on whatever failed the delivery."""
    if left.waits_on_the_mail_server:
        return f"{left.pending} notices wait on the mail server (last answer: {left.last_error})"
    parts = [f"{left.pending} notices pending"] if left.pending else []
    parts += [f"{left.without_notice} boletos without a notice yet"] if left.without_notice else []
    return " and ".join(parts) + " after a failed delivery run"


def latest_delivery(instance: dg.DagsterInstance, chunk_key: str) -> dg.RunRecord | None:
    records = instance.get_run_records(
        dg.RunsFilter(job_name=deliver_chunk_job.name, tags={PARTITION_TAG: chunk_key}), limit=1
    )
    return records[0] if records else None


@dg.sensor(
    job=deliver_chunk_job,
    minimum_interval_seconds=LOOK_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Delivers a chunk again when its last deliver_chunk run failed with notices still to send, and no "
    "delivery of it is in flight: the mail server stayed down past the step's retries, or the run's worker died "
    "more often than run_retries re-executes it. BILLING_REDELIVERY_FIRST_WAIT_SECONDS after the failure, then at "
    "doubling intervals up to BILLING_REDELIVERY_MAX_WAIT_SECONDS. A run Dagster retries by itself, one an operator "
    "canceled, and one that failed on a step for another reason (a bug: re-execute it once fixed) are left alone.",
)
def redelivery_sensor(context: dg.SensorEvaluationContext, billing: BillingResource) -> dg.SensorResult:
    cursor = json.loads(context.cursor) if context.cursor else {}
    watched: dict[str, dict] = cursor.get("watched", {})
    now = time.time()
    settings = billing.settings
    since = cursor.get("since", now - _FIRST_LOOK_BACK_SECONDS) - _FAILURE_LOOKBACK_SECONDS
    failed = context.instance.get_run_records(dg.RunsFilter(
        job_name=deliver_chunk_job.name, statuses=[dg.DagsterRunStatus.FAILURE],
        updated_after=datetime.fromtimestamp(since, tz=UTC),
    ))
    for record in failed:
        key = record.dagster_run.tags.get(PARTITION_TAG)
        if key and key not in watched:
            watched[key] = {"attempts": 0, "waiting": None}

    requests, waiting = [], []
    for key in sorted(watched):
        entry = watched[key]
        latest = latest_delivery(context.instance, key)
        if latest is None or latest.dagster_run.status in (dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.CANCELED):
            del watched[key]  # delivered, or stopped by an operator: not ours to restart
            continue
        run = latest.dagster_run
        if run.status != dg.DagsterRunStatus.FAILURE:
            continue  # a delivery in flight
        ended = latest.end_time or latest.update_timestamp.timestamp()
        if run.tags.get(WILL_RETRY_TAG) == "true" and now - ended < _RETRY_EXPECTED_WITHIN_SECONDS:
            continue  # a run whose worker died: run_retries re-executes it
        due = ended + redelivery_wait(entry["attempts"], settings.redelivery_first_wait_seconds,
                                      settings.redelivery_max_wait_seconds)
        if now < due:
            if entry["waiting"] is None:  # counted once, when first shown
                entry["waiting"] = what_waits(stages.undelivered(billing.engine, key))
            waiting.append(f"chunk {key}: {entry['waiting']}; delivered again in {due - now:.0f} s")
            continue
        left = stages.undelivered(billing.engine, key)
        if not left.total:
            del watched[key]
            continue
        if run.tags.get(FAILURE_REASON_TAG) == "STEP_FAILURE" and not left.waits_on_the_mail_server:
            context.log.warning(f"chunk {key}: {what_waits(left)}: run {run.run_id} failed on a step, not on the "
                                "mail server. Not delivered again by itself: fix the cause, then re-execute the run")
            del watched[key]
            continue
        entry.update(attempts=entry["attempts"] + 1, waiting=what_waits(left))
        context.log.warning(f"chunk {key}: {entry['waiting']}; delivery {entry['attempts']} requested (the failed "
                            f"run was {run.run_id})")
        requests.append(dg.RunRequest(partition_key=key, run_key=f"redeliver:{key}:{run.run_id}",
                                      tags={**file_tags_of(run, billing), REDELIVERY_TAG: str(entry["attempts"])}))
    new_cursor = json.dumps({"since": now, "watched": watched})
    if requests:
        return dg.SensorResult(run_requests=requests, cursor=new_cursor)
    if not waiting:
        return dg.SensorResult(skip_reason="no failed delivery to retry", cursor=new_cursor)
    more = len(waiting) - _SHOWN_IN_SKIP_REASON
    reason = "; ".join(waiting[:_SHOWN_IN_SKIP_REASON]) + (f"; and {more} more chunks" if more > 0 else "")
    return dg.SensorResult(skip_reason=reason, cursor=new_cursor)
