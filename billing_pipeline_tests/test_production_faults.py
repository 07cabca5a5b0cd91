"""Production under faults: the real daemon on the repository's dagster.yaml (PostgreSQL instance storage) in a
temporary DAGSTER_HOME, with pool limits of 1 so that every pool is contended.

Five files at once; a run worker SIGKILLed mid-load; the store's PostgreSQL restarted mid-step; a backfill of
chunk partitions launched through the UI's GraphQL mutation. Every test ends with exact accounting and no debt,
boleto or e-mail twice.
"""

from __future__ import annotations

import json
import os
import signal
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
from dagster import DagsterEventType, DagsterRunStatus, RunsFilter
from sqlalchemy import func, select

from billing_pipeline.defs.notifications.sensors import REDELIVERY_TAG
from billing_pipeline.ingest.inbox import submit
from billing_pipeline.pdf.documents import count_pdfs
from billing_pipeline.settings import Settings
from billing_pipeline.store.engine import create_store_engine
from billing_pipeline.store.migrate import upgrade
from billing_pipeline.store.outbox import counts as outbox_counts
from billing_pipeline.store.tables import boletos, chunks, debts, source_files
from billing_pipeline_tests.support.event_log import (
    check_evaluations,
    most_at_once,
    run_worker_pid,
    runs_held_by_pools,
    step_spans,
)
from billing_pipeline_tests.support.files import SampleFile, write_sample_file
from billing_pipeline_tests.support.postgres import TableLock, waiting_on_a_lock
from billing_pipeline_tests.support.smtp import SmtpProcess
from billing_pipeline_tests.support.stacks import CODE_LOCATION, DagsterStack

pytestmark = pytest.mark.daemon

POOL_LIMITS = {"db": 1, "pdf": 1, "smtp": 1}
FINISHED = {DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED}


def make_stack(tmp_path: Path, instance_url: str, store_url: str, chunk_rows: int) -> DagsterStack:
    settings = Settings.from_env({}, data_dir=tmp_path / "data", database_url=store_url, chunk_rows=chunk_rows)
    settings.ensure_dirs()
    engine = create_store_engine(store_url)
    upgrade(engine)  # as `billing dev` and the code container do before Dagster starts
    engine.dispose()
    stack = DagsterStack.production(tmp_path, instance_url, settings)
    stack.billing("pools", *[arg for pool, limit in POOL_LIMITS.items() for arg in ("--set", f"{pool}={limit}")])
    return stack


@pytest.fixture
def stack_factory(postgres, tmp_path: Path) -> Iterator:
    stacks: list[DagsterStack] = []

    def build(store_url: str | None = None, chunk_rows: int = 300) -> DagsterStack:
        stack = make_stack(tmp_path, postgres.create_database("dagster_test"), store_url or postgres.create_database(),
                           chunk_rows)
        stacks.append(stack)
        return stack

    yield build
    for stack in stacks:
        stack.stop()


def all_runs_finished(stack: DagsterStack) -> bool:
    runs = stack.instance.get_runs()
    return bool(runs) and all(run.status in FINISHED for run in runs)


def assert_pools_respected(stack: DagsterStack) -> dict[str, int]:
    runs = stack.instance.get_runs()
    peaks = most_at_once(step_spans(stack.instance, runs))
    for pool, peak in peaks.items():
        assert peak <= POOL_LIMITS[pool], f"pool {pool} had {peak} steps at once, limit {POOL_LIMITS[pool]}"
    return peaks


def assert_store_exact(stack: DagsterStack, samples: Iterable[SampleFile], file_outbox: bool = True) -> None:
    """The files processed, each with its rows and rejects; every accepted debt stored once, billed once, mailed
    once."""
    samples = list(samples)
    settings = stack.settings
    engine = create_store_engine(settings.database_url)
    try:
        with engine.connect() as connection:
            files = {row["file_id"]: row for row in connection.execute(select(source_files)).mappings()}
            stored = connection.execute(select(func.count()).select_from(debts)).scalar_one()
            distinct = connection.execute(select(func.count(func.distinct(debts.c.debt_id)))).scalar_one()
            billed = connection.execute(select(func.count()).select_from(boletos)).scalar_one()
            chunk_keys = list(connection.execute(select(chunks.c.chunk_key)).scalars())
        assert set(files) == {sample.file_id for sample in samples}
        for sample in samples:
            row = files[sample.file_id]
            assert row["status"] == "processed"
            assert (row["rows"], row["rejected"], row["duplicates"], row["accepted"]) == (
                sample.rows, sample.rejected, 0, sample.accepted)
        accepted = sum(sample.accepted for sample in samples)
        assert stored == distinct == billed == accepted
        assert count_pdfs(settings.boleto_archive_path(key) for key in chunk_keys) == accepted
        assert outbox_counts(engine) == {"pending": 0, "sent": accepted, "failed": 0, "suppressed": 0}
        if file_outbox:
            assert len(list(settings.outbox_dir.glob("*.eml"))) == accepted
    finally:
        engine.dispose()


