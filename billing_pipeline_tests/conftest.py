"""Fixtures: a throw-away PostgreSQL database per session, a store per test on SQLite and PostgreSQL, data dirs.

PostgreSQL comes from BILLING_TEST_DATABASE_URL (default: the local server). When it cannot be reached, tests
that need it are skipped on a developer's machine and fail under CI=true.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from private_postgres import PrivateCluster, postgres_bin_dir
from psycopg import sql
from sqlalchemy import Engine

from billing_pipeline.settings import Settings
from billing_pipeline.store.engine import create_store_engine
from billing_pipeline.store.migrate import upgrade

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_DIR = PROJECT_ROOT.parent / "shared"
DEFAULT_TEST_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def _admin_url() -> str:
    return os.environ.get("BILLING_TEST_DATABASE_URL", DEFAULT_TEST_DATABASE_URL).replace(
        "postgresql+psycopg://", "postgresql://"
    )


def _with_database(url: str, database: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{database}"


class PostgresServer:
    """Creates databases on the test server and drops them when the session ends."""

    def __init__(self, admin_url: str):
        self.admin_url = admin_url
        self.created: list[str] = []

    def create_database(self, prefix: str = "billing_test") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.admin_url, autocommit=True) as connection:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        self.created.append(name)
        return _with_database(self.admin_url, name).replace("postgresql://", "postgresql+psycopg://", 1)

    def drop_all(self) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as connection:
            for name in self.created:
                connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    url = _admin_url()
    try:
        with psycopg.connect(url, connect_timeout=5):
            pass
    except psycopg.OperationalError as error:
        message = f"PostgreSQL at {url} is not reachable: {error}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    server = PostgresServer(url)
    yield server
    server.drop_all()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'billing.db'}"
    return request.getfixturevalue("postgres").create_database()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    configured = Settings.from_env({}, data_dir=tmp_path / "data", database_url=database_url)
    configured.ensure_dirs()
    return configured


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    store = create_store_engine(settings.database_url)
    upgrade(store)
    yield store
    store.dispose()


@pytest.fixture
def billing_env(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> Settings:
    """The same settings, as the environment the CLI and Dagster runs read."""
    monkeypatch.setenv("BILLING_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("BILLING_DATABASE_URL", settings.database_url)
    return settings


def stop_process_group(process: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 30) -> None:
    """Stop a process started with start_new_session=True and everything it spawned (run workers, servers)."""
    os.killpg(process.pid, sig)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def kill_processes_mentioning(text: str) -> list[int]:
    """SIGKILL every process whose command line contains `text` (a test's temp path): a code server whose run
    worker was killed can outlive its daemon, and must not outlive its test."""
    killed = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in command:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(entry.name), signal.SIGKILL)
                killed.append(int(entry.name))
    return killed


@pytest.fixture
def private_cluster() -> Iterator[PrivateCluster]:
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("PostgreSQL server binaries (initdb, pg_ctl) not found")
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) not found")
    cluster = PrivateCluster(bin_dir)
    cluster.init()
    cluster.start()
    with psycopg.connect(cluster.url().replace("+psycopg", ""), autocommit=True) as connection:
        connection.execute("CREATE DATABASE billing")
    yield cluster
    cluster.destroy()
