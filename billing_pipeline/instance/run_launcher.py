"""Dagster's DefaultRunLauncher, able to tell run monitoring that a run's worker process is gone, and to start
run workers that have already imported the definitions.

**Pre-imported run workers.** The code server starts every run in a new interpreter (`spawn`), which imports
Dagster, pandas, SQLAlchemy, Pandera and the definitions before the run's first step: 1.5-5 s of CPU per run
(bench/run_worker_start.py), paid 24 times for a 1.1M-row file (a split, 11 chunk, 11 delivery and a report run)
and twice for every small one. With `preload_modules` set, the launcher instead starts each run as Dagster's own
`dagster api execute_run` (the entry point dagster-docker and dagster-k8s run in their containers), in a process
forked from a forkserver that imported those modules once: the same run, the same events and logs, ready in
~0.03 s. The forkserver holds no connection or thread (it only imports, then forks on request), so its children
start clean. Runs then execute where the launcher lives (the daemon, through the queued run coordinator), which
needs the code server's code and environment there: the same image, environment and volumes in
docker-compose.yml. A restart of the daemon ends the runs in flight (in docker-compose they are processes of its
container): run monitoring then fails them and `run_retries` re-executes them from the failed step, as after a
crash. The forkserver keeps the code it imported: after deploying new code, restart the daemon with the code
server (docker-compose does, as both run the same image). Every run is forked from this interpreter, so one code
location (ours) is meant; another location in its own environment needs the code server (no `preload_modules`).
Cancelling such a run (`terminate`) marks it CANCELING from whatever process asks, the UI's webserver included;
the worker's own cancellation thread (Dagster's) then interrupts it. Without `preload_modules` runs go to the
code server, as with the DefaultRunLauncher.

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

import multiprocessing
import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from multiprocessing.context import ForkServerContext
from pathlib import Path
from typing import Any

import psutil
from dagster import DagsterEventType, DagsterRun, DefaultRunLauncher, Field
from dagster._core.launcher import CheckRunHealthResult, LaunchRunContext, WorkerStatus
from dagster._serdes import ConfigurableClassData

WORKER_STARTED_MESSAGE = "Started process for run"
LAUNCHED_IN_TAG = "billing/launched_in"
# A start time is derived from the boot time and clock ticks since boot, and moves when the clock is stepped; the
# boot and namespace tag, not this, tells a pid reused after a restart.
START_TIME_TOLERANCE_SECONDS = 30.0
_FIRST_ENGINE_EVENTS = 20  # the worker's start is among a run's first engine events
# What `dagster api execute_run` imports before it loads the run, preloaded whatever the configuration says.
RUN_WORKER_MODULES = ("dagster._cli.api", "dagster._core.execution.api", "dagster._core.execution.run_cancellation_thread")


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


def execute_run(serialized_args: str) -> None:
    """A run worker's body, as `dagster api execute_run ARGS` runs it (SIGTERM interrupts it as it does that
    command), plus Dagster's run cancellation thread: the worker interrupts itself once its run is CANCELING, so a
    run is cancelled from any process that can write the instance (the UI's Terminate runs in the webserver, which
    may not see this process)."""
    from dagster._cli.api import execute_run_command
    from dagster._core.execution.run_cancellation_thread import _kill_on_cancel
    from dagster._grpc.types import ExecuteRunArgs
    from dagster._serdes import deserialize_value
    from dagster._utils.interrupts import setup_interrupt_handlers

    setup_interrupt_handlers()
    args = deserialize_value(serialized_args, ExecuteRunArgs)
    stop_watching = threading.Event()
    watcher = threading.Thread(target=_kill_on_cancel, args=(args.instance_ref, args.run_id, stop_watching),
                               name="kill-on-cancel", daemon=True)
    watcher.start()
    try:
        execute_run_command.callback(serialized_args, None)
    finally:
        stop_watching.set()


class LocalProcessRunLauncher(DefaultRunLauncher):
    """DefaultRunLauncher plus a run-worker health check by pid; with `preload_modules`, runs start as forks of a
    forkserver that imported them, instead of as new interpreters of the code server."""

    def __init__(self, inst_data: ConfigurableClassData | None = None, preload_modules: Sequence[str] = ()):
        super().__init__(inst_data=inst_data)
        self.preload_modules = tuple(preload_modules)
        self._forkserver: ForkServerContext | None = None
        self._lock = threading.Lock()

    @classmethod
    def config_type(cls) -> dict:
        return {"preload_modules": Field([str], is_required=False, default_value=[],
                                         description="Modules every run worker imports; imported once, in a "
                                         "forkserver the workers are forked from. Empty: runs start in the code "
                                         "server, as with the DefaultRunLauncher.")}

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData, config_value: Mapping[str, Any]
                          ) -> LocalProcessRunLauncher:
        return cls(inst_data=inst_data, preload_modules=config_value.get("preload_modules", []))

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def launch_run(self, context: LaunchRunContext) -> None:
        run = context.dagster_run
        self._instance.add_run_tags(run.run_id, {LAUNCHED_IN_TAG: process_table_identity()})
        if not self.preload_modules:
            super().launch_run(context)
            return
        from dagster._grpc.types import ExecuteRunArgs
        from dagster._serdes import serialize_value

        args = ExecuteRunArgs(job_origin=run.job_code_origin, run_id=run.run_id,  # type: ignore[arg-type]
                              instance_ref=self._instance.get_ref(), set_exit_code_on_failure=True)
        with self._lock:  # the queued run coordinator launches from several threads
            worker = self._forkserver_context().Process(target=execute_run, args=(serialize_value(args),),
                                                        name=f"dagster-run-{run.run_id}")
            worker.start()
            # The worker is the forkserver's child, reaped there; forgotten here, so that this process's exit does
            # not wait for (multiprocessing's atexit join) or kill its runs.
            multiprocessing.process._children.discard(worker)  # type: ignore[attr-defined]

    def _forkserver_context(self) -> ForkServerContext:
        if self._forkserver is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload([*RUN_WORKER_MODULES, *self.preload_modules])
            self._forkserver = context
        return self._forkserver

    def terminate(self, run_id: str) -> bool:
        """The run marked CANCELING: its worker's cancellation thread interrupts it within a few seconds."""
        if not self.preload_modules:
            return super().terminate(run_id)
        run = self._instance.get_run_by_id(run_id)
        if run is None or run.is_finished:
            return False
        self._instance.report_run_canceling(run)
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
        starter = "forked from the launcher's forkserver" if self.preload_modules else "started by the code server"
        return (f"The run worker was process {identity.pid}, {starter}; a worker that dies with "
                "the process that started it (a crash, a restart, the OOM killer) leaves no one to report it. "
                "run_retries "
                "re-executes the run from its failed step unless its retries are spent (docs/operations.md, "
                "\"After a crash\").")
