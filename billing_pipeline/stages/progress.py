"""Where files and chunks stand: what the sensors, the runner and the assets' metadata and checks read."""

from __future__ import annotations

import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import Engine

from billing_pipeline.ingest import inbox
from billing_pipeline.ingest.inbox import InboxEntry
from billing_pipeline.pdf.documents import count_pdfs
from billing_pipeline.settings import Settings
from billing_pipeline.statuses import ChunkStatus
from billing_pipeline.storage.location import AnyPath

# The registry's and the outbox's reads, offered here as they are: what files and chunks are new, finished or
# undelivered.
from billing_pipeline.store.boletos import file_boleto_count as file_boleto_count
from billing_pipeline.store.chunk_results import stored_debt_ids
from billing_pipeline.store.chunk_state import chunk_row
from billing_pipeline.store.file_progress import file_chunk_progress
from billing_pipeline.store.files import ChunkPlace as ChunkPlace
from billing_pipeline.store.files import Receipt as Receipt
from billing_pipeline.store.files import chunk_place as chunk_place
from billing_pipeline.store.files import file_chunks as file_chunks
from billing_pipeline.store.files import file_receipts_of as file_receipts_of
from billing_pipeline.store.files import files_answered_by as files_answered_by
from billing_pipeline.store.files import files_of_chunks as files_of_chunks
from billing_pipeline.store.files import finished_inbox_files as finished_inbox_files
from billing_pipeline.store.files import get_file
from billing_pipeline.store.files import inbox_chunks_after as inbox_chunks_after
from billing_pipeline.store.files import inbox_files_after as inbox_files_after
from billing_pipeline.store.files import inbox_files_in_progress as inbox_files_in_progress
from billing_pipeline.store.files import is_finished as is_finished
from billing_pipeline.store.files import retornos_processed_after as retornos_processed_after
from billing_pipeline.store.outbox import Undelivered as Undelivered
from billing_pipeline.store.outbox import undelivered as undelivered

file_record = get_file  # a file's registry row, or None when the bytes were never registered


@dataclass(frozen=True)
class InboxLook:
    ready: list[InboxEntry]  # complete files, to register
    waiting: dict[str, list[int]]  # the others, by name: the (size, mtime) seen, to compare with at the next look


def look_at_inbox(settings: Settings, previous_looks: dict[str, list[int]], now_ns: int) -> InboxLook:
    """Which inbox CSV files are complete: the same size and mtime as at the previous look, or an mtime older than
    BILLING_INBOX_POLL_SECONDS. Retornos are left to `look_for_retornos`."""
    entries = inbox.scan(settings.inbox_dir)
    ready = inbox.stable(entries, previous_looks, now_ns, settings.inbox_poll_seconds)
    # A bank's retorno dropped here is the retorno sensor's (stages/bank_inbox.py), not a CSV to reject.
    retornos = [entry for entry in ready if inbox.is_retorno(entry)]
    return InboxLook([entry for entry in ready if entry not in retornos],
                     {entry.path.name: entry.look for entry in entries if entry not in ready})


def pdfs_written(settings: Settings, chunk_keys: Iterable[str]) -> int:
    return count_pdfs(settings.boleto_archive_path(key) for key in chunk_keys)


@dataclass(frozen=True)
class ChunkNumbers:
    chunk_key: str
    rows: int
    accepted: int
    rejected: int
    duplicates: int
    stored_rows: int  # debts rows the store holds for the chunk
    stored_debt_ids: int  # distinct debt ids among them

    @property
    def reject_rate(self) -> float:
        return self.rejected / self.rows if self.rows else 0.0


def chunk_numbers(engine: Engine, chunk_key: str) -> ChunkNumbers:
    row = chunk_row(engine, chunk_key)
    stored, distinct = stored_debt_ids(engine, chunk_key)
    return ChunkNumbers(chunk_key, row["rows"], row["accepted"], row["rejected"], row["duplicates"], stored, distinct)


@dataclass(frozen=True)
class StageCount:
    name: str
    done: int
    total: int


@dataclass(frozen=True)
class FileProgress:
    """Where one file stands, stage by stage: what `billing process` shows while the file's steps run."""

    file_id: str
    rows: int | None  # None until the file is cut into chunks, and for a file rejected whole
    validated: int  # rows of the chunks validated
    left_out: int  # rejected and duplicate rows among them: they become no debt
    stored: int  # debts
    boletos: int
    pdfs: int
    notices: int  # sent, failed or suppressed: no longer pending

    @property
    def stages(self) -> tuple[StageCount, ...]:
        """Each stage's count against what it ends at: the file's rows for validation, its debts for the others
        (the rows less those left out, known chunk by chunk as they are validated). Nothing before the split.

        >>> FileProgress("4ef0", rows=100, validated=50, left_out=2, stored=48, boletos=48, pdfs=0,
        ...              notices=0).stages[1]
        StageCount(name='Debts stored', done=48, total=98)
        """
        if self.rows is None:
            return ()
        debts = self.rows - self.left_out
        return (
            StageCount("Rows validated", self.validated, self.rows),
            StageCount("Debts stored", self.stored, debts),
            StageCount("Boletos", self.boletos, debts),
            StageCount("PDFs", self.pdfs, debts),
            StageCount("Notices", self.notices, debts),
        )


def file_progress(engine: Engine, settings: Settings, file_id: str) -> FileProgress:
    """Cheap enough to read every half second during a run (store.file_progress says how); a chunk's archive is
    opened once per version of it, not at every look."""
    found = file_chunk_progress(engine, file_id)
    validated = [chunk for chunk in found.chunks if chunk.status != ChunkStatus.PENDING]
    return FileProgress(
        file_id=file_id,
        rows=found.rows if found.chunks else None,  # the split writes the rows and the chunks at once
        validated=sum(chunk.rows for chunk in validated),
        left_out=sum(chunk.left_out for chunk in validated),
        stored=sum(chunk.accepted or 0 for chunk in found.chunks if chunk.status == ChunkStatus.LOADED),
        boletos=sum(chunk.accepted or 0 for chunk in found.chunks if chunk.has_boletos),
        pdfs=sum(_archived_pdfs(settings, chunk.chunk_key) for chunk in found.chunks),
        notices=sum(max((chunk.accepted or 0) - chunk.pending_notices, 0)
                    for chunk in found.chunks if chunk.has_notices),
    )


def _archived_pdfs(settings: Settings, chunk_key: str) -> int:
    archive = settings.boleto_archive_path(chunk_key)
    try:
        version = archive.stat()
    except FileNotFoundError:
        return 0
    return _pdfs_in_version(archive, version.st_mtime_ns, version.st_size)


@lru_cache(maxsize=1024)
def _pdfs_in_version(archive: AnyPath, _mtime_ns: int, _size: int) -> int:
    """An archive is replaced whole (a new mtime and size), never changed in place: its count can be kept. One
    broken by hand holds nothing the pdf stage will keep."""
    try:
        return count_pdfs([archive])
    except zipfile.BadZipFile:
        return 0
