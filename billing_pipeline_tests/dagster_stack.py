"""Production-shaped Dagster for fault tests: the repo's dagster.yaml (PostgreSQL instance storage) in a temporary
DAGSTER_HOME, the real daemon and webserver as subprocesses, and readers of what the instance recorded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from conftest import PROJECT_ROOT, kill_processes_mentioning, stop_process_group
from dagster import DagsterEventType, DagsterInstance, DagsterRun
from private_postgres import free_port
from sqlalchemy.engine import make_url

from billing_pipeline.defs.definitions import ASSETS
from billing_pipeline.settings import Settings

BIN = Path(sys.executable).parent
DEFS_MODULE = "billing_pipeline.defs.definitions"
STEP_POOLS = {asset.op.name: asset.op.pool for asset in ASSETS}
STEP_OPENS = {DagsterEventType.STEP_START, DagsterEventType.STEP_RESTARTED}
STEP_CLOSES = {DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE, DagsterEventType.STEP_UP_FOR_RETRY}


def production_instance_yaml(home: Path) -> str:
    """The repository's dagster.yaml with its container paths moved into `home`; everything else as shipped."""
    config = yaml.safe_load((PROJECT_ROOT / "dagster.yaml").read_text(encoding="utf-8"))
    config["local_artifact_storage"]["config"]["base_dir"] = str(home)
    config["compute_logs"]["config"]["base_dir"] = str(home / "storage")
    return yaml.safe_dump(config, sort_keys=False)


@dataclass
class DagsterStack:
    home: Path
    settings: Settings
    env: dict[str, str]
    log: Path
    processes: list[subprocess.Popen] = field(default_factory=list)
    webserver_url: str | None = None
    _instance: DagsterInstance | None = None

    @classmethod
    def create(cls, tmp_path: Path, instance_database_url: str, settings: Settings) -> DagsterStack:
        home = tmp_path / "dagster_home"
        home.mkdir()
        (home / "dagster.yaml").write_text(production_instance_yaml(home), encoding="utf-8")
        instance_db = make_url(instance_database_url)
        env = {
            **os.environ,
            "DAGSTER_HOME": str(home),
            "DAGSTER_POSTGRES_USER": instance_db.username or "postgres",
            "DAGSTER_POSTGRES_PASSWORD": instance_db.password or "trust-auth-ignores-this",
            "DAGSTER_POSTGRES_HOST": instance_db.host or "127.0.0.1",
            "DAGSTER_POSTGRES_PORT": str(instance_db.port or 5432),
            "DAGSTER_POSTGRES_DB": instance_db.database,
            "BILLING_DATA_DIR": str(settings.data_dir),
            "BILLING_DATABASE_URL": settings.database_url,
            "BILLING_CHUNK_ROWS": str(settings.chunk_rows),
            "BILLING_INBOX_POLL_SECONDS": "1",
        }
        return cls(home=home, settings=settings, env=env, log=tmp_path / "dagster.log")

    @property
    def instance(self) -> DagsterInstance:
        if self._instance is None:
            previous = {k: os.environ.get(k) for k in self.env if k.startswith("DAGSTER_POSTGRES_")}
            os.environ.update({k: self.env[k] for k in previous})  # dagster.yaml reads them when loaded
            try:
                self._instance = DagsterInstance.from_config(str(self.home))
            finally:
                for key, value in previous.items():
                    if value is None:
                        os.environ.pop(key)
                    else:
                        os.environ[key] = value
        return self._instance

    def billing(self, *args: str) -> str:
        done = subprocess.run([str(BIN / "billing"), *args], env=self.env, capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def _spawn(self, *command: str) -> subprocess.Popen:
        with open(self.log, "ab") as output:
            process = subprocess.Popen(list(command), env=self.env, cwd=self.home.parent, stdout=output,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        self.processes.append(process)
        return process

    def start_daemon(self) -> None:
        self._spawn(str(BIN / "dagster-daemon"), "run", "-m", DEFS_MODULE)

    def start_webserver(self) -> str:
        port = free_port()
        self._spawn(str(BIN / "dagster-webserver"), "-m", DEFS_MODULE, "-h", "127.0.0.1", "-p", str(port))
        self.webserver_url = f"http://127.0.0.1:{port}"

        def answers() -> bool:
            try:
                with urllib.request.urlopen(f"{self.webserver_url}/server_info", timeout=2):
                    return True
            except OSError:
                return False

        self.wait_for(answers, "the webserver", timeout=120)
        return self.webserver_url

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        request = urllib.request.Request(
            f"{self.webserver_url}/graphql",
            data=json.dumps({"query": query, "variables": variables or {}}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            body = json.loads(response.read())
        assert "errors" not in body, body
        return body["data"]

    def wait_for(self, condition: Callable[[], bool], what: str, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(0.5)
        tail = self.log.read_text(errors="replace")[-5000:] if self.log.exists() else ""
        pytest.fail(f"timed out after {timeout}s waiting for {what}; daemon/webserver log tail:\n{tail}")

    def stop(self) -> None:
        for process in reversed(self.processes):
            stop_process_group(process)
        kill_processes_mentioning(str(self.home))
        if self._instance is not None:
            self._instance.dispose()


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