def test_five_files_at_once_are_processed_exactly_within_pool_limits(stack_factory, tmp_path):
    stack = stack_factory(chunk_rows=300)
    stack.start_daemon()
    samples = [write_sample_file(tmp_path / f"debts-{number}.csv", rows=600, seed=300 + number,
                                 invalid_rate=0.2 if number == 4 else 0.01) for number in range(5)]
    bad_file_id = samples[4].file_id
    for sample in samples:
        submit(sample.path, stack.settings.inbox_dir)

    reports = [stack.settings.report_path(sample.file_id) for sample in samples]
    stack.wait_for(lambda: all(path.exists() for path in reports), "the five file reports", timeout=480)
    stack.wait_for(lambda: all_runs_finished(stack), "every run to end")

    instance = stack.instance
    runs = instance.get_runs()
    assert {run.status for run in runs} == {DagsterRunStatus.SUCCESS}
    chunk_runs = instance.get_runs(RunsFilter(job_name="process_chunk"))
    assert len(chunk_runs) == 10  # 600 rows / 300 per chunk, five files
    deliveries = instance.get_runs(RunsFilter(job_name="deliver_chunk"))
    assert sorted(run.tags["dagster/partition"] for run in deliveries) == sorted(
        run.tags["dagster/partition"] for run in chunk_runs)
    assert_store_exact(stack, samples)

    expected = {sample.file_id: sample for sample in samples}
    for run in chunk_runs:
        checks = check_evaluations(instance, run)
        from_bad_file = run.tags["dagster/partition"].startswith(bad_file_id[:12])
        assert checks["reject_rate_below_threshold"] is (not from_bad_file), run.tags["dagster/partition"]
        assert checks["row_accounting_holds"] and checks["debt_ids_stored_once"]
        assert checks["linha_matches_barcode"] and checks["every_debt_has_one_boleto"]
    for path in reports:
        report = json.loads(path.read_text(encoding="utf-8"))
        sample = expected[report["file_id"]]
        assert (report["rows"], report["rejected"], report["accepted"]) == (sample.rows, sample.rejected,
                                                                               sample.accepted)

    peaks = assert_pools_respected(stack)
    assert peaks == POOL_LIMITS  # every pool was used, none beyond its limit
    # Not vacuous: runs waited in the queue while run slots were free, so the pools, not the run limit, kept them
    # apart. (Whether two runs also overlap in time depends on timing: with a run buffer of 0 a run is launched
    # only when its first step's pool has a free slot.)
    assert runs_held_by_pools(instance, runs) >= 3


def loads_waiting_on_a_lock(url: str) -> int:
    return waiting_on_a_lock(url, "COPY debts ", "INSERT INTO debts")


def a_file_with_loads_held(url: str, tmp_path: Path, seed: int) -> tuple[SampleFile, TableLock]:
    """A 900-row file, and a lock on debts in the store at `url` that stops the first chunk load inside its COPY,
    so that a kill lands mid-load. Releasing the lock lets the loads through."""
    return (write_sample_file(tmp_path / "debts.csv", rows=900, seed=seed, invalid_rate=0.01),
            TableLock(url, "debts"))


