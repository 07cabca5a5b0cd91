"""The run launcher tells Dagster's run monitoring whether a run's worker process still exists."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import psutil
import pytest
import yaml
from dagster import DagsterInstance, DagsterRunStatus
from dagster._core.events import EngineEventData
from dagster._core.launcher import LaunchRunContext, WorkerStatus
from dagster._core.test_utils import create_run_for_test

from billing_pipeline.instance.run_launcher import (
    LAUNCHED_IN_TAG,
    LocalProcessRunLauncher,
    WorkerIdentity,
    process_table_identity,
    worker_status,
)
from billing_pipeline_tests.support import launched_jobs
from billing_pipeline_tests.support.paths import PROJECT_ROOT
from billing_pipeline_tests.support.stacks import dagster_home

INSTANCE_FILES = [PROJECT_ROOT / "dagster.yaml", PROJECT_ROOT / "billing_pipeline" / "dagster_embedded.yaml"]


def sleeper() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])


@pytest.mark.parametrize("path", INSTANCE_FILES, ids=lambda p: p.name)
def test_both_instance_files_name_the_launcher(path: Path):
    launcher = yaml.safe_load(path.read_text(encoding="utf-8"))["run_launcher"]
    assert {k: launcher[k] for k in ("module", "class")} == {
        "module": "billing_pipeline.instance.run_launcher", "class": "LocalProcessRunLauncher"}


def test_production_preloads_the_definitions_and_its_storage_and_development_reloads_them():
    production = yaml.safe_load(INSTANCE_FILES[0].read_text(encoding="utf-8"))
    preloaded = production["run_launcher"]["config"]["preload_modules"]
    assert "billing_pipeline.definitions" in preloaded
    assert production["storage"]["custom"]["module"] in preloaded  # imported by every worker before its run
    # `billing dev` reloads the code after an edit: its runs start in the code server, with the code as it is now.
    development = yaml.safe_load(INSTANCE_FILES[1].read_text(encoding="utf-8"))
    assert not development["run_launcher"].get("config", {}).get("preload_modules")


def test_a_live_worker_is_running_and_a_killed_one_failed():
    process = sleeper()
    try:
        identity = WorkerIdentity(process.pid, time.time())
        assert worker_status(identity)[0] == WorkerStatus.RUNNING
    finally:
        process.kill()
        process.wait()
    status, message = worker_status(identity)
    assert status == WorkerStatus.FAILED
    assert f"{process.pid} no longer exists" in message


def test_an_exited_worker_not_yet_reaped_is_failed():
    process = sleeper()
    os.kill(process.pid, signal.SIGKILL)
    time.sleep(0.5)  # not waited for: a zombie until reaped
    try:
        assert worker_status(WorkerIdentity(process.pid, time.time()))[0] == WorkerStatus.FAILED
    finally:
        process.wait()


def test_a_pid_taken_by_a_process_started_later_is_not_the_worker():
    process = sleeper()
    try:
        # The identity was reported a minute before this process started: its pid was reused.
        status, message = worker_status(WorkerIdentity(process.pid, time.time() - 60))
        assert status == WorkerStatus.FAILED
        assert "started after the worker reported itself" in message
    finally:
        process.kill()
        process.wait()


def test_the_instance_checks_a_run_by_the_pid_its_worker_reported(tmp_path: Path):
    home = dagster_home(tmp_path, INSTANCE_FILES[1].read_text(encoding="utf-8"))
    with DagsterInstance.from_config(str(home)) as instance:
        launcher = instance.run_launcher
        assert isinstance(launcher, LocalProcessRunLauncher)
        assert launcher.supports_check_run_worker_health
        run = create_run_for_test(instance, job_name="process_chunk", status=DagsterRunStatus.STARTED)
        # Executed in its own process, not launched: no worker to check, and any answer but RUNNING would fail it.
        assert launcher.check_run_worker_health(run).status == WorkerStatus.RUNNING

        process = sleeper()
        try:
            instance.report_engine_event(f"Started process for run (pid: {process.pid}).", run,
                                         EngineEventData.in_process(process.pid))
            health = launcher.check_run_worker_health(run)
            assert (health.status, health.run_worker_id) == (WorkerStatus.RUNNING, str(process.pid))
        finally:
            process.kill()
            process.wait()
        health = launcher.check_run_worker_health(run)
        assert health.status == WorkerStatus.FAILED
        assert f"process {process.pid}" in launcher.get_run_worker_debug_info(run)


def test_the_process_table_is_told_by_boot_pid_namespace_and_when_its_init_started():
    identity = process_table_identity()
    assert identity.startswith("boot ")
    if Path("/proc/1/stat").exists():
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        namespace = os.stat("/proc/self/ns/pid").st_ino
        started = psutil.Process(1).create_time() - psutil.boot_time()
        ticks = int(identity.rsplit(" ", 1)[1])
        assert identity.startswith(f"boot {boot} pid-namespace {namespace} init-started ")
        assert abs(ticks / os.sysconf("SC_CLK_TCK") - started) < 2


def test_a_run_launched_before_a_reboot_or_container_restart_is_failed_whatever_holds_its_pid_now(tmp_path: Path):
    home = dagster_home(tmp_path, INSTANCE_FILES[1].read_text(encoding="utf-8"))
    process = sleeper()  # holds the pid the worker reported: a new container's pids start again from 1
    try:
        with DagsterInstance.from_config(str(home)) as instance:
            launcher = instance.run_launcher
            here = create_run_for_test(instance, job_name="deliver_chunk", status=DagsterRunStatus.STARTED,
                                       tags={LAUNCHED_IN_TAG: process_table_identity()})
            before = create_run_for_test(instance, job_name="deliver_chunk", status=DagsterRunStatus.STARTED,
                                         tags={LAUNCHED_IN_TAG: "boot 0000 pid-namespace 1"})
            for run in (here, before):
                instance.report_engine_event(f"Started process for run (pid: {process.pid}).", run,
                                             EngineEventData.in_process(process.pid))
            assert launcher.check_run_worker_health(here).status == WorkerStatus.RUNNING
            health = launcher.check_run_worker_health(before)
            assert health.status == WorkerStatus.FAILED
            assert "boot 0000 pid-namespace 1, which has ended since" in health.msg
    finally:
        process.kill()
        process.wait()


def _preloading_instance(tmp_path: Path) -> DagsterInstance:
    config = yaml.safe_load(INSTANCE_FILES[1].read_text(encoding="utf-8"))
    config["run_launcher"]["config"] = {"preload_modules": [launched_jobs.__name__]}
    return DagsterInstance.from_config(str(dagster_home(tmp_path, yaml.safe_dump(config))))


def _launched(instance: DagsterInstance, job: dg.JobDefinition, target) -> dg.DagsterRun:
    run = instance.create_run_for_job(job, job_code_origin=dg.reconstructable(target).get_python_origin())
    instance.run_launcher.launch_run(LaunchRunContext(dagster_run=run, workspace=None))
    return run


def _wait_for_status(instance: DagsterInstance, run_id: str, statuses: set[DagsterRunStatus]) -> DagsterRunStatus:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        status = instance.get_run_by_id(run_id).status
        if status in statuses:
            return status
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} still {instance.get_run_by_id(run_id).status}")


@pytest.mark.timeout(180)
def test_a_preloaded_worker_runs_the_job_as_dagster_api_execute_run_would(tmp_path: Path):
    with _preloading_instance(tmp_path) as instance:
        run = _launched(instance, launched_jobs.finishes, launched_jobs.finishing_job)

        assert _wait_for_status(instance, run.run_id, {DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE}) == \
            DagsterRunStatus.SUCCESS
        messages = [entry.message for entry in instance.all_logs(run.run_id)]
        assert f"ran in {launched_jobs.__name__}" in messages
        identity = instance.run_launcher.worker_identity(run)
        assert identity is not None and identity.pid != os.getpid()  # its own process, which reported itself


@pytest.mark.timeout(180)
def test_cancelling_a_preloaded_run_interrupts_its_worker(tmp_path: Path):
    with _preloading_instance(tmp_path) as instance:
        run = _launched(instance, launched_jobs.waits, launched_jobs.waiting_job)
        _wait_for_status(instance, run.run_id, {DagsterRunStatus.STARTED})  # as an operator sees it, running
        pid = instance.run_launcher.worker_identity(run).pid

        assert instance.run_launcher.terminate(run.run_id)

        assert _wait_for_status(instance, run.run_id, {DagsterRunStatus.CANCELED, DagsterRunStatus.FAILURE,
                                                        DagsterRunStatus.SUCCESS}) == DagsterRunStatus.CANCELED
        deadline = time.monotonic() + 30
        while psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
            assert time.monotonic() < deadline, "the cancelled worker should have exited"
            time.sleep(0.2)
