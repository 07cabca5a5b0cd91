"""A file through dagster-celery's executor (BILLING_EXECUTOR=celery) over the RabbitMQ of this machine: two Celery
workers, each in a working directory, HOME and DAGSTER_HOME of its own, take the steps; the report's numbers are
those of the same file through the default in-process executor, and the pool limits hold.

The workers share no disk with the daemon or with each other: they reach the broker, the Dagster instance storage
(PostgreSQL), the store (PostgreSQL) and the runtime folders, a bucket of a real S3-compatible server.
The test has a RabbitMQ vhost of its own (made with rabbitmqctl, deleted at the end), so leftover or parallel
workers on the same broker cannot take its tasks. Without a reachable broker it is skipped, and fails under CI=true.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
import s3fs
import yaml
from dagster import DagsterEventType, DagsterRunStatus, RunsFilter

from billing_pipeline.ingest.inbox import submit
from billing_pipeline.pdf.documents import count_pdfs
from billing_pipeline.settings import Settings
from billing_pipeline.store.engine import create_store_engine
from billing_pipeline.store.migrate import upgrade
from billing_pipeline_tests.support.event_log import STEP_OPENS, StepSpan, most_at_once, step_spans
from billing_pipeline_tests.support.files import SampleFile, write_sample_file
from billing_pipeline_tests.support.paths import BIN
from billing_pipeline_tests.support.processes import (
    kill_processes_mentioning,
    start_logged,
    stop_process_group,
)
from billing_pipeline_tests.support.stacks import (
    DagsterStack,
    dagster_home,
    postgres_instance_environment,
    production_instance_yaml,
)
from billing_pipeline_tests.support.waiting import wait_for

pytestmark = pytest.mark.daemon

BROKER_HOST, BROKER_PORT = "127.0.0.1", 5672
BROKER_USER = "guest:guest"
WORKERS = ("a", "b")
# db below the number of workers, so that the limit is what keeps a second db step from starting; pdf and smtp as
# shipped (2): the two workers then also run steps side by side.
POOL_LIMITS = {"db": 1, "pdf": 2, "smtp": 2}
# The celery stack's run queue launches a run whatever its pools (dagster.yaml's 0 holds a run until its first
# step can take a slot): the chunk runs then run at the same time, and only the executor's slot claims inside the
# runs keep their db steps apart. That is what this test proves; the run queue's check does not depend on the
# executor.
RUN_BUFFER = 4  # = max_concurrent_runs
ROWS, CHUNK_ROWS = 600, 200  # three chunks
FINISHED = {DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED}
# What may differ between two runs of the same file: how long it took.
TIMINGS = {"wall_seconds", "rows_per_second"}


def _unavailable(message: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


def runtime_folder(bucket: str, stack: str) -> str:
    """BILLING_DATA_DIR of a stack and of its workers: a prefix of the test's bucket, so that the daemon, its run
    workers and the Celery workers share no disk at all, as on separate machines."""
    return f"s3://{bucket}/{stack}"


def stack_environment(stack: DagsterStack) -> dict[str, str]:
    """What the daemon, its run workers and the Celery workers all get (besides their own folders)."""
    return stack.env


# --- the broker ---------------------------------------------------------------------------------------------------

def broker_problem() -> str | None:
    """Why the test's broker cannot be used, or None."""
    try:
        socket.create_connection((BROKER_HOST, BROKER_PORT), timeout=3).close()
    except OSError as error:
        return f"RabbitMQ at {BROKER_HOST}:{BROKER_PORT} is not reachable: {error}"
    if shutil.which("rabbitmqctl") is None:
        return "rabbitmqctl not found: the test makes a RabbitMQ vhost of its own with it"
    return None


def rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=120)