def test_a_run_worker_killed_mid_load_is_retried_without_duplicates(stack_factory, tmp_path):
    stack = stack_factory(chunk_rows=300)
    sample, lock = a_file_with_loads_held(stack.settings.database_url, tmp_path, seed=41)
    stack.start_daemon()
    submit(sample.path, stack.settings.inbox_dir)
    instance = stack.instance

    def loading_run():
        for run in instance.get_runs(RunsFilter(job_name="process_chunk", statuses=[DagsterRunStatus.STARTED])):
            started = {r.step_key for r in instance.all_logs(run.run_id, of_type=DagsterEventType.STEP_START)}
            if "debts" in started:
                return run
        return None

    def load_is_waiting_on_the_lock() -> bool:
        return loads_waiting_on_a_lock(stack.settings.database_url) > 0 and loading_run() is not None

    stack.wait_for(load_is_waiting_on_the_lock, "a chunk load to wait on the debts table")
    victim = loading_run()
    # The worker writes its own "Started process for run (pid: N)" event (Dagster's execute_run), which under load
    # may land in the event log after its first step's.
    pid = stack.wait_for(lambda: run_worker_pid(instance, victim), "the run worker to report its pid")
    os.kill(pid, signal.SIGKILL)
    lock.release()

    stack.wait_for(lambda: instance.get_run_by_id(victim.run_id).status == DagsterRunStatus.FAILURE,
                   "the killed run to be marked failed")
    retries = lambda: instance.get_runs(RunsFilter(tags={"dagster/parent_run_id": victim.run_id}))  # noqa: E731
    stack.wait_for(lambda: any(run.status == DagsterRunStatus.SUCCESS for run in retries()),
                   "the crashed run's automatic retry to succeed")
    stack.wait_for(stack.settings.report_path(sample.file_id).exists, "the file report")
    stack.wait_for(lambda: all_runs_finished(stack), "every run to end")

    retry = retries()[0]
    assert retry.tags["dagster/partition"] == victim.tags["dagster/partition"]
    # Resumed from the failure: the retry did not validate the chunk again.
    retried_steps = {r.step_key for r in instance.all_logs(retry.run_id, of_type=DagsterEventType.STEP_START)}
    assert retried_steps == {"debts", "boletos"}  # delivery is a run of its own
    assert_store_exact(stack, [sample])
    assert_pools_respected(stack)


def test_the_whole_production_stack_killed_mid_load_recovers_without_an_operator(stack_factory, tmp_path):
    """The repository's dagster.yaml (PostgreSQL instance storage): the daemon, its code server, the webserver and
    the run workers are SIGKILLed together while a chunk is inside its COPY, then the daemon alone is started."""
    stack = stack_factory(chunk_rows=300)
    sample, lock = a_file_with_loads_held(stack.settings.database_url, tmp_path, seed=44)
    stack.start_webserver()
    stack.start_daemon()
    submit(sample.path, stack.settings.inbox_dir)
    instance = stack.instance
    storing = RunsFilter(job_name="process_chunk", statuses=[DagsterRunStatus.STARTED])
    stack.wait_for(lambda: loads_waiting_on_a_lock(stack.settings.database_url) > 0 and instance.get_runs(storing),
                   "a chunk load inside the store")
    victims = instance.get_runs(storing)
    stack.kill()
    lock.release()
    stack.start_daemon()

    stack.wait_for(stack.settings.report_path(sample.file_id).exists, "the file report after the restart",
                   timeout=420)
    stack.wait_for(lambda: all_runs_finished(stack), "every run to end")
    for victim in victims:
        assert instance.get_run_by_id(victim.run_id).status == DagsterRunStatus.FAILURE
        verdicts = [r.message for r in instance.all_logs(victim.run_id, of_type=DagsterEventType.RUN_FAILURE)]
        assert any("Detected run worker status FAILED" in message for message in verdicts), verdicts
        retries = instance.get_runs(RunsFilter(tags={"dagster/parent_run_id": victim.run_id}))
        assert DagsterRunStatus.SUCCESS in {run.status for run in retries}
    assert_store_exact(stack, [sample])
    assert_pools_respected(stack)


def test_the_store_restarting_mid_step_is_retried_and_the_file_completes(stack_factory, private_cluster, tmp_path):
    stack = stack_factory(store_url=private_cluster.url("billing"), chunk_rows=300)
    sample, lock = a_file_with_loads_held(stack.settings.database_url, tmp_path, seed=52)
    stack.start_daemon()
    submit(sample.path, stack.settings.inbox_dir)

    stack.wait_for(lambda: loads_waiting_on_a_lock(stack.settings.database_url) > 0,
                   "a chunk load to be inside the store")
    lock.release()
    # The server goes away under a step that is using it, and comes back a few seconds later.
    private_cluster.stop("fast")
    restart = threading.Timer(4.0, private_cluster.start)
    restart.start()

    stack.wait_for(stack.settings.report_path(sample.file_id).exists, "the file report after the restart",
                   timeout=420)
    restart.join()
    stack.wait_for(lambda: all_runs_finished(stack), "every run to end")

    instance = stack.instance
    runs = instance.get_runs()
    assert {run.status for run in runs} == {DagsterRunStatus.SUCCESS}
    retried = [
        record.step_key
        for run in runs
        for record in instance.all_logs(run.run_id, of_type=DagsterEventType.STEP_UP_FOR_RETRY)
    ]
    assert "debts" in retried  # the step that lost its connection was retried by its policy, in the same run
    assert_store_exact(stack, [sample])
    assert_pools_respected(stack)


