"""The file and chunk registry: what arrived, how it was cut, and where each chunk stands."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd
from sqlalchemy import (
    Engine,
    Integer,
    Row,
    RowMapping,
    Select,
    distinct,
    func,
    insert,
    select,
    text,
    update,
)

from billing_pipeline.ingest.file_rejected import FileRejected
from billing_pipeline.ingest.split import ChunkSpan, FileLayout, LineVerdict
from billing_pipeline.statuses import ChunkStatus, FileStatus, NoticeStatus, ReceivedVia, RejectStage
from billing_pipeline.store.bulk import copy_frame
from billing_pipeline.store.outbox import BOLETO_NOTICE
from billing_pipeline.store.tables import chunks, file_receipts, line_verdicts, rejects, source_files

CHUNK_KEY_PREFIX_LENGTH = 12


def chunk_key(file_id: str, chunk_no: int) -> str:
    return f"{file_id[:CHUNK_KEY_PREFIX_LENGTH]}-{chunk_no:04d}"


@dataclass(frozen=True)
class ChunkRef:
    chunk_key: str
    file_id: str
    span: ChunkSpan
    status: str
    header: list[str]


@dataclass(frozen=True)
class Receipt:
    original_name: str
    received_via: str
    received_at: datetime


@dataclass(frozen=True)
class Arrival:
    new: bool  # False: the same bytes were registered before, under any name
    first: Receipt  # the file's first arrival (this one, when new)


def register_file(engine: Engine, file_id: str, original_name: str, size_bytes: int,
                  received_via: ReceivedVia = ReceivedVia.INBOX, archived: bool = True,
                  object_version: str | None = None) -> Arrival:
    """Record the file's arrival; register it when its bytes are new. Every arrival is kept as a receipt, but for
    known bytes whose first registration was cut short (a crash), which this is being completed:
    - a file that is not `archived` yet (a folder inbox registers, then archives);
    - an inbox object whose `object_version` (key, LastModified, ETag) a receipt already names (a bucket inbox
      archives, registers, then deletes the object: this is that very object, not a new upload of its bytes).
    """
    with engine.begin() as connection:
        known = connection.execute(select(source_files.c.seq).where(source_files.c.file_id == file_id)).first()
        completing = bool(known) and (not archived or (object_version is not None and connection.execute(
            select(file_receipts.c.id).where(file_receipts.c.file_id == file_id,
                                             file_receipts.c.object_version == object_version)).first() is not None))
        if not known:
            connection.execute(
                insert(source_files).values(file_id=file_id, original_name=original_name, size_bytes=size_bytes,
                                            status=FileStatus.REGISTERED, received_via=received_via,
                                            registered_at=func.now())
            )
        if not completing:
            connection.execute(insert(file_receipts).values(file_id=file_id, original_name=original_name,
                                                            received_via=received_via, received_at=func.now(),
                                                            object_version=object_version))
        first = _receipt(connection.execute(_receipts_of(file_id).limit(1)).one())
    return Arrival(not known or completing, first)


def utc(moment: datetime | str) -> datetime:
    """A stored time in UTC. SQLite hands timestamps back naive (or as text), in UTC as CURRENT_TIMESTAMP writes
    them; PostgreSQL in the session's time zone, which a server in Brazil may well have set."""
    moment = moment if isinstance(moment, datetime) else datetime.fromisoformat(moment)
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def file_receipts_of(engine: Engine, file_id: str) -> list[Receipt]:
    """Every arrival of the file's bytes, first one first."""
    with engine.connect() as connection:
        return [_receipt(row) for row in connection.execute(_receipts_of(file_id))]


def _receipts_of(file_id: str) -> Select:
    return (select(file_receipts.c.original_name, file_receipts.c.received_via, file_receipts.c.received_at)
            .where(file_receipts.c.file_id == file_id).order_by(file_receipts.c.id))


def _receipt(row: Row) -> Receipt:
    return Receipt(row.original_name, row.received_via, utc(row.received_at))


def get_file(engine: Engine, file_id: str) -> RowMapping | None:
    with engine.connect() as connection:
        return connection.execute(select(source_files).where(source_files.c.file_id == file_id)).mappings().first()


def inbox_files_after(engine: Engine, seq: int) -> list[RowMapping]:
    """Files received through the inbox since `seq`: the daemon's to process (`billing process` runs its own)."""
    query = (select(source_files).where(source_files.c.seq > seq, source_files.c.received_via == ReceivedVia.INBOX)
             .order_by(source_files.c.seq))
    with engine.connect() as connection:
        return list(connection.execute(query).mappings())


