"""The states of billing_pipeline.statuses are exactly the ones the store accepts, on both dialects."""

from __future__ import annotations

import re
from enum import StrEnum

import pytest
from sqlalchemy import Engine, text

from billing_pipeline.statuses import ChunkStatus, FileStatus, NoticeStatus

_CHECK = re.compile(r"CHECK \(+\s*\(?status\)?(?:::text)?\s*(?:IN|= ANY)\s*\(+(?:ARRAY\[)?(.*?)\]?\)+", re.S)


def allowed_statuses(engine: Engine, table: str) -> set[str]:
    """The status values the table's CHECK constraint lists, read back from the migrated database."""
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            definitions = [connection.execute(text("SELECT sql FROM sqlite_master WHERE name = :t"),
                                              {"t": table}).scalar_one()]
        else:
            definitions = connection.execute(text(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = CAST(:t AS regclass)"
                " AND contype = 'c'"), {"t": table}).scalars().all()
    found = {value for definition in definitions for match in _CHECK.finditer(definition)
             for value in re.findall(r"'([a-z_]+)'", match.group(1))}
    assert found, f"no CHECK on {table}.status in {definitions}"
    return found


@pytest.mark.parametrize(("table", "statuses"), [
    ("source_files", FileStatus), ("chunks", ChunkStatus), ("outbox", NoticeStatus),
])
def test_each_table_accepts_exactly_its_statuses(engine: Engine, table: str, statuses: type[StrEnum]):
    assert allowed_statuses(engine, table) == {status.value for status in statuses}
