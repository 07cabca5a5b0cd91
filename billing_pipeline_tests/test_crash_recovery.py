"""A crash of the whole stack mid-file does not strand the file: `billing dev` (webserver, daemon, code server, run
workers) is killed at once, as by a power cut, and started again; Dagster's run monitoring fails the runs whose
workers died (billing_pipeline.instance.run_launcher tells it), which frees their pool slots, and run_retries
re-executes them. No operator acts in between."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from dagster import DagsterEventType, DagsterRunStatus, RunsFilter
from sqlalchemy import func, select

from billing_pipeline.ingest.inbox import submit
from billing_pipeline.instance.run_launcher import LAUNCHED_IN_TAG, process_table_identity
from billing_pipeline.store.engine import create_store_engine
from billing_pipeline.store.migrate import upgrade
from billing_pipeline.store.outbox import counts as outbox_counts
from billing_pipeline.store.tables import boletos, chunks, debts, outbox, source_files
from billing_pipeline_tests.support.files import write_sample_file
from billing_pipeline_tests.support.postgres import TableLock, waiting_on_a_lock
from billing_pipeline_tests.support.processes import child_environment
from billing_pipeline_tests.support.smtp import SmtpProcess
from billing_pipeline_tests.support.stacks import BillingDev

pytestmark = pytest.mark.daemon

IN_PROGRESS = [DagsterRunStatus.QUEUED, DagsterRunStatus.NOT_STARTED, DagsterRunStatus.STARTING,
               DagsterRunStatus.STARTED, DagsterRunStatus.CANCELING]
MONITOR_VERDICT = "Detected run worker status FAILED"


class Store:
    def __init__(self, url: str):
        self.url = url
        self.engine = create_store_engine(url)
        upgrade(self.engine)  # as `billing dev` does first: the tests lock its tables before it starts

    def scalar(self, query):
        with self.engine.connect() as connection:
            return connection.execute(query).scalar()

    def debts(self) -> int:
        return self.scalar(select(func.count()).select_from(debts))

    def loaded_chunks(self) -> int:
        return self.scalar(select(func.count()).select_from(chunks).where(chunks.c.status == "loaded"))

    def file_status(self, file_id: str) -> str | None:
        return self.scalar(select(source_files.c.status).where(source_files.c.file_id == file_id))

    def reported(self, file_id: str) -> bool:
        return self.scalar(select(source_files.c.reported_at).where(source_files.c.file_id == file_id)) is not None

    def waiting_on_a_lock(self, statement_prefix: str) -> bool:
        return waiting_on_a_lock(self.url, statement_prefix) > 0


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[SmtpProcess]:
    with SmtpProcess(tmp_path / "smtp-accepted.log") as server:
        yield server


@pytest.fixture
def dev_factory(postgres, tmp_path: Path) -> Iterator:
    stacks: list[BillingDev] = []

    def build(chunk_rows: int, **extra: str) -> tuple[BillingDev, Store]:
        store_url = postgres.create_database()
        env = child_environment(BILLING_DATA_DIR=str(tmp_path / "data"), BILLING_DATABASE_URL=store_url,
                                BILLING_CHUNK_ROWS=str(chunk_rows), BILLING_INBOX_POLL_SECONDS="1", **extra)
        stack = BillingDev(tmp_path, env)
        stacks.append(stack)
        return stack, Store(store_url)

    yield build
    for stack in stacks:
        stack.stop()


def started_runs(stack: BillingDev, job_name: str) -> list:
    return stack.instance.get_runs(RunsFilter(job_name=job_name, statuses=[DagsterRunStatus.STARTED]))


def assert_recovered(stack: BillingDev, victims: list, restarted_at: float) -> float:
    """Every run the crash left STARTED was failed by run monitoring and re-executed by run_retries, with success.
    Returns how many seconds after the restart the first dead run was failed."""
    instance = stack.instance
    failed_at = []
    for victim in victims:
        assert victim.tags[LAUNCHED_IN_TAG] == process_table_identity()  # tagged by the launcher at launch
        run = instance.get_run_record_by_id(victim.run_id)
        assert run.dagster_run.status == DagsterRunStatus.FAILURE, victim.run_id
        verdicts = [r.message for r in instance.all_logs(victim.run_id, of_type=DagsterEventType.RUN_FAILURE)]
        assert any(MONITOR_VERDICT in message and "no longer exists" in message for message in verdicts), verdicts
        failed_at.append(run.end_time)
        # Re-executed until one succeeded: on a loaded machine a retry can die too, and is retried in turn.
        _, group = instance.get_run_group(victim.run_id)
        retries = sorted((r for r in group if r.tags.get("dagster/parent_run_id")),
                         key=lambda r: instance.get_run_record_by_id(r.run_id).create_timestamp)
        assert retries and retries[-1].status == DagsterRunStatus.SUCCESS, victim.run_id
        assert any(r.parent_run_id == victim.run_id for r in retries), victim.run_id
    return min(failed_at) - restarted_at


@contextmanager
def crash_inside_the_store(stack: BillingDev, store: Store, table: str, statement: str, job_name: str):
    """Kills the whole stack while a `job_name` run is inside `statement` on `table`, held there by a lock taken
    before the body (which starts what leads there). Yields the list it fills with the runs that were executing."""
    victims: list = []
    with TableLock(store.url, table):  # released also when the wait fails, else the test database stays locked
        yield victims
        stack.wait_for(lambda: store.waiting_on_a_lock(statement) and started_runs(stack, job_name),
                       f"a {job_name} run inside {statement}")
        victims.extend(started_runs(stack, job_name))
        stack.kill()


def wait_until_settled(stack: BillingDev, store: Store, file_id: str) -> None:
    stack.wait_for(lambda: store.reported(file_id), "the file's final report", timeout=600)
    stack.wait_for(lambda: not stack.instance.get_runs(RunsFilter(statuses=IN_PROGRESS)), "every run to end")


def test_a_file_survives_two_crashes_of_the_whole_stack(dev_factory, smtp, tmp_path, capsys):
    rows = 6_000
    stack, store = dev_factory(chunk_rows=1_000, BILLING_SMTP_URL=smtp.url, BILLING_SMTP_RATE="100")
    clean = write_sample_file(tmp_path / "debts.csv", rows, seed=12)  # no bad row: every debt billed and mailed
    source, file_id = clean.path, clean.file_id

    # Crash 1: while chunks are being stored. The lock holds the loads inside their COPY when the kill lands.
    stack.start()
    with crash_inside_the_store(stack, store, "debts", "COPY debts", "process_chunk") as storing:
        submit(source, tmp_path / "data" / "inbox")
    assert store.loaded_chunks() < rows // 1_000
    restarted = stack.start()

    # Crash 2: while notices are being sent to the mail server.
    stack.wait_for(lambda: 200 <= sum(smtp.accepted().values()) < rows and started_runs(stack, "deliver_chunk"),
                   "notices on their way to the mail server", timeout=600, every=0.2)
    delivering = started_runs(stack, "deliver_chunk")
    sent_before_crash = sum(smtp.accepted().values())
    killed = stack.kill()
    restarted_again = stack.start()

    wait_until_settled(stack, store, file_id)
    first_recovery = assert_recovered(stack, storing, restarted)
    second_recovery = assert_recovered(stack, delivering, restarted_again)

    with store.engine.connect() as connection:
        file = connection.execute(select(source_files).where(source_files.c.file_id == file_id)).mappings().one()
        stored = connection.execute(select(func.count(func.distinct(debts.c.debt_id)))).scalar_one()
        billed = connection.execute(select(func.count(func.distinct(boletos.c.debt_id)))).scalar_one()
        message_ids = set(connection.execute(select(outbox.c.message_id)).scalars())
    assert (file["status"], file["rows"], file["accepted"], file["rejected"]) == ("processed", rows, rows, 0)
    assert stored == billed == rows
    assert outbox_counts(store.engine) == {"pending": 0, "sent": rows, "failed": 0, "suppressed": 0}
    accepted = smtp.accepted()
    assert set(accepted) == message_ids and len(message_ids) == rows  # every debtor, under its one Message-ID
    twice = {message_id: n for message_id, n in accepted.items() if n > 1}
    with capsys.disabled():  # in the CI log whether the test passes or not
        print(f"\n{killed} processes killed per crash; {len(storing)} chunk run(s) and {len(delivering)} delivery "
              f"run(s) died; {sent_before_crash} notices accepted before the second crash; the first dead run failed "
              f"{first_recovery:.0f} s and {second_recovery:.0f} s after each restart; messages accepted twice "
              f"(same Message-ID): {len(twice)}")
    assert first_recovery < 90 and second_recovery < 90  # recovery starts within about a minute of a restart
    assert sum(twice.values()) - len(twice) <= 5 * len(delivering)  # at most the few in flight per dead worker


def test_a_crash_during_the_split_and_one_during_the_report_are_recovered(dev_factory, tmp_path, capsys):
    rows = 2_000
    stack, store = dev_factory(chunk_rows=1_000)
    clean = write_sample_file(tmp_path / "debts.csv", rows, seed=13)  # no bad row: every debt billed and mailed
    source, file_id = clean.path, clean.file_id

    # Crash 1: the ingest_file run is writing the file's chunks.
    stack.start()
    with crash_inside_the_store(stack, store, "chunks", "COPY chunks", "ingest_file") as splitting:
        submit(source, tmp_path / "data" / "inbox")
    restarted = stack.start()

    # Crash 2: the report_file run is recording the final report. Once the file is processed (every chunk stored)
    # nothing but that writes to source_files: the deliveries go on under the lock.
    stack.wait_for(lambda: store.file_status(file_id) == "processed", "every chunk stored", timeout=600)
    with crash_inside_the_store(stack, store, "source_files", "UPDATE source_files", "report_file") as reporting:
        pass  # the deliveries, then the report, follow by themselves
    assert outbox_counts(store.engine)["sent"] == rows
    restarted_again = stack.start()

    wait_until_settled(stack, store, file_id)
    first_recovery = assert_recovered(stack, splitting, restarted)
    second_recovery = assert_recovered(stack, reporting, restarted_again)
    with store.engine.connect() as connection:
        file = connection.execute(select(source_files).where(source_files.c.file_id == file_id)).mappings().one()
        chunk_count = connection.execute(select(func.count()).select_from(chunks)).scalar_one()
    assert (file["status"], file["rows"], file["accepted"], file["chunk_count"]) == ("processed", rows, rows, 2)
    assert chunk_count == 2 and store.debts() == rows
    assert outbox_counts(store.engine) == {"pending": 0, "sent": rows, "failed": 0, "suppressed": 0}
    assert len(list((tmp_path / "data" / "outbox").glob("*.eml"))) == rows
    assert (tmp_path / "data" / "reports" / f"{file_id}.json").exists()
    with capsys.disabled():
        print(f"\nthe dead split run failed {first_recovery:.0f} s and the dead report run {second_recovery:.0f} s "
              "after each restart")
    assert first_recovery < 90 and second_recovery < 90
