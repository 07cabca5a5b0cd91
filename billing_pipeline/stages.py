"""The pipeline's stages as plain functions over the store and the data folders.

Dagster assets call these (and nothing else does the work), so the same code runs under the daemon, under
`billing process` and in tests. Every stage is idempotent: running it again replaces what it wrote.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine

from billing_pipeline.ingest.file_rejected import FileRejected
from billing_pipeline.ingest.inbox import archive, sha256_of
from billing_pipeline.ingest.records import read_chunk
from billing_pipeline.ingest.split import split_file
from billing_pipeline.pdf.documents import archived_documents, render_pdfs, write_archive
from billing_pipeline.settings import Settings
from billing_pipeline.store import files as registry
from billing_pipeline.store.boletos import BoletoOutcome, boleto_rows, create_boletos
from billing_pipeline.store.chunk_results import LoadOutcome, load_debts, record_validation
from billing_pipeline.validation.rejects import write_rejects_csv
from billing_pipeline.validation.validate import ChunkValidation, validate_chunk


@dataclass(frozen=True)
class SplitOutcome:
    file_id: str
    chunk_keys: list[str]
    rows: int | None
    rejected: FileRejected | None = None


def archived_path(settings: Settings, file_id: str) -> Path:
    return settings.archive_dir / f"{file_id}.csv"


def split_stage(engine: Engine, settings: Settings, file_id: str) -> SplitOutcome:
    if registry.get_file(engine, file_id) is None:
        raise LookupError(f"file {file_id} is not registered in the store")
    try:
        layout = split_file(archived_path(settings, file_id), settings.chunk_rows)
    except FileRejected as rejection:
        registry.record_file_rejected(engine, file_id, rejection.code, rejection.message, rejection.line_number)
        write_file_rejects(engine, settings, file_id)
        return SplitOutcome(file_id, [], None, rejection)
    keys = registry.record_split(engine, file_id, layout)
    if not keys:  # a header-only file is complete as soon as it is split
        finish_file(engine, settings, file_id)
    return SplitOutcome(file_id, keys, layout.data_rows)


def validate_stage(engine: Engine, settings: Settings, chunk_key: str) -> ChunkValidation:
    ref = registry.get_chunk(engine, chunk_key)
    records = read_chunk(archived_path(settings, ref.file_id), ref.span, ref.header)
    validation = validate_chunk(records, registry.chunk_verdicts(engine, ref), settings.government_id_policy)
    record_validation(engine, ref, validation)
    return validation


def load_stage(engine: Engine, settings: Settings, chunk_key: str, accepted: pd.DataFrame) -> LoadOutcome:
    ref = registry.get_chunk(engine, chunk_key)
    outcome = load_debts(engine, ref, accepted)
    finish_file(engine, settings, ref.file_id)
    return outcome


def finish_file(engine: Engine, settings: Settings, file_id: str) -> bool:
    """When the last chunk is loaded: roll up the counts and write data/rejects/<file_id>.csv."""
    if not registry.finalise_file(engine, file_id):
        return False
    write_file_rejects(engine, settings, file_id)
    return True


def write_file_rejects(engine: Engine, settings: Settings, file_id: str) -> None:
    write_rejects_csv(registry.file_rejects(engine, file_id), settings.rejects_dir / f"{file_id}.csv")


@dataclass(frozen=True)
class Registration:
    file_id: str
    original_name: str
    new: bool


def register_stage(engine: Engine, settings: Settings, path: Path) -> Registration:
    """Identify a complete inbox file by its sha256, record it and move it to archive/<sha256>.csv.

    The store row is written before the move: a crash in between leaves the file in the inbox, where the next
    look finds it registered and only archives it, so no file is lost or registered twice.
    """
    file_id = sha256_of(path)
    new = registry.register_file(engine, file_id, path.name, path.stat().st_size)
    archive(path, settings.archive_dir, file_id)
    return Registration(file_id, path.name, new)


def boleto_stage(engine: Engine, settings: Settings, chunk_key: str, today: date | None = None) -> BoletoOutcome:
    """Number and store a boleto for every loaded debt of the chunk that has none yet."""
    return create_boletos(engine, chunk_key, settings.account, today or date.today(), settings.min_days_to_due)


@dataclass(frozen=True)
class PdfOutcome:
    archive: Path
    documents: int
    bytes: int
    seconds: float
    first_pdf: bytes | None
    created: bool = True


def pdf_stage(engine: Engine, settings: Settings, chunk_key: str, today: date | None = None) -> PdfOutcome:
    """Write data/boletos/<chunk_key>.zip with one <debt_id>.pdf per boleto of the chunk. An archive that already
    holds exactly the chunk's boletos is kept (boletos never change once issued); otherwise it is replaced whole."""
    rows = boleto_rows(engine, chunk_key=chunk_key)
    archive = settings.boletos_dir / f"{chunk_key}.zip"
    started = time.perf_counter()
    existing = archived_documents(archive)
    if existing is not None and existing.names == {f"{row['debt_id']}.pdf" for row in rows}:
        return PdfOutcome(archive, len(existing.names), existing.bytes, time.perf_counter() - started,
                          existing.first, created=False)
    first: list[bytes] = []

    def documents():
        for debt_id, pdf in render_pdfs(rows, settings.account, settings.is_demo_account, today or date.today()):
            if not first:
                first.append(pdf)
            yield debt_id, pdf

    count, size = write_archive(archive, documents())
    return PdfOutcome(archive, count, size, time.perf_counter() - started, first[0] if first else None)
