"""Load: a chunk's accepted debts into the store, idempotently; the file is finished with its last chunk."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine

from billing_pipeline.settings import Settings
from billing_pipeline.stages.finish import finish_file
from billing_pipeline.storage.staged_frames import discard_staged_frames
from billing_pipeline.store import files as registry
from billing_pipeline.store.chunk_results import LoadOutcome, load_debts


def load_stage(engine: Engine, settings: Settings, chunk_key: str, accepted: pd.DataFrame) -> LoadOutcome:
    ref = registry.get_chunk(engine, chunk_key)
    outcome = load_debts(engine, ref, accepted)
    finish_file(engine, settings, ref.file_id)
    return outcome


def release_staged_frame(engine: Engine, settings: Settings, chunk_key: str) -> bool:
    """Remove the chunk's validated frame when its debts are stored and its file is already reported: a chunk
    re-run after the report (a re-execution, a backfill) gets no report run to remove it. The caller's last step,
    once nothing of it can fail and be retried any more: a retry would need the frame."""
    return bool(discard_staged_frames(settings.staging_dir,
                                      registry.stored_chunks_of_reported_files(engine, [chunk_key])))
