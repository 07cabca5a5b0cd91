"""Dagster as the product runs it, in a temporary DAGSTER_HOME, the output of its processes in one log:

- DagsterStack: dagster-daemon and dagster-webserver on the packaged workspace, on the repository's dagster.yaml
  (PostgreSQL instance storage, `production`) or on the instance file `billing dev` starts with (`embedded`).
- BillingDev: `billing dev` as an operator runs it (webserver, daemon, code server and run workers on the embedded
  instance), killed all at once as a power cut, the OOM killer or `docker compose kill` would, and started again.

Both load billing_pipeline/workspace.yaml, so the code location is CODE_LOCATION wherever a test looks.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import yaml
from dagster import DagsterInstance
from sqlalchemy.engine import make_url

from billing_pipeline.cli import EMBEDDED_INSTANCE_YAML, WORKSPACE_YAML
from billing_pipeline.settings import Settings

from .cli import BILLING, run_billing
from .paths import BIN, PROJECT_ROOT
from .ports import free_port
from .processes import (
    child_environment,
    kill_at_once,
    kill_processes_mentioning,
    start_logged,
    stop_process_group,
)
from .waiting import wait_for
from .webserver import graphql, server_info

CODE_LOCATION = "billing_pipeline"
T = TypeVar("T")


def production_instance_yaml(home: Path) -> str:
    """The repository's dagster.yaml with its container paths moved into `home`; everything else as shipped."""
    config = yaml.safe_load((PROJECT_ROOT / "dagster.yaml").read_text(encoding="utf-8"))
    config["local_artifact_storage"]["config"]["base_dir"] = str(home)
    config["compute_logs"]["config"]["base_dir"] = str(home / "storage")
    return yaml.safe_dump(config, sort_keys=False)


def dagster_home(tmp_path: Path, instance_yaml: str) -> Path:
    """tmp_path/dagster_home, holding `instance_yaml` as its dagster.yaml."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(instance_yaml, encoding="utf-8")
    return home


def postgres_instance_environment(instance_database_url: str) -> dict[str, str]:
    """The DAGSTER_POSTGRES_* variables the repository's dagster.yaml reads, for a database URL."""
    database = make_url(instance_database_url)
    return {
        "DAGSTER_POSTGRES_USER": database.username or "postgres",
        "DAGSTER_POSTGRES_PASSWORD": database.password or "trust-auth-ignores-this",
        "DAGSTER_POSTGRES_HOST": database.host or "127.0.0.1",
        "DAGSTER_POSTGRES_PORT": str(database.port or 5432),
        "DAGSTER_POSTGRES_DB": database.database,
    }


