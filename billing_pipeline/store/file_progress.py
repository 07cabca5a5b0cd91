"""Where each chunk of one file stands, read often (every half second while `billing process` runs).

Counting a 1.1M-row file's boletos and notices row by row would read millions of index entries per look.
Instead: a chunk's boletos, like its notices, are all written by one statement, one per stored debt, so a chunk
with any boleto has `accepted` of them and a chunk with any notice `accepted` notices, one index probe each.
Only the notices still pending are counted, and only the chunk being delivered has many.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, func, literal_column, select

from billing_pipeline.statuses import NoticeStatus
from billing_pipeline.store.outbox import BOLETO_NOTICE
from billing_pipeline.store.tables import boletos, chunks, outbox, source_files


@dataclass(frozen=True, slots=True)
class ChunkProgress:
    chunk_key: str
    rows: int
    status: str  # a ChunkStatus
    accepted: int | None  # set once loaded
    left_out: int  # rejected and duplicate rows, known once validated
    has_boletos: bool
    has_notices: bool
    pending_notices: int


@dataclass(frozen=True)
class FileChunks:
    rows: int | None  # the file's data rows; None until it is split
    chunks: list[ChunkProgress]


def file_chunk_progress(engine: Engine, file_id: str) -> FileChunks:
    of_chunk = chunks.c.chunk_key
    first_notice = outbox.c.notice_kind == literal_column(f"'{BOLETO_NOTICE}'")  # reminders are not the delivery
    query = (
        select(
            chunks.c.chunk_key,
            chunks.c.rows,
            chunks.c.status,
            chunks.c.accepted,
            func.coalesce(chunks.c.rejected, 0) + func.coalesce(chunks.c.duplicates, 0),
            select(boletos.c.debt_id).where(boletos.c.chunk_key == of_chunk).exists(),
            select(outbox.c.id).where(outbox.c.chunk_key == of_chunk, first_notice).exists(),
            select(func.count()).select_from(outbox)
            .where(outbox.c.chunk_key == of_chunk, outbox.c.status == NoticeStatus.PENDING.value, first_notice)
            .scalar_subquery(),
        )
        .where(chunks.c.file_id == file_id)
        .order_by(chunks.c.chunk_no)
    )
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            # A chunk's boletos lie together in the table, but the planner takes a chunk's rows to be spread
            # through it and answers EXISTS with a sequential scan it expects to stop early: on a fresh store it
            # reads up to the whole table (0.5 s for 1.1M boletos). The indexes answer each probe in microseconds,
            # and JIT, which the forced costs would trigger, takes longer to compile than the query takes to run.
            connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
            connection.exec_driver_sql("SET LOCAL jit = off")
        rows = connection.execute(select(source_files.c.rows).where(source_files.c.file_id == file_id)).scalar()
        found = connection.execute(query).all()
    return FileChunks(rows, [
        ChunkProgress(key, chunk_rows, status, accepted, int(left_out), bool(with_boletos), bool(with_notices),
                      int(pending))
        for key, chunk_rows, status, accepted, left_out, with_boletos, with_notices, pending in found
    ])