LAUNCH_BACKFILL = """
mutation LaunchPartitionBackfill($backfillParams: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $backfillParams) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message stack }
    ... on PartitionKeysNotFoundError { message }
    ... on UnauthorizedError { message }
  }
}
"""

BACKFILL_STATUS = """
query BackfillStatus($backfillId: String!) {
  partitionBackfillOrError(backfillId: $backfillId) {
    ... on PartitionBackfill { status numPartitions }
  }
}
"""

STOP_SENSOR = """
mutation StopSensor($id: String!) {
  stopSensor(id: $id) { __typename ... on StopSensorMutationResult { instigationState { status } } }
}
"""

SENSOR_STATE = """
query Sensor($selector: SensorSelector!) {
  sensorOrError(sensorSelector: $selector) { ... on Sensor { sensorState { id status } } }
}
"""

CHUNK_ASSETS = ["validated_chunk", "debts", "boletos", "boleto_pdfs", "notifications"]


def test_a_backfill_of_chunk_ranges_launched_like_the_ui_completes_within_pool_limits(stack_factory, tmp_path):
    stack = stack_factory(chunk_rows=250)
    stack.start_webserver()
    selector = {"repositoryName": "__repository__", "repositoryLocationName": CODE_LOCATION,
                "sensorName": "chunk_sensor"}
    state = stack.graphql(SENSOR_STATE, {"selector": selector})["sensorOrError"]["sensorState"]
    # An operator pauses the chunk sensor, so the new file's chunks wait for a backfill. It is paused before the
    # daemon starts: a tick already under way when the mutation lands writes its RUNNING state back over it.
    assert stack.graphql(STOP_SENSOR, {"id": state["id"]})["stopSensor"]["instigationState"]["status"] == "STOPPED"
    stack.start_daemon()

    sample = write_sample_file(tmp_path / "debts.csv", rows=1_000, seed=63, invalid_rate=0.01)
    file_id = sample.file_id
    submit(sample.path, stack.settings.inbox_dir)
    keys = [f"{file_id[:12]}-{n:04d}" for n in range(4)]
    stack.wait_for(lambda: all(stack.instance.has_dynamic_partition("chunks", key) for key in keys),
                   "the file's chunk partitions")
    stack.wait_for(lambda: all_runs_finished(stack), "the ingest run to end")
    assert stack.graphql(SENSOR_STATE, {"selector": selector})["sensorOrError"]["sensorState"]["status"] == "STOPPED"

    def backfill(partition_keys: list[str]) -> str:
        result = stack.graphql(LAUNCH_BACKFILL, {"backfillParams": {
            "partitionNames": partition_keys,
            "assetSelection": [{"path": [name]} for name in CHUNK_ASSETS],
            "fromFailure": False,
            "tags": [],
            "title": "finish chunks",
        }})["launchPartitionBackfill"]
        assert result["__typename"] == "LaunchBackfillSuccess", result
        backfill_id = result["backfillId"]

        def done() -> bool:
            status = stack.graphql(BACKFILL_STATUS, {"backfillId": backfill_id})["partitionBackfillOrError"]
            return status["status"] in {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}

        stack.wait_for(done, f"backfill {backfill_id}", timeout=420)
        status = stack.graphql(BACKFILL_STATUS, {"backfillId": backfill_id})["partitionBackfillOrError"]
        assert status == {"status": "COMPLETED_SUCCESS", "numPartitions": len(partition_keys)}
        return backfill_id

    first = backfill(keys[:3])  # a range of the file's chunks
    engine = create_store_engine(stack.settings.database_url)
    with engine.connect() as connection:
        loaded = dict(connection.execute(select(chunks.c.chunk_key, chunks.c.status)).all())
    engine.dispose()
    assert [loaded[key] for key in keys] == ["loaded"] * 3 + ["pending"]
    second = backfill(keys[3:])  # then the rest

    stack.wait_for(stack.settings.report_path(file_id).exists, "the file report")
    stack.wait_for(lambda: all_runs_finished(stack), "every run to end")
    instance = stack.instance
    for backfill_id, partition_keys in ((first, keys[:3]), (second, keys[3:])):
        backfill_runs = instance.get_runs(RunsFilter(tags={"dagster/backfill": backfill_id}))
        assert sorted(run.tags["dagster/partition"] for run in backfill_runs) == partition_keys
        assert {run.status for run in backfill_runs} == {DagsterRunStatus.SUCCESS}
    assert_store_exact(stack, [sample])
    peaks = assert_pools_respected(stack)
    assert peaks == POOL_LIMITS


