"""Engines for the two supported stores, configured for many concurrent chunk runs."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

SQLITE_BUSY_TIMEOUT_MS = 60_000


def normalise_url(url: str) -> str:
    """`postgresql://` and `postgres://` mean psycopg 3 here, whatever SQLAlchemy's default driver is."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def create_store_engine(url: str, readers_only: bool = False) -> Engine:
    """`readers_only`: an engine that never writes (the API's), so that on SQLite its transactions start as plain
    readers, which WAL lets run beside the one writer instead of queueing behind it."""
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, parsed.database, immediate=not readers_only)
    if parsed.get_backend_name() == "postgresql":
        return create_engine(url, pool_pre_ping=True, pool_size=2, max_overflow=2)
    raise ValueError(f"unsupported store {parsed.get_backend_name()!r}: use sqlite:/// or postgresql+psycopg://")


def _sqlite_engine(url: str, database: str | None, immediate: bool = True) -> Engine:
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection, _record):  # noqa: ANN001 - DB-API objects
        # Let SQLAlchemy's events own transaction boundaries (the driver's implicit BEGIN is deferred and
        # deadlocks writers that start as readers); WAL lets readers run beside the one writer.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection):  # noqa: ANN001
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine
