"""Validate: one chunk's records read from the archive and checked by the debt schema; rejects recorded."""

from __future__ import annotations

from sqlalchemy import Engine

from billing_pipeline.ingest.records import read_chunk
from billing_pipeline.settings import Settings
from billing_pipeline.store import files as registry
from billing_pipeline.store.chunk_results import record_validation
from billing_pipeline.validation.validate import ChunkValidation, validate_chunk


def validate_stage(engine: Engine, settings: Settings, chunk_key: str) -> ChunkValidation:
    ref = registry.get_chunk(engine, chunk_key)
    records = read_chunk(settings.archive_path(ref.file_id), ref.span, ref.header)
    validation = validate_chunk(records, registry.chunk_verdicts(engine, ref), settings.government_id_policy)
    record_validation(engine, ref, validation)
    return validation