@pytest.fixture
def broker_url() -> Iterator[str]:
    """A vhost of this test's own on the local RabbitMQ (guest may use it), deleted with everything in it."""
    problem = broker_problem()
    if problem:
        _unavailable(problem)
    vhost = f"billing-test-{uuid.uuid4().hex[:12]}"
    try:
        rabbitmqctl("add_vhost", vhost)
        rabbitmqctl("set_permissions", "-p", vhost, BROKER_USER.split(":")[0], ".*", ".*", ".*")
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
        _unavailable(f"cannot make a RabbitMQ vhost with rabbitmqctl: {error}: {getattr(error, 'stderr', '')}")
    url = f"pyamqp://{BROKER_USER}@{BROKER_HOST}:{BROKER_PORT}/{vhost}"
    from kombu import Connection  # the test's own look: the vhost takes the guest account

    with Connection(url, connect_timeout=5) as connection:
        connection.ensure_connection(max_retries=2)
    yield url
    with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
        rabbitmqctl("delete_vhost", vhost)


# --- the Celery workers -------------------------------------------------------------------------------------------

@dataclass
class CeleryWorker:
    name: str  # Celery's node name: name@host
    folder: Path  # its working directory, HOME, TMPDIR and DAGSTER_HOME, nobody else's
    log: Path
    process: subprocess.Popen

    def ready(self) -> bool:
        return self.log.exists() and f"{self.name}@" in (text := self.log.read_text(errors="replace")) and (
            " ready." in text)

    def pids(self) -> set[int]:
        """The worker and its pool processes (which run the steps)."""
        with contextlib.suppress(psutil.NoSuchProcess):
            root = psutil.Process(self.process.pid)
            return {root.pid, *(child.pid for child in root.children(recursive=True))}
        return set()

    def stop(self) -> None:
        stop_process_group(self.process)
        kill_processes_mentioning(str(self.folder))


def start_worker(name: str, folder: Path, environment: dict[str, str], broker_url: str) -> CeleryWorker:
    """`dagster-celery worker start` as an operator runs it on a machine of its own: one process (concurrency 1),
    the executor's config (broker, backend) in a file of its folder, DAGSTER_HOME in its folder too."""
    folder.mkdir(parents=True)
    home = folder / "dagster_home"
    home.mkdir()
    # Its own copy of the instance file: PostgreSQL storage as the daemon's, the local paths in its own folder.
    (home / "dagster.yaml").write_text(production_instance_yaml(home), encoding="utf-8")
    (folder / "tmp").mkdir()
    config = folder / "celery.yaml"
    config.write_text(yaml.safe_dump({"execution": {"config": {"broker": broker_url, "backend": "rpc://"}}}),
                      encoding="utf-8")
    env = {**environment, "DAGSTER_HOME": str(home), "HOME": str(folder), "TMPDIR": str(folder / "tmp"),
           "PATH": f"{BIN}{os.pathsep}{environment.get('PATH', '')}"}  # it starts `celery` from PATH
    log = folder / "worker.log"
    process = start_logged(
        [str(BIN / "dagster-celery"), "worker", "start", "-A", "dagster_celery.app", "-y", str(config), "-n", name,
         "-l", "INFO", "--", "--concurrency=1", "--without-mingle", "--without-gossip"],
        env=env, cwd=folder, log=log)
    return CeleryWorker(name, folder, log, process)


# --- the stacks -----------------------------------------------------------------------------------------------------

