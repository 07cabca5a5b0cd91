"""The store's figures as monitoring reads them at every scrape: files by status, rows by outcome, rejected lines
by code, boletos, notices by state, how long finished files took, and the worst recent chunk reject rate.

Each figure is one aggregate query (two for rows and for reject codes), all read in one connection; what each costs
is in its docstring. The registry's tables (source_files, chunks) hold one row per file and per chunk (11 for a
1.1M-row file), so they are read whole; the big tables (boletos, outbox) are only counted, on their smallest
index, never their rows. Measured on a store holding a 1.1M-row file (1.1M debts, boletos and notices, 11,000
rejects; 2 cores): the whole scrape ~0.3 s on PostgreSQL 15 and ~0.25 s on SQLite, nearly all of it the outbox and
boletos counts, which grow with every debt ever billed.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Engine, Float, case, cast, func, literal_column, or_, select
from sqlalchemy.sql.elements import ColumnElement

from billing_pipeline.rejects import RejectCode
from billing_pipeline.statuses import FINISHED_FILE_STATUSES, FileStatus, NoticeStatus
from billing_pipeline.store.outbox import BOLETO_NOTICE
from billing_pipeline.store.tables import boletos, chunks, outbox, rejects, source_files

# Upper bounds (seconds) of the processing-time histogram: a small file takes seconds, a 1.1M-row one minutes,
# a backlog or a slow mail server up to hours.
PROCESSING_BUCKETS: tuple[float, ...] = (1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200)
# The highest chunk reject rate is taken over the chunks validated or loaded this long ago at most.
REJECT_RATE_WINDOW_SECONDS = 3600
ROW_OUTCOMES = ("accepted", "rejected", "duplicate")


@dataclass(frozen=True)
class ProcessingTimes:
    """Finished files (reported_at set) by seconds from registered_at to reported_at, as a histogram."""

    bounds: tuple[float, ...]
    cumulative: tuple[int, ...]  # files that took at most bounds[i] seconds
    count: int
    total_seconds: float


@dataclass(frozen=True)
class StoreFigures:
    files: dict[str, int]  # by FileStatus value, every status present
    rows: dict[str, int]  # by ROW_OUTCOMES
    reject_codes: dict[str, int]  # rejected lines by reject code, every RejectCode present
    boletos: int
    notices: dict[str, int]  # by NoticeStatus value, every state present
    processing: ProcessingTimes
    chunk_reject_rate_max: float  # the highest rejected/rows of the chunks of the last REJECT_RATE_WINDOW_SECONDS
    recent_chunks: int  # how many chunks that maximum is over


def store_figures(engine: Engine) -> StoreFigures:
    """Every figure, in one connection. Raises SQLAlchemyError when the store cannot be read."""
    with engine.connect() as connection:
        highest, recent = _recent_reject_rate(connection, REJECT_RATE_WINDOW_SECONDS)
        return StoreFigures(
            files=files_by_status(connection),
            rows=rows_by_outcome(connection),
            reject_codes=rejected_lines_by_code(connection),
            boletos=boletos_issued(connection),
            notices=notices_by_state(connection),
            processing=processing_times(connection),
            chunk_reject_rate_max=highest,
            recent_chunks=recent,
        )


def files_by_status(connection: Connection) -> dict[str, int]:
    """One GROUP BY over source_files: one row per file, a few thousand in years."""
    query = select(source_files.c.status, func.count()).group_by(source_files.c.status)
    found: dict[str, int] = {status: int(count) for status, count in connection.execute(query)}
    return {status.value: found.get(status.value, 0) for status in FileStatus}


def rows_by_outcome(connection: Connection) -> dict[str, int]:
    """Rows by outcome: a finished file (processed, or rejected whole) counts its rolled-up columns, a file still
    being processed the counts of its chunks so far (a chunk's rejected and duplicates once it is validated, its
    accepted once it is loaded), so the numbers rise while a file is processing and do not jump when it is rolled
    up. A chunk re-run after its file's roll-up does not change them (the roll-up stays the file's number).

    Two aggregates: over source_files (one row per file), and over the chunks of the unfinished files, reached by
    the chunks' (file_id, chunk_no) unique index."""
    finished = connection.execute(
        select(func.coalesce(func.sum(source_files.c.accepted), 0), func.coalesce(func.sum(source_files.c.rejected), 0),
               func.coalesce(func.sum(source_files.c.duplicates), 0))
        .where(source_files.c.status.in_(FINISHED_FILE_STATUSES))
    ).one()
    unfinished_files = select(source_files.c.file_id).where(source_files.c.status.not_in(FINISHED_FILE_STATUSES))
    in_progress = connection.execute(
        select(func.coalesce(func.sum(chunks.c.accepted), 0), func.coalesce(func.sum(chunks.c.rejected), 0),
               func.coalesce(func.sum(chunks.c.duplicates), 0))
        .where(chunks.c.file_id.in_(unfinished_files))
    ).one()
    return {outcome: int(done) + int(going) for outcome, done, going in zip(ROW_OUTCOMES, finished, in_progress,
                                                                             strict=True)}


