"""Ingest sensors: the inbox (register complete files, one run per new file) and chunks (one run per new chunk)."""


import json
import time

import dagster as dg

from billing_pipeline import stages
from billing_pipeline.defs.ingest.jobs import ingest_file_job, process_chunk_job
from billing_pipeline.defs.partitions import chunk_partitions, source_file_partitions
from billing_pipeline.defs.resources import BillingResource
from billing_pipeline.defs.sensor_ticks import TICK_SECONDS

POLL_TOLERANCE_SECONDS = 0.5


@dg.sensor(
    job=ingest_file_job,
    minimum_interval_seconds=TICK_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Registers each complete file in <BILLING_DATA_DIR>/inbox (same size and mtime on two looks, or "
    "an mtime older than BILLING_INBOX_POLL_SECONDS on the first) "
    "by its sha256 and requests one ingest_file run per new file. Re-dropped bytes start nothing.",
)
def inbox_sensor(context: dg.SensorEvaluationContext, billing: BillingResource) -> dg.SensorResult:
    cursor = json.loads(context.cursor) if context.cursor else {}
    previous_looks: dict[str, list[int]] = cursor.get("looks", {})
    file_seq: int = cursor.get("file_seq", 0)
    settings = billing.settings
    now_ns = time.time_ns()
    since_last_look = (now_ns - cursor.get("looked_at_ns", 0)) / 1e9
    # A tick a little early still looks (the daemon's cadence jitters); so does one after the clock stepped back.
    if 0 <= since_last_look < settings.inbox_poll_seconds - POLL_TOLERANCE_SECONDS:
        return dg.SensorResult(skip_reason=f"next look in {settings.inbox_poll_seconds - since_last_look:.0f} s "
                               "(BILLING_INBOX_POLL_SECONDS)", cursor=context.cursor)

    look = stages.look_at_inbox(settings, previous_looks, now_ns)
    for entry in look.ready:
        registration = stages.register_stage(billing.engine, settings, entry.path)
        if registration.new:
            context.log.info(f"registered {registration.original_name} as file {registration.file_id}")
        else:
            first = stages.file_record(billing.engine, registration.file_id)
            context.log.info(
                f"{registration.original_name} has the same bytes as file {registration.file_id} (first "
                f"received as {first['original_name']}, status {first['status']}): nothing new to do, removed "
                "from the inbox"
            )
    new_files = stages.files_after(billing.engine, file_seq)
    if new_files:
        file_seq = new_files[-1]["seq"]
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                partition_key=f["file_id"],
                run_key=f["file_id"],
                tags={"billing/original_name": f["original_name"][:200]},
            )
            for f in new_files
        ],
        dynamic_partitions_requests=(
            [source_file_partitions.build_add_request([f["file_id"] for f in new_files])] if new_files else []
        ),
        cursor=json.dumps({"looks": look.waiting, "file_seq": file_seq, "looked_at_ns": now_ns}),
        skip_reason=None if new_files or look.ready else f"{len(look.waiting)} file(s) waiting for a second look",
    )


@dg.sensor(
    job=process_chunk_job,
    minimum_interval_seconds=TICK_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Requests one process_chunk run per chunk partition that a file's split created.",
)
def chunk_sensor(context: dg.SensorEvaluationContext, billing: BillingResource) -> dg.SensorResult:
    seq = int(context.cursor) if context.cursor else 0
    new_chunks = stages.chunks_after(billing.engine, seq)
    if not new_chunks:
        return dg.SensorResult(skip_reason="no new chunks")
    keys = [c["chunk_key"] for c in new_chunks]
    return dg.SensorResult(
        run_requests=[dg.RunRequest(partition_key=key, run_key=key) for key in keys],
        dynamic_partitions_requests=[chunk_partitions.build_add_request(keys)],
        cursor=str(new_chunks[-1]["seq"]),
    )