def make_stack(tmp_path: Path, name: str, postgres, s3_bucket, run_buffer: int | None = None, **environment: str
               ) -> DagsterStack:
    """The daemon on the repository's dagster.yaml (PostgreSQL instance storage) in tmp_path/name, the store in a
    PostgreSQL database, `environment` added (BILLING_EXECUTOR...), the pools at POOL_LIMITS; `run_buffer`, when
    given, as the run queue's op_granularity_run_buffer."""
    root = tmp_path / name
    root.mkdir()
    server, bucket = s3_bucket
    settings = Settings.from_env({}, data_dir=runtime_folder(bucket, name),
                                 database_url=postgres.create_database(), chunk_rows=CHUNK_ROWS)
    settings.ensure_dirs()
    engine = create_store_engine(settings.database_url)
    upgrade(engine)  # as `billing dev` and the code container do before Dagster starts
    engine.dispose()
    instance_yaml = yaml.safe_load(production_instance_yaml(root / "dagster_home"))
    # Compute logs are files of this machine's DAGSTER_HOME, which a worker elsewhere cannot write to (production
    # with remote workers keeps them in a bucket: dagster-aws's S3ComputeLogManager); none are kept here, so that
    # nothing a worker does touches the daemon's folder.
    instance_yaml["compute_logs"] = {"module": "dagster._core.storage.noop_compute_log_manager",
                                     "class": "NoOpComputeLogManager"}
    if run_buffer is not None:
        instance_yaml["concurrency"]["pools"]["op_granularity_run_buffer"] = run_buffer
    home = dagster_home(root, yaml.safe_dump(instance_yaml, sort_keys=False))
    env = DagsterStack._environment(home, settings, postgres_instance_environment(
        postgres.create_database("dagster_test")))
    env.update(server.env(), **environment)
    stack = DagsterStack(home, settings, env, root / "dagster.log")
    stack.billing("pools", *[arg for pool, limit in POOL_LIMITS.items() for arg in ("--set", f"{pool}={limit}")])
    return stack


def all_runs_finished(stack: DagsterStack) -> bool:
    runs = stack.instance.get_runs()
    return bool(runs) and all(run.status in FINISHED for run in runs)


def process_file(stack: DagsterStack, sample: SampleFile) -> dict:
    """Drops the file into the stack's inbox and returns its report once every run has ended, all successfully."""
    submit(sample.path, stack.settings.inbox_dir)
    report = stack.settings.report_path(sample.file_id)
    stack.wait_for(report.exists, "the file report", timeout=400, every=1)
    stack.wait_for(lambda: all_runs_finished(stack), "every run to end", timeout=120, every=1)
    assert {run.status for run in stack.instance.get_runs()} == {DagsterRunStatus.SUCCESS}
    return json.loads(report.read_text(encoding="utf-8"))


def the_numbers(report: dict) -> dict:
    return {key: value for key, value in report.items() if key not in TIMINGS}


@pytest.fixture
def stacks() -> Iterator[list]:
    """Whatever the test starts (stacks and workers), stopped at its end with everything they spawned."""
    started: list = []
    yield started
    for thing in reversed(started):
        thing.stop()


