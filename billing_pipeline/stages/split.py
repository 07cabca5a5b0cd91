"""Split: an archived file's header read and its records cut into chunk partitions of BILLING_CHUNK_ROWS."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from billing_pipeline.ingest.file_rejected import FileRejected
from billing_pipeline.ingest.split import count_data_lines, split_file
from billing_pipeline.settings import Settings
from billing_pipeline.stages.finish import finish_file, write_file_rejects
from billing_pipeline.store import files as registry


@dataclass(frozen=True)
class SplitOutcome:
    file_id: str
    original_name: str
    size_bytes: int
    chunk_keys: list[str]
    rows: int  # data rows; for a rejected file, the non-blank lines after its first, all rejected with it
    rejected: FileRejected | None = None


def split_stage(engine: Engine, settings: Settings, file_id: str) -> SplitOutcome:
    registered = registry.get_file(engine, file_id)
    if registered is None:
        raise LookupError(f"file {file_id} is not registered in the store")
    name, size = registered["original_name"], registered["size_bytes"]
    try:
        layout = split_file(settings.archive_path(file_id), settings.chunk_rows)
    except FileRejected as rejection:
        rows = count_data_lines(settings.archive_path(file_id))
        registry.record_file_rejected(engine, file_id, rejection, rows)
        write_file_rejects(engine, settings, file_id)
        return SplitOutcome(file_id, name, size, [], rows, rejection)
    keys = registry.record_split(engine, file_id, layout)
    if not keys:  # a header-only file is complete as soon as it is split
        finish_file(engine, settings, file_id)
    return SplitOutcome(file_id, name, size, keys, layout.data_rows)
