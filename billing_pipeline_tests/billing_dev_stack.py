"""`billing dev` as an operator runs it (webserver, daemon, code server and run workers on the embedded instance),
killed all at once as a power cut, the OOM killer or `docker compose kill` would, and started again."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest
from conftest import kill_processes_mentioning
from dagster import DagsterInstance
from private_postgres import free_port

BILLING = str(Path(sys.executable).with_name("billing"))


class BillingDev:
    def __init__(self, tmp_path: Path, env: dict[str, str]):
        self.home = tmp_path / "dagster_home"
        self.log = tmp_path / "billing-dev.log"
        self.port = free_port()
        self.env = {**env, "DAGSTER_HOME": str(self.home)}
        self.process: subprocess.Popen | None = None
        self._instance: DagsterInstance | None = None
        self.started_at: list[float] = []

    def start(self) -> float:
        """Starts `billing dev` and returns when the UI answers; the time it was started (time.time())."""
        started = time.time()
        with open(self.log, "ab") as output:
            self.process = subprocess.Popen([BILLING, "dev", "--port", str(self.port)], env=self.env,
                                            cwd=self.home.parent, stdout=output, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        self.wait_for(self._answers, "the Dagster UI of `billing dev`", timeout=180)
        self.started_at.append(started)
        return started

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/server_info", timeout=2):
                return True
        except OSError:
            return False

    def kill(self) -> int:
        """SIGKILL to every process of the stack at the same moment: no process gets to report the others' death.
        Returns how many processes there were."""
        assert self.process is not None
        root = psutil.Process(self.process.pid)
        stack = [root, *root.children(recursive=True)]
        os.killpg(self.process.pid, signal.SIGKILL)  # one signal for the whole process group
        for process in stack:  # and any that left the group
            with contextlib.suppress(psutil.NoSuchProcess):
                process.kill()
        psutil.wait_procs(stack, timeout=30)
        self.process = None
        return len(stack)

    @property
    def instance(self) -> DagsterInstance:
        if self._instance is None:
            self._instance = DagsterInstance.from_config(str(self.home))
        return self._instance

    def wait_for(self, condition: Callable[[], bool], what: str, timeout: float = 300,
                 every: float = 0.5) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(every)
        tail = self.log.read_text(errors="replace")[-6000:] if self.log.exists() else ""
        pytest.fail(f"timed out after {timeout}s waiting for {what}; billing dev log tail:\n{tail}")

    def stop(self) -> None:
        if self.process is not None:
            self.kill()
        kill_processes_mentioning(str(self.home))
        if self._instance is not None:
            self._instance.dispose()
