"""A real Prometheus for the tests: Debian's `prometheus` package (`prometheus` and `promtool`), and a server on a
free loopback port that scrapes the targets it is given.

    prometheus, promtool = prometheus_binaries()   # /usr/bin's, else the package unpacked into a cache folder
    server = PrometheusServer(tmp_path, jobs={"billing-api": ["127.0.0.1:8000"]}, rule_files=[alerts])
    server.start()                                 # ready once /-/ready answers 200
    server.wait_for_target_up("billing-api")       # the first scrape of that job succeeded
    server.query('billing_store_up')               # the API's result list: [{"metric": {...}, "value": [t, "1"]}]
    server.value('billing_store_up')               # one sample's value as a float (None when there is none)
    server.alerts()                                # the alerts pending or firing, from /api/v1/alerts
    server.stop()

The binaries: /usr/bin/prometheus and /usr/bin/promtool when the package is installed; else `apt-get download
prometheus` (after an `apt-get update` only if that fails, and only as root) and `dpkg -x` into
~/.cache/smart-billing/prometheus/ (XDG_CACHE_HOME is honoured): no service is installed or started, no root is
needed when the package lists are current, and nothing but Debian's archive is reached. Idempotent, and safe when
processes race: under a lock file, into a temporary folder that is then renamed into place.

Fixture (import it into the test module or conftest.py): `prometheus_tools`, the two binaries, skipped when they
cannot be had (failed under CI=true).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from .ports import free_port, listening
from .processes import child_environment, start_logged, stop_process_group
from .waiting import WaitTimedOut, log_tail, wait_for

SYSTEM_BIN = Path("/usr/bin")
PACKAGE = "prometheus"
START_TIMEOUT = 60  # seconds; Debian's 2.42 is ready in about 1 s on an empty storage folder
APT_TIMEOUT = 600  # seconds for one apt-get command (a ~20 MB download, or the package lists)


class PrometheusUnavailable(RuntimeError):
    """Neither /usr/bin's binaries nor the Debian package could be had: the message says what failed."""


class PrometheusServerError(RuntimeError):
    """prometheus did not start, or exited: the message ends with its log."""


# --- the binaries ----------------------------------------------------------------------------------------------


