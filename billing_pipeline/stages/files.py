"""The files in the store as an operator or a client asks for them (the CLI, later the API): the listing, one file
in detail with the files it wrote, and a file id (or a unique prefix of it) resolved."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from upath import UPath

from billing_pipeline.settings import Settings

# The listing's reads, offered here as they are.
from billing_pipeline.store.file_listing import MIN_PREFIX_LENGTH as MIN_PREFIX_LENGTH
from billing_pipeline.store.file_listing import ChunkState as ChunkState
from billing_pipeline.store.file_listing import FileDetail as FileDetail
from billing_pipeline.store.file_listing import FileIdError as FileIdError
from billing_pipeline.store.file_listing import FileSummary as FileSummary
from billing_pipeline.store.file_listing import file_detail
from billing_pipeline.store.file_listing import list_files as list_files
from billing_pipeline.store.file_listing import resolve_file_id as resolve_file_id


@dataclass(frozen=True)
class WrittenFile:
    path: Path | UPath
    written: bool  # False: not written yet (or, for a file rejected whole, never)


@dataclass(frozen=True)
class FileView:
    """One file in detail, and the files the pipeline writes for it."""

    detail: FileDetail
    rejects: WrittenFile  # the rejected rows, CSV
    report: WrittenFile  # the file report, JSON
    archive: WrittenFile  # the copy of the bytes the chunks are read from


def file_view(engine: Engine, settings: Settings, file_id_or_prefix: str) -> FileView:
    """One file, named by its sha256 or a unique prefix of it. Raises FileIdError."""
    file_id = resolve_file_id(engine, file_id_or_prefix)
    detail = file_detail(engine, file_id)
    if detail is None:  # removed between the two reads; the store never removes a file, but say so if it did
        raise FileIdError(f"no file with id {file_id_or_prefix!r} in the store", "unknown")
    return FileView(detail, _written(settings.rejects_path(file_id)), _written(settings.report_path(file_id)),
                    _written(settings.archive_path(file_id)))


def _written(path: Path | UPath) -> WrittenFile:
    return WrittenFile(path, path.is_file())


def plain_data(value: Any) -> Any:
    """A FileSummary, FileView (or a list of them) as JSON-ready data: dicts, lists, text and numbers, times in ISO
    8601."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: plain_data(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(key): plain_data(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain_data(item) for item in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Path | UPath):
        return str(value)
    return value