def rejected_lines_by_code(connection: Connection) -> dict[str, int]:
    """Rejected lines by code, counted as files.reject_codes counts one file's: distinct lines per code (a line
    with two problems under different codes counts under each), and every row of a file rejected whole under its
    file-level code.

    The distinct lines are a hash aggregate over the whole rejects table (no index holds the code), so its cost
    follows the rejects ever stored, not the debts: ~20 ms on either dialect for the ~11,000 rejects of a 1.1M-row
    file with 1% bad lines; at 1.2M rejects (a hundred such files) ~2-3 s on PostgreSQL, whose default 4 MB work_mem
    makes the hash spill to disk."""
    rejected_whole = select(source_files.c.file_id).where(source_files.c.status == FileStatus.REJECTED)
    lines = (select(rejects.c.code, rejects.c.file_id, rejects.c.line_number).distinct()
             .where(rejects.c.file_id.not_in(rejected_whole)).subquery("lines"))
    found: dict[str, int] = {code.value: 0 for code in RejectCode}
    for code, count in connection.execute(select(lines.c.code, func.count()).group_by(lines.c.code)):
        found[code] = found.get(code, 0) + int(count)
    whole = (select(source_files.c.error_code, func.coalesce(func.sum(source_files.c.rows), 0))
             .where(source_files.c.status == FileStatus.REJECTED, source_files.c.error_code.is_not(None))
             .group_by(source_files.c.error_code))
    for code, count in connection.execute(whole):
        found[code] = found.get(code, 0) + int(count)
    return found


def boletos_issued(connection: Connection) -> int:
    """COUNT(*) over boletos: both dialects count the smallest index (boletos_chunk_key, 7 MB at 1.1M boletos on
    PostgreSQL, whose B-tree deduplicates the chunk keys) rather than the 230 MB table: a parallel index-only scan
    once autovacuum has set the visibility map, ~60 ms at 1.1M boletos; ~10 ms on SQLite."""
    return int(connection.execute(select(func.count()).select_from(boletos)).scalar_one())


def notices_by_state(connection: Connection) -> dict[str, int]:
    """Notices by state, read from the outbox_chunk_status index (chunk_key, status) alone, never the outbox rows
    (an index-only scan on PostgreSQL, a covering-index scan on SQLite). Counted per (chunk_key, status) first, in
    the index's own order (no sort or hash of 1.1M values), then added up by status over those few rows: at 1.1M
    notices ~90 ms on PostgreSQL and ~110 ms on SQLite, against ~140 and ~350 ms for a plain GROUP BY status."""
    per_chunk = (select(outbox.c.chunk_key, outbox.c.status, func.count().label("notices"))
                 .where(outbox.c.notice_kind == literal_column(f"'{BOLETO_NOTICE}'"))  # the partial index's rows
                 .group_by(outbox.c.chunk_key, outbox.c.status).subquery("per_chunk"))
    query = select(per_chunk.c.status, func.sum(per_chunk.c.notices)).group_by(per_chunk.c.status)
    found: dict[str, int] = {status: int(count) for status, count in connection.execute(query)}
    return {status.value: found.get(status.value, 0) for status in NoticeStatus}


def _seconds_between(connection: Connection, start: ColumnElement, end: ColumnElement) -> ColumnElement:
    if connection.dialect.name == "sqlite":  # timestamps are UTC text; julianday's float is rounded back to ms
        return func.round((func.julianday(end) - func.julianday(start)) * 86400.0, 3)
    return cast(func.extract("epoch", end - start), Float)


def processing_times(connection: Connection) -> ProcessingTimes:
    """The histogram in one pass over source_files (one row per file): a count per bucket computed in SQL, one row
    returned whatever the number of files."""
    seconds = _seconds_between(connection, source_files.c.registered_at, source_files.c.reported_at)
    durations = (select(seconds.label("seconds"))
                 .where(source_files.c.reported_at.is_not(None), source_files.c.registered_at.is_not(None))
                 .subquery("durations"))
    row = connection.execute(
        select(func.count(), func.coalesce(func.sum(durations.c.seconds), 0.0),
               *[func.coalesce(func.sum(case((durations.c.seconds <= bound, 1), else_=0)), 0)
                 for bound in PROCESSING_BUCKETS])
    ).one()
    count, total, *cumulative = row
    return ProcessingTimes(PROCESSING_BUCKETS, tuple(int(n) for n in cumulative), int(count), float(total))


def _seconds_ago(connection: Connection, seconds: int) -> ColumnElement:
    """The store's own clock minus `seconds`, the clock that wrote validated_at and loaded_at."""
    if connection.dialect.name == "sqlite":  # CURRENT_TIMESTAMP's text, which compares as the stored times do
        return func.datetime("now", f"-{int(seconds)} seconds")
    return func.now() - literal_column(f"INTERVAL '{int(seconds)} seconds'")


def _recent_reject_rate(connection: Connection, window_seconds: int) -> tuple[float, int]:
    """The highest rejected/rows among the chunks validated or loaded in the window (a chunk's rejected includes
    the DUPLICATE_CONFLICT rejects of its load): a pass over chunks, one row per chunk."""
    since = _seconds_ago(connection, window_seconds)
    rate = cast(chunks.c.rejected, Float) / chunks.c.rows
    highest, recent = connection.execute(
        select(func.max(case((chunks.c.rows > 0, rate), else_=0.0)), func.count())
        .where(chunks.c.rejected.is_not(None),
               or_(chunks.c.validated_at >= since, chunks.c.loaded_at >= since))
    ).one()
    return float(highest or 0.0), int(recent)

