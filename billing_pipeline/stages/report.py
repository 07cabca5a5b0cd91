"""Report: one file's totals written as <BILLING_DATA_DIR>/reports/<file_id>.json; once the file is finished, the
report is marked final and the staged frames of reported files are removed."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import Engine

from billing_pipeline.settings import Settings
from billing_pipeline.storage.atomic import replaced_atomically
from billing_pipeline.storage.location import AnyPath
from billing_pipeline.storage.staged_frames import discard_staged_frames, staged_chunk_keys
from billing_pipeline.store.file_report import file_report
from billing_pipeline.store.files import is_finished, mark_reported, stored_chunks_of_reported_files


@dataclass(frozen=True)
class ReportOutcome:
    report: dict
    path: AnyPath
    final: bool  # the file was finished when the report was built: no later report changes it
    frames_removed: int


def report_stage(engine: Engine, settings: Settings, file_id: str) -> ReportOutcome:
    # Decided before the report is built: a report started while the last notices settle shows them pending,
    # so it must not be recorded as the final one.
    finished = is_finished(engine, file_id)
    report = file_report(engine, file_id)
    path = write_report(report, settings.report_path(file_id))
    frames_removed = 0
    if finished:
        mark_reported(engine, file_id)
        # This file's frames, and any a reported file still has (an operator's re-run of one of its chunks).
        settled = stored_chunks_of_reported_files(engine, staged_chunk_keys(settings.staging_dir))
        frames_removed = discard_staged_frames(settings.staging_dir, settled)
    return ReportOutcome(report, path, finished, frames_removed)


def write_report(report: dict, path: AnyPath) -> AnyPath:
    with replaced_atomically(path) as partial:
        partial.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
