"""Named counters in the store: a block of numbers per call, never handed out twice, even to concurrent runs."""

from __future__ import annotations

from sqlalchemy import Connection, text


def allocate(connection: Connection, name: str, count: int) -> int:
    """Reserve `count` consecutive numbers of sequence `name`; return the first. The row lock (PostgreSQL) or the
    write lock (SQLite) held until the caller's transaction ends keeps concurrent allocations apart."""
    if count < 1:
        raise ValueError("allocate at least one number")
    connection.execute(
        text("INSERT INTO sequences (name, value) VALUES (:name, 0) ON CONFLICT (name) DO NOTHING"), {"name": name}
    )
    last = connection.execute(
        text("UPDATE sequences SET value = value + :count WHERE name = :name RETURNING value"),
        {"name": name, "count": count},
    ).scalar_one()
    return int(last) - count + 1
