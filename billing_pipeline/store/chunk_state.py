"""Read-side view of one chunk's numbers, for asset metadata and checks."""

from __future__ import annotations

from sqlalchemy import Engine, RowMapping, select

from billing_pipeline.store.tables import chunks


def chunk_row(engine: Engine, chunk_key: str) -> RowMapping:
    with engine.connect() as connection:
        row = connection.execute(select(chunks).where(chunks.c.chunk_key == chunk_key)).mappings().first()
    if row is None:
        raise LookupError(f"unknown chunk {chunk_key!r}")
    return row
