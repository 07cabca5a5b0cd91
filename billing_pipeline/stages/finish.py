"""A file's end: its counts rolled up once every chunk is loaded, and its rejects report written."""

from __future__ import annotations

from sqlalchemy import Engine

from billing_pipeline.settings import Settings
from billing_pipeline.store import files as registry
from billing_pipeline.validation.rejects_report import write_rejects_csv


def finish_file(engine: Engine, settings: Settings, file_id: str) -> bool:
    """When the last chunk is loaded: roll up the counts and write data/rejects/<file_id>.csv."""
    if not registry.finalise_file(engine, file_id):
        return False
    write_file_rejects(engine, settings, file_id)
    return True


def write_file_rejects(engine: Engine, settings: Settings, file_id: str) -> None:
    write_rejects_csv(registry.file_rejects(engine, file_id), settings.rejects_path(file_id))
