"""A throwaway PostgreSQL store for the benchmarks that drive the stages without Dagster."""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine

from bench.ingest import create_database, database_url, drop_database
from billing_pipeline.settings import Settings
from billing_pipeline.store.engine import create_store_engine
from billing_pipeline.store.migrate import upgrade


def store_arguments(parser: argparse.ArgumentParser, rows: int) -> None:
    parser.add_argument("--rows", type=int, default=rows)
    parser.add_argument("--chunk-rows", type=int, default=100_000)
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")


@contextmanager
def bench_store(admin_url: str, chunk_rows: int) -> Iterator[tuple[Settings, Engine, Path]]:
    """Settings on a fresh database (schema current) and a scratch folder; both are gone afterwards."""
    work = Path(tempfile.mkdtemp(prefix="bench-"))
    name = create_database(admin_url)
    engine = None
    try:
        url = database_url(admin_url, name).replace("postgresql://", "postgresql+psycopg://")
        # Dagster's steps (billing process) read their settings from the environment: this process's is theirs.
        os.environ.update({"BILLING_DATA_DIR": str(work / "data"), "BILLING_DATABASE_URL": url,
                           "BILLING_GOVERNMENT_ID_POLICY": "lenient", "BILLING_CHUNK_ROWS": str(chunk_rows)})
        settings = Settings.from_env()
        settings.ensure_dirs()
        engine = create_store_engine(settings.database_url)
        upgrade(engine)
        yield settings, engine, work
    finally:
        if engine is not None:
            engine.dispose()
        drop_database(admin_url, name)
        shutil.rmtree(work, ignore_errors=True)
