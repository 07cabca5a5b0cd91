"""Where files and chunks stand: what the sensors, the runner and the assets' metadata and checks read."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from billing_pipeline.ingest import inbox
from billing_pipeline.ingest.inbox import InboxEntry
from billing_pipeline.pdf.documents import count_pdfs
from billing_pipeline.settings import Settings

# The registry's and the outbox's reads, offered here as they are: what files and chunks are new, finished or
# undelivered.
from billing_pipeline.store.boletos import file_boleto_count as file_boleto_count
from billing_pipeline.store.chunk_results import stored_debt_ids
from billing_pipeline.store.chunk_state import chunk_row
from billing_pipeline.store.files import chunks_after as chunks_after
from billing_pipeline.store.files import file_chunks as file_chunks
from billing_pipeline.store.files import files_after as files_after
from billing_pipeline.store.files import finished_files as finished_files
from billing_pipeline.store.files import get_file
from billing_pipeline.store.outbox import Undelivered as Undelivered
from billing_pipeline.store.outbox import undelivered as undelivered

file_record = get_file  # a file's registry row, or None when the bytes were never registered


@dataclass(frozen=True)
class InboxLook:
    ready: list[InboxEntry]  # complete files, to register
    waiting: dict[str, list[int]]  # the others, by name: the (size, mtime) seen, to compare with at the next look


def look_at_inbox(settings: Settings, previous_looks: dict[str, list[int]], now_ns: int) -> InboxLook:
    """Which inbox files are complete: the same size and mtime as at the previous look, or an mtime older than
    BILLING_INBOX_POLL_SECONDS."""
    entries = inbox.scan(settings.inbox_dir)
    ready = inbox.stable(entries, previous_looks, now_ns, settings.inbox_poll_seconds)
    return InboxLook(ready, {entry.path.name: entry.look for entry in entries if entry not in ready})


def submit_file(settings: Settings, source: Path) -> Path:
    """Copy a file into the inbox so that the sensor never sees it half-written."""
    return inbox.submit(source, settings.inbox_dir)


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

