"""Fixtures: a throw-away PostgreSQL database per session, a store per test on SQLite and PostgreSQL, data dirs, the
`billing` command; and the tiers (markers unit, store, daemon: see README.md beside this file).

PostgreSQL comes from BILLING_TEST_DATABASE_URL (default: the local server). When it cannot be reached, tests
that need it are skipped on a developer's machine and fail under CI=true.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# billing_pipeline_tests.support is imported by its full name, as bench/ and docs/ import it: `python -m pytest`
# (make test) puts the checkout's root on sys.path, the `pytest` script does not.
if str(Path(__file__).resolve().parents[1]) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import Engine  # noqa: E402

from billing_pipeline.settings import Settings  # noqa: E402
from billing_pipeline.store.engine import create_store_engine  # noqa: E402
from billing_pipeline.store.migrate import upgrade  # noqa: E402
from billing_pipeline_tests.support.cli import BillingRun, run_billing  # noqa: E402
from billing_pipeline_tests.support.paths import PROJECT_ROOT, SHARED_DIR  # noqa: E402, F401 - imported from here
from billing_pipeline_tests.support.postgres import (  # noqa: E402
    PostgresServer,
    PrivateCluster,
    admin_url,
    postgres_bin_dir,
    unreachable,
)
from billing_pipeline_tests.support.s3 import s3_bucket, s3_server  # noqa: E402, F401 - fixtures (support/s3.py)

# A test that uses one of these (directly or through settings, engine, billing_env) needs a store database.
STORE_FIXTURES = {"database_url", "postgres", "private_cluster"}


@pytest.hookimpl(tryfirst=True)  # before -m deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in exactly one tier: `daemon` as its module marks it; else `store` when it uses a store fixture;
    else `unit`."""
    for item in items:
        if item.get_closest_marker("daemon"):
            continue
        fixtures = set(getattr(item, "fixturenames", ()))
        item.add_marker(pytest.mark.store if fixtures & STORE_FIXTURES else pytest.mark.unit)


def _unavailable(message: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    url = admin_url()
    problem = unreachable(url)
    if problem:
        _unavailable(problem)
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


@pytest.fixture
def cli() -> Callable[..., BillingRun]:
    """`billing` in this process, on this process's environment (billing_env):
    `cli("process", path).json` is the summary it printed (see support/cli.py)."""
    return functools.partial(run_billing, in_process=True)


@pytest.fixture
def private_cluster() -> Iterator[PrivateCluster]:
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        _unavailable("PostgreSQL server binaries (initdb, pg_ctl) not found")
    cluster = PrivateCluster(bin_dir)
    cluster.init()
    cluster.start()
    cluster.create_database("billing")
    yield cluster
    cluster.destroy()
