"""Ingest sensors: the inbox (register complete files, one run per new file) and chunks (one run per new chunk)."""


import json
import time

import dagster as dg

from billing_pipeline import stages
from billing_pipeline.defs.file_links import markdown_text
from billing_pipeline.defs.ingest.assets import source_file
from billing_pipeline.defs.ingest.jobs import ingest_file_job, process_chunk_job
from billing_pipeline.defs.partitions import chunk_partitions, source_file_partitions
from billing_pipeline.defs.resources import BillingResource
from billing_pipeline.defs.run_tags import chunk_tags, file_tags
from billing_pipeline.defs.sensor_ticks import TICK_SECONDS
from billing_pipeline.statuses import ReceivedVia

POLL_TOLERANCE_SECONDS = 0.5
SHOWN_REDROPS = 5


@dg.sensor(
    job=ingest_file_job,
    minimum_interval_seconds=TICK_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Registers each complete file in the inbox (BILLING_INBOX, by default `{BILLING_DATA_DIR}/inbox`: "
    "in a folder, same size and mtime on two looks, or an mtime older than BILLING_INBOX_POLL_SECONDS on the first; "
    "in a bucket, every object listed) "
    "by its sha256 and requests one ingest_file run per new file. Re-dropped bytes start nothing: each re-drop is recorded as an observation of the first file's partition.",
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

    redrops: list[dg.AssetObservation] = []
    redrop_lines: list[str] = []
    problems: list[str] = []  # what kept the inbox, or some of its files, from being read: said once, not raised
    try:
        look = stages.look_at_inbox(settings, previous_looks, now_ns)
    except stages.StorageUnavailable as error:
        look, problems = stages.InboxLook([], previous_looks), [f"cannot read the inbox: {error}"]
    for entry in look.ready:
        try:
            registration = stages.register_stage(billing.engine, settings, entry)
        except FileNotFoundError:  # taken away (or replaced) while it was read: nothing was recorded for it
            context.log.warning(f"{entry.path.name} left the inbox before it was registered; nothing recorded")
            continue
        except stages.StorageUnavailable as error:  # this object only: the others are still taken
            problems.append(f"cannot take {entry.path.name}: {error}")
            continue
        if registration.new:
            context.log.info(f"registered {registration.original_name} as file {registration.file_id}")
        else:
            redrop = stages.redrop_of(billing.engine, registration.file_id)
            redrops.append(redrop_observation(registration, redrop))
            redrop_lines.append(f"{registration.original_name}: {registration.already_received()}; "
                                f"{redrop.verdict}; removed from the inbox")
            context.log.info(redrop_lines[-1])
    for problem in problems:
        if problem not in cursor.get("problems", []):  # logged once while it lasts; the skip reason says it each tick
            context.log.error(problem)
    new_files = stages.inbox_files_after(billing.engine, file_seq)
    if new_files:
        file_seq = new_files[-1]["seq"]
    skip_reason = None
    if not new_files and problems:
        skip_reason = "; ".join(problems[:SHOWN_REDROPS])
    elif not new_files and not redrops:
        skip_reason = f"{len(look.waiting)} file(s) waiting for a second look" if look.waiting else "inbox empty"
    elif not new_files:  # the tick itself says why nothing started (the record is on the file's partition)
        skip_reason = "; ".join(redrop_lines[:SHOWN_REDROPS]) + (
            f"; and {len(redrop_lines) - SHOWN_REDROPS} more" if len(redrop_lines) > SHOWN_REDROPS else "")
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(partition_key=f["file_id"], run_key=f["file_id"],
                          tags=file_tags(f["file_id"], f["original_name"]))
            for f in new_files
        ],
        dynamic_partitions_requests=(
            [source_file_partitions.build_add_request([f["file_id"] for f in new_files])] if new_files else []
        ),
        asset_events=redrops,
        cursor=json.dumps({"looks": look.waiting, "file_seq": file_seq, "looked_at_ns": now_ns,
                           **({"problems": problems} if problems else {})}),
        skip_reason=skip_reason,
    )


def redrop_observation(registration: stages.Registration, redrop: stages.Redrop) -> dg.AssetObservation:
    """The record, on the first file's partition, that its bytes came in again under another name. A file first
    given to `billing process` has no partition in this instance (the daemon never ran it), so its record is on
    the asset, naming the file in its metadata."""
    first_via = registration.first.received_via
    return dg.AssetObservation(
        asset_key=source_file.key,
        partition=registration.file_id if first_via == ReceivedVia.INBOX else None,
        description=markdown_text(f"received again as {registration.original_name}: "
                                  f"{registration.already_received()}; {redrop.verdict}"),
        metadata={
            "file_id": registration.file_id,
            "received_again_as": registration.original_name,
            "received_again_at": dg.MetadataValue.timestamp(time.time()),
            "first_received_as": registration.first.original_name,
            "first_received_at": dg.MetadataValue.timestamp(registration.first.received_at),
            "first_received_via": str(first_via),
            "status": str(redrop.file["status"]),
        },
    )


@dg.sensor(
    job=process_chunk_job,
    minimum_interval_seconds=TICK_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Requests one process_chunk run per chunk partition that a file's split created.",
)
def chunk_sensor(context: dg.SensorEvaluationContext, billing: BillingResource) -> dg.SensorResult:
    seq = int(context.cursor) if context.cursor else 0
    new_chunks = stages.inbox_chunks_after(billing.engine, seq)
    if not new_chunks:
        return dg.SensorResult(skip_reason="no new chunks")
    keys = [c["chunk_key"] for c in new_chunks]
    return dg.SensorResult(
        run_requests=[dg.RunRequest(partition_key=c["chunk_key"], run_key=c["chunk_key"],
                                    tags=chunk_tags(c["chunk_key"], c["file_id"], c["original_name"]))
                      for c in new_chunks],
        dynamic_partitions_requests=[chunk_partitions.build_add_request(keys)],
        cursor=str(new_chunks[-1]["seq"]),
    )
