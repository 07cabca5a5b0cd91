"""Dagster's DefaultRunLauncher, able to tell run monitoring that a run's worker process is gone.

The DefaultRunLauncher asks the code server to start each run as a child process and cannot say whether that
process still lives, so Dagster's run monitoring skips its runs. After a crash of the whole stack (power cut, OOM
killer, `docker compose kill`) no code server is left to report its workers' deaths: their runs stayed STARTED for
ever and held their pool slots. This launcher answers `check_run_worker_health` from the process table, so run
monitoring fails such a run, its pool slots are freed, and `run_retries` re-executes it from the failed step.

The worker's identity is what it reports of itself when it starts: Dagster's "Started process for run (pid: N)"
engine event, written by the worker, with its time. The worker is alive while a process with that pid exists
that started no later than that event. Pids start again from 1 in a new container and after a reboot, so the
launcher also tags each run with the boot and the pid namespace it was launched in: once either has changed,
every process of the run's namespace is gone, whatever holds its pid now. This holds when the process that
launches and monitors runs (the daemon, through the queued run coordinator) sees the run workers' process table:
the same host, and in containers the same pid namespace (docker-compose.yml gives the daemon the code
container's). A daemon that cannot see the workers would fail every run it checks: run it beside them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import psutil
from dagster import DagsterEventType, DagsterRun, DefaultRunLauncher
from dagster._core.launcher import CheckRunHealthResult, LaunchRunContext, WorkerStatus

WORKER_STARTED_MESSAGE = "Started process for run"
LAUNCHED_IN_TAG = "billing/launched_in"
# A start time is derived from the boot time and clock ticks since boot, and moves when the clock is stepped; the
# boot and namespace tag, not this, tells a pid reused after a restart.
START_TIME_TOLERANCE_SECONDS = 30.0
_FIRST_ENGINE_EVENTS = 20  # the worker's start is among a run's first engine events


@dataclass(frozen=True)
class WorkerIdentity:
    """A run worker as it reported itself: its pid and the time it said so."""

    pid: int
    reported_at: float


def process_table_identity() -> str:
    """This boot of this host and this process's pid namespace, in which pids are unique. The kernel reuses a freed
    namespace's number, so the namespace is also told by when its pid 1 started, in clock ticks since boot (which
    a change of the wall clock does not move)."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        namespace = os.stat("/proc/self/ns/pid").st_ino
        # Field 22 of /proc/<pid>/stat, counted after the parenthesised command name (which may hold spaces).
        init_started = Path("/proc/1/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):  # not Linux: one namespace per host; the boot time tells boots apart
        return f"boot {psutil.boot_time():.0f} pid-namespace host"
    return f"boot {boot} pid-namespace {namespace} init-started {init_started}"


def worker_status(identity: WorkerIdentity) -> tuple[WorkerStatus, str]:
    """RUNNING while the process that reported this identity exists, FAILED once it does not."""
    try:
        process = psutil.Process(identity.pid)
        started = process.create_time()
        zombie = process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return WorkerStatus.FAILED, f"run worker process {identity.pid} no longer exists"
    except psutil.AccessDenied:  # it exists; run monitoring fails a run on anything but RUNNING
        return WorkerStatus.RUNNING, f"run worker process {identity.pid} exists (not allowed to inspect it)"
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

    def launch_run(self, context: LaunchRunContext) -> None:
        self._instance.add_run_tags(context.dagster_run.run_id, {LAUNCHED_IN_TAG: process_table_identity()})
        super().launch_run(context)

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
            # Not started by a launcher (a run executed in its own process against this instance): nothing to
            # check. Run monitoring fails a run on any answer but RUNNING, UNKNOWN included.
            return CheckRunHealthResult(WorkerStatus.RUNNING, "no run worker reported a pid: not checked")
        launched_in = run.tags.get(LAUNCHED_IN_TAG)
        if launched_in and launched_in != process_table_identity():
            return CheckRunHealthResult(
                WorkerStatus.FAILED,
                f"run worker process {identity.pid} no longer exists: it was launched in {launched_in}, which has "
                "ended since (a reboot, or its container restarted)",
                run_worker_id=str(identity.pid))
        status, message = worker_status(identity)
        return CheckRunHealthResult(status, message, run_worker_id=str(identity.pid))

    def get_run_worker_debug_info(self, run: DagsterRun, include_container_logs: bool | None = True) -> str | None:
        identity = self.worker_identity(run)
        if identity is None:
            return None
        return (f"The run worker was process {identity.pid}, started by the code server; a worker that dies with "
                "its code server (a crash, a restart, the OOM killer) leaves no one to report it. run_retries "
                "re-executes the run from its failed step unless its retries are spent (docs/operations.md, "
                "\"After a crash\").")