def record_file_rejected(engine: Engine, file_id: str, rejection: FileRejected, rows: int) -> None:
    """The file is rejected as a whole: its `rows` are all rejected with it, none is stored."""
    code, message, line_number = rejection.code, rejection.message, rejection.line_number
    with engine.begin() as connection:
        connection.execute(rejects.delete().where(rejects.c.file_id == file_id, rejects.c.stage == RejectStage.FILE))
        connection.execute(
            insert(rejects).values(file_id=file_id, stage=RejectStage.FILE, line_number=line_number or 0, column_name="",
                                   code=code, message=message, raw_line="", created_at=func.now())
        )
        connection.execute(
            update(source_files)
            .where(source_files.c.file_id == file_id)
            .values(status=FileStatus.REJECTED, error_code=code, error_message=message, rows=rows, chunk_count=0,
                    accepted=0, rejected=rows, duplicates=0, processed_at=func.now())
        )


def record_split(engine: Engine, file_id: str, layout: FileLayout) -> list[str]:
    """Store the chunk spans and file-wide verdicts; idempotent (a re-run of the split changes nothing)."""
    keys = [chunk_key(file_id, span.chunk_no) for span in layout.chunks]
    with engine.begin() as connection:
        existing = set(connection.execute(select(chunks.c.chunk_key).where(chunks.c.file_id == file_id)).scalars())
        new_chunks = pd.DataFrame(
            [
                {"chunk_key": key, "file_id": file_id, "chunk_no": s.chunk_no, "byte_start": s.byte_start,
                 "byte_end": s.byte_end, "start_line": s.start_line, "first_line": s.first_line,
                 "last_line": s.last_line, "rows": s.rows, "status": ChunkStatus.PENDING}
                for key, s in zip(keys, layout.chunks, strict=True)
                if key not in existing
            ]
        )
        copy_frame(connection, "chunks", new_chunks)
        connection.execute(line_verdicts.delete().where(line_verdicts.c.file_id == file_id))
        copy_frame(
            connection,
            "line_verdicts",
            pd.DataFrame(
                [(file_id, v.line_number, v.verdict, v.debt_id, v.first_line) for v in layout.verdicts],
                columns=["file_id", "line_number", "verdict", "debt_id", "first_line"],
            ),
        )
        connection.execute(
            update(source_files)
            .where(source_files.c.file_id == file_id, source_files.c.status.in_((FileStatus.REGISTERED, FileStatus.SPLIT)))
            .values(status=FileStatus.SPLIT, header=",".join(layout.columns), data_offset=layout.data_offset,
                    rows=layout.data_rows, chunk_count=len(layout.chunks), split_at=func.now())
        )
    return keys


def inbox_chunks_after(engine: Engine, seq: int) -> list[RowMapping]:
    """Chunks cut since `seq` from files received through the inbox, with their file's name."""
    query = (select(chunks.c.seq, chunks.c.chunk_key, chunks.c.file_id, source_files.c.original_name)
             .join(source_files, source_files.c.file_id == chunks.c.file_id)
             .where(chunks.c.seq > seq, source_files.c.received_via == ReceivedVia.INBOX))
    with engine.connect() as connection:
        return list(connection.execute(query.order_by(chunks.c.seq)).mappings())


def files_of_chunks(engine: Engine, chunk_keys: list[str]) -> dict[str, RowMapping]:
    """Each chunk's file (file_id, original_name), by chunk key."""
    if not chunk_keys:
        return {}
    query = (select(chunks.c.chunk_key, source_files.c.file_id, source_files.c.original_name)
             .join(source_files, source_files.c.file_id == chunks.c.file_id)
             .where(chunks.c.chunk_key.in_(sorted(set(chunk_keys)))))
    with engine.connect() as connection:
        return {row["chunk_key"]: row for row in connection.execute(query).mappings()}


@dataclass(frozen=True)
class ChunkPlace:
    """Where a chunk sits in its file, for a person reading the chunk's asset: which file, which part of it."""

    chunk_key: str
    file_id: str
    original_name: str
    chunk_no: int
    chunk_count: int
    first_line: int
    last_line: int


def chunk_place(engine: Engine, key: str) -> ChunkPlace:
    query = (select(chunks.c.chunk_no, chunks.c.first_line, chunks.c.last_line, source_files.c.file_id,
                    source_files.c.original_name, source_files.c.chunk_count)
             .join(source_files, source_files.c.file_id == chunks.c.file_id).where(chunks.c.chunk_key == key))
    with engine.connect() as connection:
        row = connection.execute(query).mappings().first()
    if row is None:
        raise LookupError(f"unknown chunk {key!r}: was its file split into this store?")
    return ChunkPlace(key, row["file_id"].strip(), row["original_name"], row["chunk_no"], row["chunk_count"] or 0,
                      row["first_line"], row["last_line"])