def cache_dir() -> Path:
    """Where the unpacked package is kept: $XDG_CACHE_HOME/smart-billing/prometheus (~/.cache by default)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "smart-billing" / "prometheus"


def _pair(bin_dir: Path) -> tuple[Path, Path] | None:
    binaries = (bin_dir / "prometheus", bin_dir / "promtool")
    if all(path.is_file() and os.access(path, os.X_OK) for path in binaries):
        return binaries
    return None


def _cached() -> tuple[Path, Path] | None:
    return _pair(cache_dir() / "root" / "usr" / "bin")


def prometheus_binaries() -> tuple[Path, Path]:
    """(prometheus, promtool): the installed package's, else the cached unpacked package's, unpacking it first if
    need be. Raises PrometheusUnavailable when it cannot be had."""
    found = _pair(SYSTEM_BIN) or _cached()
    if found:
        return found
    return _unpack_package()


def promtool() -> Path:
    return prometheus_binaries()[1]


def _run(command: Sequence[str], cwd: Path, timeout: float = APT_TIMEOUT) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive", "LC_ALL": "C"}
    try:
        return subprocess.run(list(command), cwd=cwd, env=environment, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=timeout)
    except FileNotFoundError as error:
        raise PrometheusUnavailable(f"{command[0]} not found ({error}); on Debian or Ubuntu: apt-get install "
                                    f"{PACKAGE}") from None
    except subprocess.TimeoutExpired:
        raise PrometheusUnavailable(f"`{' '.join(command)}` took more than {timeout:g}s") from None


def _download(folder: Path) -> Path:
    """The package's .deb in `folder`: `apt-get download`, retried after `apt-get update` (as root) if it fails."""
    result = _run(["apt-get", "download", PACKAGE], folder)
    if result.returncode != 0 and os.geteuid() == 0:
        update = _run(["apt-get", "update"], folder)
        if update.returncode != 0:
            raise PrometheusUnavailable(f"apt-get update failed:\n{update.stdout}{update.stderr}")
        result = _run(["apt-get", "download", PACKAGE], folder)
    debs = sorted(folder.glob(f"{PACKAGE}_*.deb"))
    if result.returncode != 0 or not debs:
        raise PrometheusUnavailable(f"apt-get download {PACKAGE} failed (exit {result.returncode}):\n"
                                    f"{result.stdout}{result.stderr}")
    return debs[-1]


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with open(path, "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _unpack_package() -> tuple[Path, Path]:
    cache = cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    with _locked(cache / ".lock"):
        found = _cached()  # another process may have unpacked it while this one waited for the lock
        if found:
            return found
        work = Path(tempfile.mkdtemp(prefix=".unpack-", dir=cache))
        try:
            deb = _download(work)
            unpacked = work / "root"
            result = _run(["dpkg-deb", "-x", str(deb), str(unpacked)], work)  # what `dpkg -x` runs
            if result.returncode != 0:
                raise PrometheusUnavailable(f"dpkg-deb -x {deb.name} failed:\n{result.stdout}{result.stderr}")
            binaries = _pair(unpacked / "usr" / "bin")
            if binaries is None:
                raise PrometheusUnavailable(f"{deb.name} holds no usr/bin/prometheus and usr/bin/promtool")
            for binary in binaries:
                version = _run([str(binary), "--version"], work, timeout=30)
                if version.returncode != 0:
                    raise PrometheusUnavailable(f"{binary.name} --version failed:\n"
                                                f"{version.stdout}{version.stderr}")
            shutil.rmtree(cache / "root", ignore_errors=True)
            unpacked.rename(cache / "root")  # atomic: a reader sees the whole package or none
        finally:
            shutil.rmtree(work, ignore_errors=True)
    found = _cached()
    assert found is not None
    return found


def run_promtool(*arguments: str | Path, cwd: Path | None = None, stdin: str | None = None,
                 timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """`promtool ARGUMENTS...`, its output captured (not checked: see returncode)."""
    return subprocess.run([str(promtool()), *map(str, arguments)], cwd=cwd, input=stdin, capture_output=True,
                          text=True, timeout=timeout, env=child_environment())


def check_metrics(exposition: str) -> list[str]:
    """`promtool check metrics` on an exposition text (a GET /metrics body): its complaints, one per line (lint
    warnings: a counter not ending in _total, a missing HELP, ...); empty when it has none."""
    result = run_promtool("check", "metrics", stdin=exposition)
    return [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]


# --- the server ------------------------------------------------------------------------------------------------


def _duration(seconds: float) -> str:
    return f"{max(1, round(seconds * 1000))}ms"


@dataclass
class PrometheusServer:
    """A Prometheus in `directory` (its config prometheus.yml, its storage data/, its log prometheus.log) on a free
    127.0.0.1 port, scraping itself (job `prometheus`) and `jobs` (job name -> "host:port" targets) every
    `scrape_interval` seconds; rules are evaluated as often. `honor_labels` keeps a scraped series' own `job` label
    (billing_dagster_runs{job=...}), as deploy/prometheus/prometheus.yml does for the API. `scrape_configs` are
    added as they are (a job with a bearer token, another metrics_path, ...); `rule_files` are loaded (alerts.yml,
    say)."""

    directory: Path
    jobs: dict[str, list[str]] = field(default_factory=dict)
    scrape_configs: list[dict[str, Any]] = field(default_factory=list)
    rule_files: list[Path] = field(default_factory=list)
    honor_labels: bool = True
    scrape_interval: float = 1
    port: int = field(default_factory=free_port)
    binary: Path | None = None
    process: subprocess.Popen | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.directory = Path(self.directory)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.write_config()

    # --- where ---

    @property
    def config_file(self) -> Path:
        return self.directory / "prometheus.yml"

    @property
    def data_dir(self) -> Path:
        return self.directory / "data"

    @property
    def log(self) -> Path:
        return self.directory / "prometheus.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    # --- configuration ---

    def config(self) -> dict[str, Any]:
        interval = _duration(self.scrape_interval)
        timeout = _duration(min(self.scrape_interval, 10))
        jobs = [{"job_name": "prometheus", "static_configs": [{"targets": [self.address]}]}]
        jobs += [{"job_name": name, "honor_labels": self.honor_labels,
                  "static_configs": [{"targets": list(targets)}]} for name, targets in self.jobs.items()]
        return {
            "global": {"scrape_interval": interval, "scrape_timeout": timeout, "evaluation_interval": interval},
            "rule_files": [str(Path(path).resolve()) for path in self.rule_files],
            "scrape_configs": [*jobs, *self.scrape_configs],
        }

    def write_config(self) -> None:
        """Writes prometheus.yml from the fields; a running server reads it again on reload()."""
        self.config_file.write_text(yaml.safe_dump(self.config(), sort_keys=False), encoding="utf-8")

    # --- running ---

    def command(self) -> list[str]:
        binary = self.binary or prometheus_binaries()[0]
        return [str(binary), f"--config.file={self.config_file}", f"--storage.tsdb.path={self.data_dir}",
                f"--web.listen-address={self.address}", "--web.enable-lifecycle",
                f"--web.console.templates={self.directory / 'consoles'}",
                f"--web.console.libraries={self.directory / 'console_libraries'}"]

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, timeout: float = START_TIMEOUT) -> PrometheusServer:
        """Starts prometheus in a process group of its own, its output appended to prometheus.log, and waits until
        /-/ready answers 200. Raises PrometheusServerError with the end of the log if it does not."""
        if self.running:
            return self
        command = self.command()
        if listening(self.port):
            raise PrometheusServerError(f"port {self.port} already in use")
        with open(self.log, "a", encoding="utf-8") as log:
            log.write(f"\n==== {' '.join(command)}\n")
        self.process = start_logged(command, child_environment(TMPDIR=str(self.directory)), self.directory,
                                    self.log)
        try:
            wait_for(self._ready, f"Prometheus on {self.url}", timeout=timeout, every=0.2, log=self.log)
        except AssertionError as error:
            self.stop()
            raise PrometheusServerError(str(error)) from None
        return self

    def _ready(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise PrometheusServerError(f"prometheus exited with status {self.process.returncode}; the end of "
                                        f"{self.log}:\n{log_tail(self.log)}")
        import httpx

        try:
            return httpx.get(f"{self.url}/-/ready", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def reload(self) -> None:
        """Writes the config again and has the server read it (POST /-/reload)."""
        import httpx

        self.write_config()
        httpx.post(f"{self.url}/-/reload", timeout=30).raise_for_status()

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> None:
        """Stops prometheus (SIGKILL after `timeout` s). Its storage stays in `directory` for the next start()."""
        if self.process is not None:
            stop_process_group(self.process, sig=sig, timeout=timeout)
            self.process = None

    def __enter__(self) -> PrometheusServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- the HTTP API ---

    def api(self, path: str, **params: Any) -> Any:
        """GET /api/v1/PATH: its `data`; PrometheusServerError for an error answer (a PromQL syntax error, say)."""
        import httpx

        response = httpx.get(f"{self.url}/api/v1/{path}", params=params, timeout=30)
        try:
            body = response.json()
        except ValueError:
            raise PrometheusServerError(f"/api/v1/{path}: HTTP {response.status_code} {response.text[:500]}") \
                from None
        if body.get("status") != "success":
            raise PrometheusServerError(f"/api/v1/{path} {params}: {body.get('errorType')}: {body.get('error')}")
        return body["data"]

    def query(self, promql: str, at: float | None = None) -> list[dict[str, Any]]:
        """An instant query: the result list, [{"metric": {labels}, "value": [time, "text"]}, ...] for a vector
        (for a scalar or a string, the one [time, "text"] pair in a list)."""
        params: dict[str, Any] = {"query": promql}
        if at is not None:
            params["time"] = at
        data = self.api("query", **params)
        return data["result"] if data["resultType"] in ("vector", "matrix") else [data["result"]]

    def value(self, promql: str) -> float | None:
        """The value of the query's only sample; None when it has none. AssertionError for more than one."""
        result = self.query(promql)
        if not result:
            return None
        assert len(result) == 1, f"{promql}: {len(result)} samples, not one: {result}"
        sample = result[0]
        return float((sample["value"] if isinstance(sample, dict) else sample)[1])

    def targets(self) -> list[dict[str, Any]]:
        """The active scrape targets: labels, health ("up", "down", "unknown"), lastError, lastScrape, ..."""
        return self.api("targets", state="active")["activeTargets"]

    def wait_for_target_up(self, job: str, timeout: float = 60) -> None:
        """Until every target of `job` was scraped successfully; else WaitTimedOut naming their last errors."""

        def up() -> bool:
            healths = [target["health"] for target in self.targets() if target["labels"].get("job") == job]
            return bool(healths) and all(health == "up" for health in healths)

        try:
            wait_for(up, f"job {job!r} scraped by {self.url}", timeout=timeout, every=0.2)
        except WaitTimedOut as error:
            errors = {target["scrapeUrl"]: target.get("lastError") for target in self.targets()
                      if target["labels"].get("job") == job}
            raise WaitTimedOut(f"{error}; its targets' last errors: {errors or 'no such job'}") from None

    def wait_for_query(self, promql: str, timeout: float = 60, what: str | None = None) -> list[dict[str, Any]]:
        """Until the query returns a sample (`up{job="x"} == 1`, `billing_store_up == 0`); returns the result."""
        return wait_for(lambda: self.query(promql), what or f"{promql} to return a sample", timeout=timeout,
                        every=0.2, log=self.log)

    def alerts(self) -> list[dict[str, Any]]:
        """The alerts pending or firing: labels (alertname, severity, ...), annotations, state, activeAt, value."""
        return self.api("alerts")["alerts"]

    def rules(self) -> list[dict[str, Any]]:
        """The rule groups loaded from `rule_files`, with each rule's health and lastError."""
        return self.api("rules")["groups"]


# --- fixtures (import them where they are used) ---


def _unavailable(message: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def prometheus_tools() -> tuple[Path, Path]:
    """(prometheus, promtool), installed from Debian's package if need be (see the module's docstring)."""
    try:
        return prometheus_binaries()
    except PrometheusUnavailable as error:
        _unavailable(f"Prometheus could not be installed: {error}")
        raise