def test_a_mail_server_down_past_every_step_retry_gets_every_notice_once_when_it_is_back(stack_factory, tmp_path):
    stack = stack_factory(chunk_rows=300)
    smtp = SmtpProcess(tmp_path / "smtp-accepted.log")  # not started: the mail server is down
    first_wait, max_wait = 4, 8
    stack.env.update(BILLING_SMTP_URL=smtp.url, BILLING_SMTP_MAX_ATTEMPTS="1", BILLING_SMTP_TIMEOUT="2",
                     BILLING_SMTP_STEP_RETRIES="1", BILLING_SMTP_STEP_RETRY_SECONDS="1",
                     BILLING_REDELIVERY_FIRST_WAIT_SECONDS=str(first_wait),
                     BILLING_REDELIVERY_MAX_WAIT_SECONDS=str(max_wait))
    sample = write_sample_file(tmp_path / "debts.csv", rows=600, seed=71, invalid_rate=0.01)
    stack.start_daemon()
    submit(sample.path, stack.settings.inbox_dir)
    instance = stack.instance

    def redeliveries(statuses=None) -> list:
        return [run for run in instance.get_runs(RunsFilter(job_name="deliver_chunk", statuses=statuses))
                if REDELIVERY_TAG in run.tags]

    # Outlasts each chunk's first delivery with its step retry, and then a second and third delivery of a chunk.
    stack.wait_for(lambda: sum(int(run.tags[REDELIVERY_TAG]) >= 2 for run in
                               redeliveries([DagsterRunStatus.FAILURE])) >= 1,
                   "a second redelivery to fail while the mail server is down", timeout=420)
    with smtp:
        stack.wait_for(stack.settings.report_path(sample.file_id).exists,
                       "the file report once the mail server is back", timeout=420)
        stack.wait_for(lambda: all_runs_finished(stack), "every run to end")
        accepted = smtp.accepted()

    assert len(accepted) == sample.accepted and set(accepted.values()) == {1}  # every notice once
    engine = create_store_engine(stack.settings.database_url)
    assert outbox_counts(engine) == {"pending": 0, "sent": sample.accepted, "failed": 0, "suppressed": 0}
    engine.dispose()

    first_deliveries = [run for run in instance.get_runs(RunsFilter(job_name="deliver_chunk"))
                        if REDELIVERY_TAG not in run.tags]
    assert len(first_deliveries) == 2 and {run.status for run in first_deliveries} == {DagsterRunStatus.FAILURE}
    for run in first_deliveries:
        failures = instance.all_logs(run.run_id, of_type=DagsterEventType.STEP_FAILURE)
        assert any("notices wait on the mail server" in record.dagster_event.event_specific_data.error.message
                   for record in failures)
        assert len(instance.all_logs(run.run_id, of_type=DagsterEventType.STEP_UP_FOR_RETRY)) == 1
    # Each chunk was delivered again at growing intervals after each failure, until the last delivery succeeded.
    for key in {run.tags["dagster/partition"] for run in first_deliveries}:
        chain = sorted(instance.get_run_records(RunsFilter(job_name="deliver_chunk",
                                                           tags={"dagster/partition": key})),
                       key=lambda record: record.create_timestamp)
        assert [r.dagster_run.status for r in chain][-1] == DagsterRunStatus.SUCCESS
        assert {r.dagster_run.status for r in chain[:-1]} == {DagsterRunStatus.FAILURE}
        for attempt, (failed, next_run) in enumerate(zip(chain, chain[1:], strict=False)):
            assert next_run.dagster_run.tags[REDELIVERY_TAG] == str(attempt + 1)
            gap = next_run.create_timestamp.timestamp() - failed.end_time
            assert gap >= min(first_wait * 2**attempt, max_wait) - 0.5, (key, attempt, gap)
    # What an operator reads on the sensor's ticks while a chunk waits is proven in test_redelivery_sensor.py: the
    # sensor looks every 30 s, longer than this test's waits, so its looks here find each redelivery already due.
    assert_store_exact(stack, [sample], file_outbox=False)