def get_chunk(engine: Engine, key: str) -> ChunkRef:
    query = select(chunks, source_files.c.header).join(source_files, source_files.c.file_id == chunks.c.file_id)
    with engine.connect() as connection:
        row = connection.execute(query.where(chunks.c.chunk_key == key)).mappings().first()
    if row is None:
        raise LookupError(f"unknown chunk {key!r}: was its file split into this store?")
    span = ChunkSpan(row["chunk_no"], row["byte_start"], row["byte_end"], row["start_line"], row["first_line"],
                     row["last_line"], row["rows"])
    return ChunkRef(key, row["file_id"].strip(), span, row["status"], row["header"].split(","))


def chunk_verdicts(engine: Engine, ref: ChunkRef) -> list[LineVerdict]:
    query = select(line_verdicts).where(
        line_verdicts.c.file_id == ref.file_id,
        line_verdicts.c.line_number.between(ref.span.first_line, ref.span.last_line),
    )
    with engine.connect() as connection:
        return [
            LineVerdict(r["line_number"], r["verdict"], r["debt_id"], r["first_line"])
            for r in connection.execute(query).mappings()
        ]


def file_chunks(engine: Engine, file_id: str) -> list[RowMapping]:
    query = select(chunks).where(chunks.c.file_id == file_id).order_by(chunks.c.chunk_no)
    with engine.connect() as connection:
        return list(connection.execute(query).mappings())


def finalise_file(engine: Engine, file_id: str) -> bool:
    """Roll the chunk counts up into the file once every chunk is loaded; True when the file is complete."""
    with engine.begin() as connection:
        totals = connection.execute(
            select(
                func.count().label("chunks"),
                func.sum((chunks.c.status != ChunkStatus.LOADED).cast(Integer)).label("unfinished"),
                func.coalesce(func.sum(chunks.c.accepted), 0).label("accepted"),
                func.coalesce(func.sum(chunks.c.rejected), 0).label("rejected"),
                func.coalesce(func.sum(chunks.c.duplicates), 0).label("duplicates"),
            ).where(chunks.c.file_id == file_id)
        ).mappings().one()
        if totals["unfinished"]:
            return False
        connection.execute(
            update(source_files)
            .where(source_files.c.file_id == file_id, source_files.c.status != FileStatus.REJECTED)
            .values(status=FileStatus.PROCESSED, accepted=totals["accepted"], rejected=totals["rejected"],
                    duplicates=totals["duplicates"], processed_at=func.now())
        )
        return True


# A file is finished when it was rejected, or processed with every chunk stored (a chunk re-run from the UI is
# back to 'validated' until its debts are) and every stored debt's notice settled (sent, failed or suppressed).
# Notices are first notices (a literal kind, which the partial index outbox_chunk_status holds): a reminder
# waiting for the quiet hours' end is not the file's delivery.
# Counted through the file's chunks, whose keys index outbox (debts.file_id has no index). The cheap tests come
# first: a pending notice, or a chunk with debts and no notice yet (its delivery has not started), ends the
# evaluation before the count over all the file's notices.
_FINISHED = (
    f"(source_files.status = '{FileStatus.REJECTED}' OR (source_files.status = '{FileStatus.PROCESSED}'"
    f" AND NOT EXISTS (SELECT 1 FROM chunks c WHERE c.file_id = source_files.file_id AND c.status <> '{ChunkStatus.LOADED}')"
    " AND NOT EXISTS (SELECT 1 FROM outbox o JOIN chunks c ON c.chunk_key = o.chunk_key"
    f"                 WHERE c.file_id = source_files.file_id AND o.status = '{NoticeStatus.PENDING}'"
    f"                 AND o.notice_kind = '{BOLETO_NOTICE}')"
    " AND NOT EXISTS (SELECT 1 FROM chunks c WHERE c.file_id = source_files.file_id AND c.accepted > 0"
    f"                 AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.chunk_key = c.chunk_key"
    f"                                 AND o.notice_kind = '{BOLETO_NOTICE}'))"
    " AND source_files.accepted = (SELECT COUNT(*) FROM outbox o JOIN chunks c ON c.chunk_key = o.chunk_key"
    "                              WHERE c.file_id = source_files.file_id AND o.notice_kind = :kind)))"
)


def finished_inbox_files(engine: Engine) -> list[str]:
    """Finished inbox files without a final report yet: a tick of the report sensor costs the files in flight only.
    `billing process` writes the reports of its own files."""
    query = text("SELECT file_id FROM source_files WHERE reported_at IS NULL"
                 f" AND received_via = '{ReceivedVia.INBOX}' AND {_FINISHED} ORDER BY seq")
    with engine.connect() as connection:
        return [str(file_id).strip() for file_id in connection.execute(query, {"kind": BOLETO_NOTICE}).scalars()]


