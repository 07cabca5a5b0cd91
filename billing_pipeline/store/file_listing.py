"""The registry as an operator reads it: every file with its numbers and notices, one file in detail, and a file
named by its sha256 or a unique prefix of it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, Select, case, func, literal_column, select

from billing_pipeline.statuses import FileStatus, NoticeStatus
from billing_pipeline.store.files import Receipt, file_chunks, file_receipts_of, reject_codes, utc
from billing_pipeline.store.outbox import BOLETO_NOTICE
from billing_pipeline.store.tables import chunks, file_receipts, outbox, source_files

FILE_ID_LENGTH = 64  # the sha256 of the file's bytes, in hex
MIN_PREFIX_LENGTH = 4
_HEX = re.compile(r"[0-9a-f]+")


class FileIdError(LookupError):
    """An id that names no file, or more than one; the message says which, in one line, and `reason` is
    `malformed` (not a sha256 or a prefix of one), `ambiguous` or `unknown`."""

    def __init__(self, message: str, reason: str = "unknown"):
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class FileSummary:
    file_id: str
    original_name: str  # the name of its first arrival
    status: str
    received_via: str  # how it first came in
    received_at: datetime | None  # its first arrival
    received_again: int  # arrivals of the same bytes after the first (re-drops, under any name)
    last_received_at: datetime | None
    rows: int | None  # None until split (or rejected whole before migration 0008)
    accepted: int | None  # the roll-up, once every chunk is loaded
    rejected: int | None
    duplicates: int | None
    chunk_count: int | None
    error_code: str | None  # a file rejected whole
    error_message: str | None
    notices: dict[str, int]  # by NoticeStatus value, every status present
    seq: int = 0  # the order files were registered in: a cursor for paging through the listing


@dataclass(frozen=True)
class ChunkState:
    chunk_key: str
    chunk_no: int
    first_line: int
    last_line: int
    rows: int
    status: str
    accepted: int | None  # None until validated
    rejected: int | None
    duplicates: int | None


@dataclass(frozen=True)
class FileDetail:
    summary: FileSummary
    receipts: list[Receipt]  # every arrival, first one first
    chunks: list[ChunkState]
    reject_codes: dict[str, int]  # rejected lines by code


def resolve_file_id(engine: Engine, raw: str) -> str:
    """The id of the one file whose sha256 is `raw` or starts with it (at least MIN_PREFIX_LENGTH hex digits)."""
    wanted = raw.strip().lower()
    if not _HEX.fullmatch(wanted) or len(wanted) > FILE_ID_LENGTH:
        raise FileIdError(f"{raw!r} is not a file id: give the file's sha256 ({FILE_ID_LENGTH} hex digits) or a "
                          f"prefix of it", "malformed")
    if len(wanted) < MIN_PREFIX_LENGTH:
        raise FileIdError(f"{raw!r} is too short: a file id prefix needs at least {MIN_PREFIX_LENGTH} hex digits",
                          "malformed")
    condition = (source_files.c.file_id == wanted if len(wanted) == FILE_ID_LENGTH
                 else source_files.c.file_id.startswith(wanted))
    with engine.connect() as connection:
        # Two are enough to tell an ambiguous prefix; the count says how ambiguous.
        found = list(connection.execute(select(source_files.c.file_id).where(condition).limit(2)).scalars())
        if len(found) > 1:
            matching = connection.execute(select(func.count()).select_from(source_files).where(condition)).scalar_one()
            raise FileIdError(f"{raw!r} matches {matching} files: give more digits of the file id", "ambiguous")
    if not found:
        raise FileIdError(f"no file with id {raw!r} in the store")
    return str(found[0]).strip()


def list_files(engine: Engine, status: FileStatus | None = None, limit: int | None = None,
               before_seq: int | None = None) -> list[FileSummary]:
    """The newest `limit` files (or every one), those in `status` only if given, registered before the file of
    `before_seq` if given (a page after it), with their notices by state: one query for all of them, whose cost
    follows the files listed, not the store's whole history."""
    files = select(source_files)
    if status:
        files = files.where(source_files.c.status == status)
    if before_seq is not None:
        files = files.where(source_files.c.seq < before_seq)
    return _summaries(engine, files.order_by(source_files.c.seq.desc()).limit(limit))


