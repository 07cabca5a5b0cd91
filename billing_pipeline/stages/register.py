"""Register: a complete file identified by its sha256, recorded in the store and archived; and what a second
arrival of the same bytes is told."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, RowMapping
from upath import UPath

from billing_pipeline.charge_terms import ChargePolicy
from billing_pipeline.ingest.inbox import (
    InboxEntry,
    archive,
    copy_to_archive,
    remove_from_inbox,
    sha256_of,
    submit,
)
from billing_pipeline.ingest.upload import forget_note, original_name_of
from billing_pipeline.settings import Settings
from billing_pipeline.statuses import ReceivedVia
from billing_pipeline.storage.objects import exists
from billing_pipeline.store import files as registry
from billing_pipeline.store.boletos import record_charge_policy
from billing_pipeline.store.files import Receipt


@dataclass(frozen=True)
class Redrop:
    """Where known bytes stand when they come in again, and so what their sender is told."""

    file: RowMapping  # the file's registry row
    finished: bool  # nothing new will happen to them
    left_by_process: bool  # an earlier `billing process` stopped before the end: giving them to it again goes on
    verdict: str  # what to tell the sender, after "already received as ..."


def redrop_of(engine: Engine, file_id: str) -> Redrop:
    row = registry.get_file(engine, file_id)
    if row is None:
        raise LookupError(f"file {file_id} is not registered in the store")
    via_process = row["received_via"] == ReceivedVia.PROCESS
    # A file of `billing process` is done once its report is written (the daemon's sensor writes an inbox file's).
    if registry.is_finished(engine, file_id) and (not via_process or row["reported_at"] is not None):
        return Redrop(row, True, False, "nothing new to do")
    if via_process:
        return Redrop(row, False, True, "`billing process` left it unfinished: run `billing process` on it again "
                      "to finish it")
    return Redrop(row, False, False, f"it came through the inbox and the daemon's runs are processing it (status "
                  f"{row['status']}); nothing new to do here")


@dataclass(frozen=True)
class Registration:
    file_id: str
    original_name: str  # the name it came in under this time
    new: bool  # False: the same bytes were received before, as `first`
    first: Receipt

    def already_received(self) -> str:
        return already_received(self.file_id, self.first)


def already_received(file_id: str, first: Receipt) -> str:
    """What a re-drop of known bytes is told first, wherever it came in."""
    return f"already received as {first.original_name} on {first.received_at:%Y-%m-%d %H:%M:%S} UTC (file {file_id})"


def register_stage(engine: Engine, settings: Settings, source: Path | InboxEntry, keep_original: bool = False,
                   received_via: ReceivedVia = ReceivedVia.INBOX) -> Registration:
    """Record the file and move it (or, with `keep_original`, copy it) to archive/<sha256>.csv.

    A file: the store row is written before the move. A crash in between leaves the file in the inbox, where the
    next look finds it registered but not archived, and only archives it. That is the first arrival being
    completed, not a re-drop, so no file is lost, registered twice or reported as received again.

    An inbox object: a server-side copy to the archive of exactly the bytes hashed, then the store row, then the
    inbox object's delete. An object deleted (or replaced) while it is hashed fails the copy with
    FileNotFoundError and nothing is recorded; a crash after the copy leaves the object to be registered at the next
    look; one after the row leaves it to be deleted, as the same arrival (store.files.register_file says how).
    """
    if isinstance(source, InboxEntry) and source.complete:
        return _register_object(engine, settings, source)
    path = source.path if isinstance(source, InboxEntry) else source
    file_id = sha256_of(path)
    destination = settings.archive_path(file_id)
    name = _original_name(source)
    arrival = registry.register_file(engine, file_id, name, path.stat().st_size, received_via,
                                     archived=exists(destination))
    _snapshot_policy(engine, settings, file_id, arrival.new)
    archive(path, destination, keep_original=keep_original)
    if isinstance(source, InboxEntry):
        forget_note(path)
    return Registration(file_id, name, arrival.new, arrival.first)


def _register_object(engine: Engine, settings: Settings, entry: InboxEntry) -> Registration:
    file_id = sha256_of(entry.path)
    copy_to_archive(entry, settings.archive_path(file_id))
    name = _original_name(entry)
    arrival = registry.register_file(engine, file_id, name, entry.size, ReceivedVia.INBOX,
                                     object_version=entry.version)
    _snapshot_policy(engine, settings, file_id, arrival.new)
    if remove_from_inbox(entry):
        forget_note(entry.path)
    return Registration(file_id, name, arrival.new, arrival.first)


def _snapshot_policy(engine: Engine, settings: Settings, file_id: str, new: bool) -> None:
    """The charge policy the file's boletos carry, taken now: before the file is archived or its inbox object
    deleted, so that a crash in between completes the registration, snapshot included, at the next look."""
    if new:
        record_charge_policy(engine, file_id, ChargePolicy.from_settings(settings))


def _original_name(source: Path | InboxEntry) -> str:
    """The name a file is known by: an upload's client file name (the API names the inbox file by its sha256),
    else the name it was dropped under."""
    if isinstance(source, InboxEntry):
        return original_name_of(source.path) or source.path.name
    return source.name


@dataclass(frozen=True)
class Submission:
    target: UPath | None  # where the copy landed in the inbox; None when its bytes were received before
    already_received: str | None = None  # what the sender is told then


def submit_stage(engine: Engine, settings: Settings, source: Path) -> Submission:
    """Copy a file into the inbox so that the sensor never sees it half-written. Known bytes are not copied (the
    sensor would only remove them again, and a file of `billing process` is not the daemon's to finish): their
    arrival is recorded, and the sender told where they stand."""
    if not source.is_file():
        raise FileNotFoundError(f"{source} is not a file")
    file_id = sha256_of(source)
    if registry.get_file(engine, file_id) is None:
        return Submission(submit(source, settings.inbox_dir))
    arrival = registry.register_file(engine, file_id, source.name, source.stat().st_size)
    return Submission(None, f"{already_received(file_id, arrival.first)}; {redrop_of(engine, file_id).verdict}")
