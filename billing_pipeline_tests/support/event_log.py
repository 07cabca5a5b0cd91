"""What a Dagster instance recorded about its runs, read back: when each step ran and in which pool, how many
steps of a pool ran at once, whether a pool held runs back, the asset checks of a run, a run's worker."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from dagster import DagsterEventType, DagsterInstance, DagsterRun

from billing_pipeline.definitions import ASSETS

STEP_POOLS = {asset.op.name: asset.op.pool for asset in ASSETS}
STEP_OPENS = {DagsterEventType.STEP_START, DagsterEventType.STEP_RESTARTED}
STEP_CLOSES = {DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE, DagsterEventType.STEP_UP_FOR_RETRY}


@dataclass(frozen=True)
class StepSpan:
    pool: str | None
    run_id: str
    step: str
    start: float
    end: float


def step_spans(instance: DagsterInstance, runs: Iterable[DagsterRun]) -> list[StepSpan]:
    """Every stretch of time a step ran (a retried step has one per attempt), from the runs' event logs."""
    spans = []
    for run in runs:
        opened: dict[str, float] = {}
        for record in instance.all_logs(run.run_id, of_type=STEP_OPENS | STEP_CLOSES):
            step = record.step_key
            if record.dagster_event.event_type in STEP_OPENS:
                opened[step] = record.timestamp
            elif step in opened:
                spans.append(StepSpan(STEP_POOLS.get(step), run.run_id, step, opened.pop(step), record.timestamp))
        if opened:  # the run's worker died mid-step: the step ran (at least) until the run was marked failed
            end = instance.get_run_record_by_id(run.run_id).end_time
            assert end is not None, f"run {run.run_id} has steps that never ended: {sorted(opened)}"
            spans += [StepSpan(STEP_POOLS.get(step), run.run_id, step, start, end) for step, start in opened.items()]
    return spans


def most_at_once(spans: Iterable[StepSpan]) -> dict[str, int]:
    """The largest number of steps of each pool that were running at the same moment."""
    edges: dict[str, list[tuple[float, int]]] = defaultdict(list)
    for span in spans:
        if span.pool:
            # At equal times an end sorts before a start: a slot is freed before the next step can claim it.
            edges[span.pool] += [(span.start, 1), (span.end, -1)]
    peaks = {}
    for pool, points in edges.items():
        running = peak = 0
        for _, delta in sorted(points):
            running += delta
            peak = max(peak, running)
        peaks[pool] = peak
    return peaks


def _first_event_time(instance: DagsterInstance, run_id: str, event_type: DagsterEventType) -> float | None:
    records = instance.all_logs(run_id, of_type=event_type)
    return records[0].timestamp if records else None


def runs_held_by_pools(instance: DagsterInstance, runs: Iterable[DagsterRun], at_least_seconds: float = 5.0) -> int:
    """Runs that waited in the queue at least this long while fewer runs than `max_concurrent_runs` held a run
    slot (launched, not yet ended) the whole time: the run limit did not hold them back, a pool did. The queue
    marks a launch with RUN_STARTING."""
    limit = instance.get_concurrency_config().run_queue_config.max_concurrent_runs
    spans = []  # (enqueued, dequeued, ended) per run
    for run in runs:
        enqueued = _first_event_time(instance, run.run_id, DagsterEventType.RUN_ENQUEUED)
        dequeued = _first_event_time(instance, run.run_id, DagsterEventType.RUN_STARTING)
        ended = instance.get_run_record_by_id(run.run_id).end_time
        if enqueued and dequeued and ended:
            spans.append((enqueued, dequeued, ended))

    def holding_slots(moment: float) -> int:
        return sum(1 for _, dequeued, ended in spans if dequeued <= moment < ended)

    held = 0
    for enqueued, dequeued, _ in spans:
        if dequeued - enqueued < at_least_seconds:
            continue
        moments = [enqueued] + [other for _, other, _ in spans if enqueued < other < dequeued]
        if max(holding_slots(moment) for moment in moments) < limit:
            held += 1
    return held


def check_evaluations(instance: DagsterInstance, run: DagsterRun) -> dict[str, bool]:
    """check name -> passed, for the asset checks evaluated in one run."""
    return {
        record.dagster_event.event_specific_data.check_name: record.dagster_event.event_specific_data.passed
        for record in instance.all_logs(run.run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION)
    }


def run_worker_pid(instance: DagsterInstance, run: DagsterRun) -> int | None:
    for record in instance.all_logs(run.run_id, of_type=DagsterEventType.ENGINE_EVENT):
        metadata = record.dagster_event.engine_event_data.metadata or {}
        if "pid" in metadata and record.dagster_event.message.startswith("Started process for run"):
            return int(metadata["pid"].value)
    return None
