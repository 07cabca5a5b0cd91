"""Where files and chunks stand: what the sensors, the runner and the assets' metadata and checks read."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, RowMapping

from billing_pipeline.ingest import inbox
from billing_pipeline.ingest.inbox import InboxEntry
from billing_pipeline.pdf.documents import count_pdfs
from billing_pipeline.settings import Settings
from billing_pipeline.store import files as registry
from billing_pipeline.store.chunk_results import stored_debt_ids
from billing_pipeline.store.chunk_state import chunk_row
from billing_pipeline.store.file_report import file_report

# What a chunk's delivery has left, as the store counts it (the redelivery sensor reads it).
from billing_pipeline.store.outbox import Undelivered as Undelivered
from billing_pipeline.store.outbox import undelivered as undelivered


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


def file_record(engine: Engine, file_id: str) -> RowMapping | None:
    return registry.get_file(engine, file_id)


def files_after(engine: Engine, seq: int) -> list[RowMapping]:
    return registry.files_after(engine, seq)


def chunks_after(engine: Engine, seq: int) -> list[RowMapping]:
    return registry.chunks_after(engine, seq)


def file_chunks(engine: Engine, file_id: str) -> list[RowMapping]:
    return registry.file_chunks(engine, file_id)


def finished_files(engine: Engine) -> list[str]:
    """Files split (or rejected), every chunk loaded and no notice pending, whose final report is not written."""
    return registry.finished_files(engine)


def file_totals(engine: Engine, file_id: str) -> dict:
    """A file's numbers as its report gives them."""
    return file_report(engine, file_id)


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