def file_detail(engine: Engine, file_id: str) -> FileDetail | None:
    """One file (its exact id) with its arrivals, chunks and reject codes; None when the store has no such file."""
    summaries = _summaries(engine, select(source_files).where(source_files.c.file_id == file_id))
    if not summaries:
        return None
    states = [ChunkState(row["chunk_key"], row["chunk_no"], row["first_line"], row["last_line"], row["rows"],
                         row["status"], row["accepted"], row["rejected"], row["duplicates"])
              for row in file_chunks(engine, file_id)]
    summary = summaries[0]
    codes = reject_codes(engine, file_id, summary.error_code if summary.status == FileStatus.REJECTED else None,
                         summary.rows)  # counted as the report counts them
    return FileDetail(summary, file_receipts_of(engine, file_id), states, codes)


def _summaries(engine: Engine, files: Select) -> list[FileSummary]:
    """The files `files` selects, newest first, in one query. Their notices are counted by chunk and status on the
    outbox index (chunk_key, status), which holds both: PostgreSQL reads the index alone (no outbox row) and
    hands on one count per chunk and status, which the files' chunks then add up by file."""
    listed = files.subquery("listed")  # a subquery rather than a CTE: the planner keeps source_files' statistics
    listed_chunks = select(chunks.c.chunk_key).join(listed, listed.c.file_id == chunks.c.file_id)
    by_chunk = (
        select(outbox.c.chunk_key, outbox.c.status, func.count().label("notices"))
        .where(outbox.c.chunk_key.in_(listed_chunks),
               outbox.c.notice_kind == literal_column(f"'{BOLETO_NOTICE}'"))  # first notices; reminders apart
        .group_by(outbox.c.chunk_key, outbox.c.status)
        .subquery("by_chunk")
    )
    notices = (
        select(chunks.c.file_id,
               *[func.sum(case((by_chunk.c.status == status.value, by_chunk.c.notices), else_=0)).label(status.value)
                 for status in NoticeStatus])
        .select_from(by_chunk.join(chunks, chunks.c.chunk_key == by_chunk.c.chunk_key))
        .group_by(chunks.c.file_id)
        .subquery("notices")
    )
    arrivals = (
        select(file_receipts.c.file_id, func.count().label("receipts"),
               func.max(file_receipts.c.received_at).label("last_received_at"))
        .where(file_receipts.c.file_id.in_(select(listed.c.file_id)))
        .group_by(file_receipts.c.file_id)
        .subquery("arrivals")
    )
    query = (
        select(listed, func.coalesce(arrivals.c.receipts, 0).label("receipts"), arrivals.c.last_received_at,
               *[func.coalesce(notices.c[status.value], 0).label(f"notices_{status.value}") for status in NoticeStatus])
        .select_from(listed.outerjoin(notices, notices.c.file_id == listed.c.file_id)
                     .outerjoin(arrivals, arrivals.c.file_id == listed.c.file_id))
        .order_by(listed.c.seq.desc())
    )
    with engine.connect() as connection:
        rows = connection.execute(query).mappings().all()
    return [
        FileSummary(
            file_id=str(row["file_id"]).strip(), original_name=row["original_name"], status=row["status"],
            received_via=row["received_via"], received_at=utc(row["registered_at"]),
            received_again=max(int(row["receipts"]) - 1, 0),
            last_received_at=utc(row["last_received_at"]) if row["last_received_at"] is not None else None,
            rows=row["rows"], accepted=row["accepted"], rejected=row["rejected"], duplicates=row["duplicates"],
            chunk_count=row["chunk_count"], error_code=row["error_code"], error_message=row["error_message"],
            notices={status.value: int(row[f"notices_{status.value}"]) for status in NoticeStatus},
            seq=int(row["seq"]),
        )
        for row in rows
    ]