def test_a_file_through_celery_workers_gives_the_numbers_of_the_default_executor(broker_url, postgres, tmp_path,
                                                                                    stacks, s3_bucket, monkeypatch):
    for name, value in s3_bucket[0].env().items():  # this process reads the bucket too
        monkeypatch.setenv(name, value)
    s3fs.S3FileSystem.clear_instance_cache()
    sample = write_sample_file(tmp_path / "debts.csv", rows=ROWS, seed=61, invalid_rate=0.02)
    started = time.monotonic()

    # The reference: the same file through the default executor (every step in its run's process).
    reference = make_stack(tmp_path, "in_process", postgres, s3_bucket)
    stacks.append(reference)
    reference.start_daemon()
    expected = process_file(reference, sample)
    assert not any("in celery worker" in (record.dagster_event.message or "")
                   for run in reference.instance.get_runs()
                   for record in reference.instance.all_logs(run.run_id, of_type=DagsterEventType.ENGINE_EVENT))
    reference.stop()
    stacks.remove(reference)
    reference_seconds = time.monotonic() - started

    # The same file through two Celery workers.
    stack = make_stack(tmp_path, "celery", postgres, s3_bucket, run_buffer=RUN_BUFFER, BILLING_EXECUTOR="celery",
                       BILLING_CELERY_BROKER_URL=broker_url)
    stacks.append(stack)
    suffix = uuid.uuid4().hex[:6]
    workers = [start_worker(f"billing-{letter}-{suffix}", tmp_path / "celery" / f"worker-{letter}",
                            stack_environment(stack), broker_url) for letter in WORKERS]
    stacks.extend(workers)
    for worker in workers:
        wait_for(worker.ready, f"Celery worker {worker.name}", timeout=120, log=worker.log)
    stack.start_daemon()
    report = process_file(stack, sample)

    # The numbers are those of the default executor, and those the generator put into the file.
    assert the_numbers(report) == the_numbers(expected)
    assert (report["rows"], report["accepted"], report["rejected"], report["duplicates"]) == (
        ROWS, sample.accepted, sample.rejected, 0)
    assert report["boletos"] == report["debts"] == sample.accepted
    assert report["notifications"] == {"pending": 0, "sent": sample.accepted, "failed": 0, "suppressed": 0}
    instance = stack.instance
    chunk_keys = sorted(run.tags["dagster/partition"] for run in instance.get_runs(RunsFilter(
        job_name="process_chunk")))
    assert len(chunk_keys) == ROWS // CHUNK_ROWS
    assert count_pdfs(stack.settings.boleto_archive_path(key) for key in chunk_keys) == sample.accepted
    assert len(list(stack.settings.outbox_dir.glob("*.eml"))) == sample.accepted

    # Every step ran in a worker, each worker ran some: dagster-celery reports the worker's node name when a task
    # starts, and each step's events carry the pid of the worker process that ran it.
    runs = instance.get_runs()
    worker_of_step: dict[tuple[str, str], str] = {}
    started_in: dict[tuple[str, str], int] = {}
    for run in runs:
        for record in instance.all_logs(run.run_id, of_type={DagsterEventType.ENGINE_EVENT, *STEP_OPENS}):
            event = record.dagster_event
            if event.event_type in STEP_OPENS:
                started_in[(run.run_id, record.step_key)] = event.pid
            elif "in celery worker" in (event.message or ""):  # "[CeleryExecutor] Executing steps X in celery worker"
                node = event.engine_event_data.metadata["Celery worker"].value
                worker_of_step[(run.run_id, record.step_key)] = node.split("@")[0]
    assert started_in and set(started_in) == set(worker_of_step)
    assert set(worker_of_step.values()) == {worker.name for worker in workers}
    pids = {worker.name: worker.pids() for worker in workers}
    for step, pid in started_in.items():
        assert pid in pids[worker_of_step[step]], (step, pid, pids)

    # The pools held across runs and workers: the chunk runs ran at the same time (the run queue let them), the
    # two workers ran steps side by side, and yet never more steps of a pool at once than its limit.
    spans = step_spans(instance, runs)
    peaks = most_at_once(spans)
    for pool, peak in peaks.items():
        assert peak <= POOL_LIMITS[pool], f"pool {pool} had {peak} steps at once, limit {POOL_LIMITS[pool]}"
    assert peaks["db"] == POOL_LIMITS["db"], peaks
    assert most_at_once([dataclasses.replace(span, pool="any") for span in spans])["any"] == len(workers)
    chunk_runs = [instance.get_run_record_by_id(run.run_id) for run in runs if run.job_name == "process_chunk"]
    assert most_at_once(StepSpan("chunk runs", record.dagster_run.run_id, "", record.start_time, record.end_time)
                        for record in chunk_runs)["chunk runs"] >= 2

    # Nothing of a step went through the daemon's DAGSTER_HOME (no fs_io_manager outputs, no compute logs).
    storage = stack.home / "storage"
    assert not storage.exists() or not any(path.is_file() for path in storage.rglob("*")), sorted(
        storage.rglob("*"))
    print(f"in-process: {reference_seconds:.0f} s; celery: {time.monotonic() - started - reference_seconds:.0f} s;"
          f" steps per worker: { {w.name: list(worker_of_step.values()).count(w.name) for w in workers} };"
          f" pool peaks: {peaks}")