def inbox_files_in_progress(engine: Engine) -> int:
    """Inbox files whose boletos are not all numbered yet: being split or loaded, or loaded with a chunk whose
    boletos step has not run. Reported files are past that, so only the files in flight are looked into."""
    query = text(
        "SELECT COUNT(*) FROM source_files s WHERE s.received_via = :inbox AND s.reported_at IS NULL"
        f" AND (s.status IN ('{FileStatus.REGISTERED}', '{FileStatus.SPLIT}')"
        f"      OR (s.status = '{FileStatus.PROCESSED}' AND EXISTS ("
        "          SELECT 1 FROM chunks c WHERE c.file_id = s.file_id AND c.accepted > 0"
        "          AND NOT EXISTS (SELECT 1 FROM boletos b WHERE b.chunk_key = c.chunk_key))))")
    with engine.connect() as connection:
        return int(connection.execute(query, {"inbox": ReceivedVia.INBOX}).scalar_one())


def retornos_processed_after(engine: Engine, since: str) -> list[tuple[str, str]]:
    """Retornos imported at `since` (the store's own text of a time, "" for all) or later, oldest first:
    (file_id, processed_at as that text)."""
    query = text("SELECT file_id, CAST(processed_at AS TEXT) FROM retorno_files WHERE processed_at IS NOT NULL"
                 " AND CAST(processed_at AS TEXT) >= :since ORDER BY processed_at")
    with engine.connect() as connection:
        return [(str(file_id).strip(), str(at)) for file_id, at in connection.execute(query, {"since": since})]


def files_answered_by(engine: Engine, retorno_id: str) -> list[str]:
    """The reported files with a boleto one retorno answered: their reports' collection figures have moved."""
    query = text(
        "SELECT DISTINCT s.file_id FROM source_files s WHERE s.reported_at IS NOT NULL AND EXISTS ("
        " SELECT 1 FROM chunks c JOIN boletos b ON b.chunk_key = c.chunk_key"
        " JOIN boleto_events e ON e.debt_id = b.debt_id"
        " WHERE c.file_id = s.file_id AND e.source = :retorno) ORDER BY s.file_id")
    with engine.connect() as connection:
        return [str(file_id).strip() for file_id in connection.execute(query, {"retorno": retorno_id}).scalars()]


def is_finished(engine: Engine, file_id: str) -> bool:
    query = text(f"SELECT 1 FROM source_files WHERE file_id = :file_id AND {_FINISHED}")
    with engine.connect() as connection:
        return connection.execute(query, {"file_id": file_id, "kind": BOLETO_NOTICE}).first() is not None


def mark_reported(engine: Engine, file_id: str) -> None:
    """Records when the file's final report was first written (the caller saw the file finished before building
    it). A report re-run later keeps that time: the file's processing time, which /metrics counts, does not move."""
    with engine.begin() as connection:
        connection.execute(update(source_files).where(source_files.c.file_id == file_id)
                           .values(reported_at=func.coalesce(source_files.c.reported_at, func.now())))


def stored_chunks_of_reported_files(engine: Engine, chunk_keys: list[str]) -> list[str]:
    """Of these chunks, those whose debts are stored and whose file's final report is written: nothing reads
    their validated frames any more. A chunk being re-run is 'validated', not 'loaded', until its debts are."""
    if not chunk_keys:
        return []
    query = (
        select(chunks.c.chunk_key)
        .join(source_files, source_files.c.file_id == chunks.c.file_id)
        .where(chunks.c.chunk_key.in_(chunk_keys), chunks.c.status == ChunkStatus.LOADED, source_files.c.reported_at.is_not(None))
    )
    with engine.connect() as connection:
        return list(connection.execute(query).scalars())


def reject_codes(engine: Engine, file_id: str, rejected_as: str | None = None, rows: int | None = None) -> dict[str, int]:
    """A file's rejected lines by code. Every row of a file rejected whole (`rejected_as` its code) is rejected
    under that code."""
    if rejected_as:
        return {rejected_as: rows or 0}
    query = (select(rejects.c.code, func.count(distinct(rejects.c.line_number)))
             .where(rejects.c.file_id == file_id).group_by(rejects.c.code).order_by(rejects.c.code))
    with engine.connect() as connection:
        return {code: int(count) for code, count in connection.execute(query)}


def file_rejects(engine: Engine, file_id: str) -> pd.DataFrame:
    query = (
        select(rejects.c.line_number, rejects.c.column_name.label("column"), rejects.c.code, rejects.c.message,
               rejects.c.raw_line)
        .where(rejects.c.file_id == file_id)
        .order_by(rejects.c.line_number, rejects.c.column_name, rejects.c.code)
    )
    with engine.connect() as connection:
        return pd.DataFrame(connection.execute(query).all(), columns=["line_number", "column", "code", "message",
                                                                       "raw_line"])