class _Stack:
    """What both stacks share: DAGSTER_HOME, the environment of their processes, their log, the instance."""

    def __init__(self, home: Path, env: dict[str, str], log: Path):
        self.home, self.env, self.log = home, env, log
        self.cwd = home.parent  # the working directory of every process started, and so of their run workers
        self._instance: DagsterInstance | None = None

    @property
    def instance(self) -> DagsterInstance:
        """The stack's instance, as this process sees it (for reading runs and event logs)."""
        if self._instance is None:
            variables = {k: v for k, v in self.env.items() if k.startswith("DAGSTER_POSTGRES_")}
            previous = {k: os.environ.get(k) for k in variables}
            os.environ.update(variables)  # dagster.yaml reads them when loaded
            try:
                self._instance = DagsterInstance.from_config(str(self.home))
            finally:
                for key, value in previous.items():
                    if value is None:
                        os.environ.pop(key)
                    else:
                        os.environ[key] = value
        return self._instance

    def wait_for(self, condition: Callable[[], T], what: str, timeout: float = 300, every: float = 0.5) -> T:
        """waiting.wait_for, failing with the end of the stack's log."""
        return wait_for(condition, what, timeout=timeout, every=every, log=self.log)

    def _start(self, *command: str | Path) -> subprocess.Popen:
        return start_logged([str(part) for part in command], env=self.env, cwd=self.cwd, log=self.log)

    def _stop_processes(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        """Everything the stack started ends with the test, its run workers and code servers too."""
        self._stop_processes()
        kill_processes_mentioning(str(self.home))
        if self._instance is not None:
            self._instance.dispose()
            self._instance = None


class DagsterStack(_Stack):
    def __init__(self, home: Path, settings: Settings, env: dict[str, str], log: Path):
        super().__init__(home, env, log)
        self.settings = settings
        self.processes: list[subprocess.Popen] = []
        self.webserver_url: str | None = None

    @classmethod
    def production(cls, tmp_path: Path, instance_database_url: str, settings: Settings) -> DagsterStack:
        """On the repository's dagster.yaml, its instance storage in `instance_database_url`."""
        home = dagster_home(tmp_path, production_instance_yaml(tmp_path / "dagster_home"))
        return cls(home, settings, cls._environment(home, settings, postgres_instance_environment(
            instance_database_url)), tmp_path / "dagster.log")

    @classmethod
    def embedded(cls, tmp_path: Path, settings: Settings) -> DagsterStack:
        """On the instance file `billing dev` starts with (SQLite in DAGSTER_HOME)."""
        home = dagster_home(tmp_path, EMBEDDED_INSTANCE_YAML.read_text(encoding="utf-8"))
        return cls(home, settings, cls._environment(home, settings, {}), tmp_path / "dagster.log")

    @staticmethod
    def _environment(home: Path, settings: Settings, instance: dict[str, str]) -> dict[str, str]:
        return child_environment(
            DAGSTER_HOME=str(home),
            **instance,
            BILLING_DATA_DIR=str(settings.data_dir),
            BILLING_DATABASE_URL=settings.database_url,
            BILLING_CHUNK_ROWS=str(settings.chunk_rows),
            BILLING_INBOX_POLL_SECONDS="1",
        )

    def billing(self, *args: str) -> str:
        """`billing ARGS` in the stack's environment; what it printed."""
        return run_billing(*args, env=self.env, json=False).out

    def start_daemon(self) -> None:
        self.processes.append(self._start(BIN / "dagster-daemon", "run", "-w", WORKSPACE_YAML))

    def start_webserver(self) -> str:
        port = free_port()
        self.processes.append(self._start(BIN / "dagster-webserver", "-w", WORKSPACE_YAML, "-h", "127.0.0.1",
                                          "-p", str(port)))
        self.webserver_url = f"http://127.0.0.1:{port}"
        self.wait_for(lambda: server_info(self.webserver_url), "the webserver", timeout=120)
        return self.webserver_url

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        assert self.webserver_url is not None, "start_webserver first"
        return graphql(self.webserver_url, query, variables)

    def kill(self) -> None:
        """SIGKILL to every process group of the stack (daemon, webserver, their code servers and run workers)
        before any is waited for, as a power cut would."""
        for process in self.processes:
            os.killpg(process.pid, signal.SIGKILL)
        for process in self.processes:
            process.wait()
        self.processes.clear()

    def _stop_processes(self) -> None:
        for process in reversed(self.processes):
            stop_process_group(process)
        self.processes.clear()


class BillingDev(_Stack):
    def __init__(self, tmp_path: Path, env: dict[str, str]):
        home = tmp_path / "dagster_home"
        super().__init__(home, {**env, "DAGSTER_HOME": str(home)}, tmp_path / "billing-dev.log")
        self.port = free_port()
        self.api_port = free_port()
        self.process: subprocess.Popen | None = None
        self.started_at: list[float] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def start(self) -> float:
        """Starts `billing dev` and returns when the UI answers; the time it was started (time.time())."""
        started = time.time()
        self.process = self._start(BILLING, "dev", "--port", str(self.port), "--api-port", str(self.api_port))
        self.wait_for(lambda: server_info(self.url), "the Dagster UI of `billing dev`", timeout=180)
        self.started_at.append(started)
        return started

    def kill(self) -> int:
        """SIGKILL to every process of the stack at the same moment. Returns how many processes there were."""
        assert self.process is not None
        killed = kill_at_once(self.process)
        self.process = None
        return killed

    def interrupt(self) -> None:
        """Ctrl-C, as an operator ends it."""
        if self.process is not None:
            stop_process_group(self.process, signal.SIGINT)
            self.process = None

    def _stop_processes(self) -> None:
        if self.process is not None:
            self.kill()
