"""The states and kinds of billing_pipeline.statuses are exactly the ones the store accepts, on both dialects."""

from __future__ import annotations

import re
from enum import StrEnum

import pytest
from sqlalchemy import Engine, text

from billing_pipeline.statuses import (
    BoletoEventKind,
    BoletoStatus,
    ChunkStatus,
    EventSource,
    FileStatus,
    NoticeStatus,
    ReceivedVia,
    RejectStage,
    RetornoStatus,
    VerdictKind,
)


def allowed_values(engine: Engine, table: str, column: str) -> set[str]:
    """The values the CHECK constraint on `table.column` lists, read back from the migrated database."""
    check = re.compile(rf"CHECK \(+\s*\(?{column}\)?(?:::text)?\s*(?:IN|= ANY)\s*\(+(?:ARRAY\[)?(.*?)\]?\)+", re.S)
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            definitions = [connection.execute(text("SELECT sql FROM sqlite_master WHERE name = :t"),
                                              {"t": table}).scalar_one()]
        else:
            definitions = connection.execute(text(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = CAST(:t AS regclass)"
                " AND contype = 'c'"), {"t": table}).scalars().all()
    found = {value for definition in definitions for match in check.finditer(definition)
             for value in re.findall(r"'([a-z_]+)'", match.group(1))}
    assert found, f"no CHECK on {table}.{column} in {definitions}"
    return found


@pytest.mark.parametrize(("table", "column", "values"), [
    ("source_files", "status", FileStatus), ("chunks", "status", ChunkStatus), ("outbox", "status", NoticeStatus),
    ("line_verdicts", "verdict", VerdictKind), ("rejects", "stage", RejectStage),
    ("source_files", "received_via", ReceivedVia), ("file_receipts", "received_via", ReceivedVia),
    ("boleto_states", "status", BoletoStatus), ("boleto_events", "status", BoletoStatus),
    ("boleto_events", "kind", BoletoEventKind), ("boleto_events", "source_kind", EventSource),
    ("retorno_files", "status", RetornoStatus), ("retorno_files", "received_via", ReceivedVia),
])
def test_each_column_accepts_exactly_its_values(engine: Engine, table: str, column: str, values: type[StrEnum]):
    assert allowed_values(engine, table, column) == {value.value for value in values}
