"""Register: a complete file identified by its sha256, recorded in the store and archived."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from billing_pipeline.ingest.inbox import archive, sha256_of, submit
from billing_pipeline.settings import Settings
from billing_pipeline.statuses import ReceivedVia
from billing_pipeline.store import files as registry
from billing_pipeline.store.files import Receipt


@dataclass(frozen=True)
class Registration:
    file_id: str
    original_name: str  # the name it came in under this time
    new: bool  # False: the same bytes were received before, as `first`
    first: Receipt

    def already_received(self) -> str:
        return already_received(self.file_id, self.first)


def already_received(file_id: str, first: Receipt) -> str:
    """What a re-drop of known bytes is told, wherever it came in."""
    return f"already received as {first.original_name} on {first.received_at:%Y-%m-%d %H:%M:%S} UTC (file {file_id})"


@dataclass(frozen=True)
class Submission:
    target: Path | None  # where the copy landed in the inbox; None when its bytes were received before
    already_received: str | None = None


def submit_stage(engine: Engine, settings: Settings, source: Path) -> Submission:
    """Copy a file into the inbox so that the sensor never sees it half-written; bytes received before are not
    copied (nothing new would happen to them), only recorded as received again."""
    if not source.is_file():
        raise FileNotFoundError(f"{source} is not a file")
    file_id = sha256_of(source)
    if registry.get_file(engine, file_id) is None:
        return Submission(submit(source, settings.inbox_dir))
    arrival = registry.register_file(engine, file_id, source.name, source.stat().st_size)
    return Submission(None, already_received(file_id, arrival.first))


def register_stage(engine: Engine, settings: Settings, path: Path, keep_original: bool = False,
                   received_via: ReceivedVia = ReceivedVia.INBOX) -> Registration:
    """Record the file and move it (or, with `keep_original`, copy it) to archive/<sha256>.csv.

    The store row is written before the move: a crash in between leaves the file in the inbox, where the next
    look finds it registered and only archives it, so no file is lost or registered twice.
    """
    file_id = sha256_of(path)
    arrival = registry.register_file(engine, file_id, path.name, path.stat().st_size, received_via)
    archive(path, settings.archive_path(file_id), keep_original=keep_original)
    return Registration(file_id, path.name, arrival.new, arrival.first)
