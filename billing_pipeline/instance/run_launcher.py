"""Dagster's DefaultRunLauncher, able to tell run monitoring that a run's worker process is gone.

The DefaultRunLauncher asks the code server to start each run as a child process and cannot say whether that
process still lives, so Dagster's run monitoring skips its runs. After a crash of the whole stack (power cut, OOM
killer, `docker compose kill`) no code server is left to report its workers' deaths: their runs stayed STARTED for
ever and held their pool slots. This launcher answers `check_run_worker_health` from the process table, so run
monitoring fails such a run, its pool slots are freed, and `run_retries` re-executes it from the failed step.

The worker's identity is what it reports of itself when it starts: Dagster's "Started process for run (pid: N)"
engine event, written by the worker, with its time. The worker is alive while a process with that pid exists
that started no later than that event: a pid taken again after the crash, or after a reboot, belongs to a
process started later. This holds when the process that monitors runs (the daemon) sees the run workers' process
table: the same host, and in containers the same pid namespace (docker-compose.yml gives the daemon the code
container's). A daemon that cannot see the workers would fail every run it checks: run it beside them.
"""

from __future__ import annotations

import psutil
from dagster import DagsterEventType, DagsterRun, DefaultRunLauncher
from dagster._core.launcher import CheckRunHealthResult, WorkerStatus

WORKER_STARTED_MESSAGE = "Started process for run"
# psutil derives a start time from the boot time (whole seconds) and clock ticks since boot.
START_TIME_TOLERANCE_SECONDS = 2.0
_FIRST_ENGINE_EVENTS = 20  # the worker's start is among a run's first engine events


class WorkerIdentity:
    """A run worker as it reported itself: its pid and the time it said so."""

    def __init__(self, pid: int, reported_at: float):
        self.pid, self.reported_at = pid, reported_at

    def __repr__(self) -> str:
        return f"WorkerIdentity(pid={self.pid}, reported_at={self.reported_at:.3f})"


def worker_status(identity: WorkerIdentity) -> tuple[WorkerStatus, str]:
    """RUNNING while the process that reported this identity exists, FAILED once it does not."""
    try:
        process = psutil.Process(identity.pid)
        started = process.create_time()
        zombie = process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return WorkerStatus.FAILED, f"run worker process {identity.pid} no longer exists"
    except psutil.AccessDenied:
        return WorkerStatus.UNKNOWN, f"not allowed to inspect process {identity.pid}"
    if started > identity.reported_at + START_TIME_TOLERANCE_SECONDS:
        return WorkerStatus.FAILED, (
            f"run worker process {identity.pid} no longer exists (pid {identity.pid} now belongs to a process "
            "started after the worker reported itself)")
    if zombie:
        return WorkerStatus.FAILED, f"run worker process {identity.pid} has exited (not yet reaped)"
    return WorkerStatus.RUNNING, f"run worker process {identity.pid} is alive"


class LocalProcessRunLauncher(DefaultRunLauncher):
    """DefaultRunLauncher (runs as processes of the code server) plus a run-worker health check by pid."""

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def worker_identity(self, run: DagsterRun) -> WorkerIdentity | None:
        records = self._instance.get_records_for_run(
            run.run_id, of_type=DagsterEventType.ENGINE_EVENT, limit=_FIRST_ENGINE_EVENTS, ascending=True
        ).records
        for record in records:
            entry = record.event_log_entry
            event = entry.dagster_event
            if event is None or not (event.message or "").startswith(WORKER_STARTED_MESSAGE):
                continue
            pid = (event.engine_event_data.metadata or {}).get("pid")
            if pid is not None and str(pid.value).isdigit():
                return WorkerIdentity(int(pid.value), entry.timestamp)
        return None

    def check_run_worker_health(self, run: DagsterRun) -> CheckRunHealthResult:
        identity = self.worker_identity(run)
        if identity is None:
            return CheckRunHealthResult(WorkerStatus.UNKNOWN, "the run worker has not reported its pid yet")
        status, message = worker_status(identity)
        return CheckRunHealthResult(status, message, run_worker_id=str(identity.pid))

    def get_run_worker_debug_info(self, run: DagsterRun, include_container_logs: bool | None = True) -> str | None:
        identity = self.worker_identity(run)
        if identity is None:
            return None
        return (f"The run worker (pid {identity.pid}) is gone: the code server that started it was probably "
                "stopped or killed with it (a crash, a restart, the OOM killer). Its steps are re-executed by the "
                "run's automatic retry.")
