"""Dagster's PostgreSQL instance storage, holding one pooled connection per process.

dagster-postgres opens a new connection for every storage call except in the webserver: a 1.1M-row file's runs
opened ~10,000 connections to the instance database, and PostgreSQL's fork and authentication for each cost about
a quarter of the machine's CPU during the file (measured with bench.daemon_ingest, 2026-11-29). This keeps the
connection, exactly as dagster-webserver does (`optimize_for_webserver`), in the daemon, the code server and every
run worker, without a statement timeout.
"""

from collections.abc import Mapping
from typing import Any

from dagster._core.storage.config import PostgresStorageConfig
from dagster._serdes import ConfigurableClassData
from dagster_postgres import DagsterPostgresStorage
from dagster_postgres.utils import get_token_provider_from_config, pg_url_from_config

POOL_RECYCLE_SECONDS = 300
MAX_OVERFLOW = 10  # extra connections for a process's concurrent threads, closed when returned


class PooledPostgresStorage(DagsterPostgresStorage):
    @classmethod
    def from_config_value(  # type: ignore[override]
        cls, inst_data: ConfigurableClassData | None, config_value: Mapping[str, Any] | PostgresStorageConfig
    ) -> "PooledPostgresStorage":
        storage = cls(
            inst_data=inst_data,
            postgres_url=pg_url_from_config(config_value),
            should_autocreate_tables=config_value.get("should_autocreate_tables", True),
            token_provider=get_token_provider_from_config(config_value),
        )
        for part in (storage.run_storage, storage.event_log_storage, storage.schedule_storage):
            part.optimize_for_webserver(statement_timeout=0, pool_recycle=POOL_RECYCLE_SECONDS,
                                        max_overflow=MAX_OVERFLOW)
        return storage
