"""A small migrator: `migrations/<dialect>/NNNN_name.sql` (package data) applied in order, each recorded in
`schema_version`."""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable

from sqlalchemy import Connection, Engine, text

# Read through importlib.resources, so that an installed package (a wheel, the Docker image) migrates as a
# checkout does.
MIGRATIONS = files("billing_pipeline.store") / "migrations"
_MIGRATION = re.compile(r"(\d{4})_([a-z0-9_]+)\.sql")
_ADVISORY_LOCK = 7_271_727  # any constant: serialises concurrent upgrades on one PostgreSQL database


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    path: Traversable


def migrations(dialect: str) -> list[Migration]:
    folder = MIGRATIONS / dialect
    if not folder.is_dir():
        raise FileNotFoundError(f"no migrations for {dialect!r} in {folder}")
    found = []
    for path in sorted(folder.iterdir(), key=lambda entry: entry.name):
        if match := _MIGRATION.fullmatch(path.name):
            found.append(Migration(int(match.group(1)), match.group(2), path))
    return found


def _statements(script: str) -> list[str]:
    statements, buffer = [], ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    leftover = [line.strip() for line in buffer.splitlines() if line.strip()]
    if leftover and not all(line.startswith("--") for line in leftover):
        raise ValueError(f"unterminated SQL statement: {buffer.strip()[:80]}")
    return statements


def _applied(connection: Connection) -> set[int]:
    connection.exec_driver_sql(
        "CREATE TABLE IF NOT EXISTS schema_version ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
        " applied_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)"
    )
    return {row[0] for row in connection.exec_driver_sql("SELECT version FROM schema_version")}


def pending(engine: Engine) -> list[Migration]:
    with engine.begin() as connection:
        applied = _applied(connection)
    return [m for m in migrations(engine.dialect.name) if m.version not in applied]


def upgrade(engine: Engine) -> list[Migration]:
    """Apply what is missing, each migration in its own transaction; safe to run from many processes."""
    done = []
    for migration in migrations(engine.dialect.name):
        with engine.begin() as connection:
            if engine.dialect.name == "postgresql":
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_ADVISORY_LOCK})")
            if migration.version in _applied(connection):
                continue
            for statement in _statements(migration.path.read_text(encoding="utf-8")):
                connection.exec_driver_sql(statement)
            connection.execute(
                text("INSERT INTO schema_version (version, name) VALUES (:v, :n)"),
                {"v": migration.version, "n": migration.name},
            )
            done.append(migration)
    return done
