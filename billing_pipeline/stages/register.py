"""Register: a complete file identified by its sha256, recorded in the store and archived."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from billing_pipeline.ingest.inbox import archive, sha256_of
from billing_pipeline.settings import Settings
from billing_pipeline.store import files as registry


@dataclass(frozen=True)
class Registration:
    file_id: str
    original_name: str
    new: bool


def register_stage(engine: Engine, settings: Settings, path: Path, keep_original: bool = False) -> Registration:
    """Record the file and move it (or, with `keep_original`, copy it) to archive/<sha256>.csv.

    The store row is written before the move: a crash in between leaves the file in the inbox, where the next
    look finds it registered and only archives it, so no file is lost or registered twice.
    """
    file_id = sha256_of(path)
    new = registry.register_file(engine, file_id, path.name, path.stat().st_size)
    archive(path, settings.archive_path(file_id), keep_original=keep_original)
    return Registration(file_id, path.name, new)
