"""Upload: a file received over HTTP put into the inbox, where the inbox sensor takes it as any dropped file; and
where an uploaded file stands, before and after the sensor registered it.

The API writes to the inbox only and reads the store: registering, splitting and the rest stay the daemon's, so a
file uploaded, dropped or submitted goes the same way. Known bytes are not written again: their sender is told
the file they already are.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from upath import UPath

from billing_pipeline.ingest.upload import (
    PartialUpload,
    UploadTooLarge,
    client_file_name,
    presigned_upload,
    published_name,
    remove_stale_parts,
)
from billing_pipeline.settings import Settings
from billing_pipeline.storage.location import is_bucket
from billing_pipeline.storage.objects import exists, presigned_put_url
from billing_pipeline.store import files as registry
from billing_pipeline.store.files import file_receipts_of

from .register import already_received

QUEUED = "queued"  # in the inbox, not registered yet: the sensor takes it at its next look


@dataclass(frozen=True)
class UploadOutcome:
    file_id: str
    new: bool  # False: the same bytes were received (or are waiting in the inbox) already
    status: str  # a FileStatus value, or QUEUED
    size_bytes: int
    original_name: str | None
    already_received: str | None  # what the sender of known bytes is told


def begin_upload(settings: Settings) -> PartialUpload:
    return PartialUpload(settings.inbox_dir, settings.api_max_upload_bytes)


def finish_upload(engine: Engine, settings: Settings, upload: PartialUpload, client_name: str | None) -> UploadOutcome:
    """The received upload published in the inbox, unless the store or the inbox has its bytes already."""
    name = client_file_name(client_name)
    file_id = upload.file_id
    known = registry.get_file(engine, file_id)
    if known is not None:
        upload.discard()
        receipts = file_receipts_of(engine, file_id)
        told = already_received(file_id, receipts[0]) if receipts else f"already received (file {file_id})"
        return UploadOutcome(file_id, False, known["status"], upload.size, known["original_name"], told)
    if upload.publish(name):
        return UploadOutcome(file_id, True, QUEUED, upload.size, name, None)
    return UploadOutcome(file_id, False, QUEUED, upload.size, name,
                         f"the same bytes are already waiting in the inbox (file {file_id})")


def queued_in_inbox(settings: Settings, file_id: str) -> bool:
    """Whether an upload of these bytes waits in the inbox for the sensor."""
    return exists(settings.inbox_dir / published_name(file_id))


@dataclass(frozen=True)
class PresignedUpload:
    url: str
    key: UPath  # where the object will land
    expires_in: int


def presign_upload(settings: Settings, client_name: str | None) -> PresignedUpload:
    """A presigned PUT straight into a bucket inbox, for files too large to pass through the API. Raises
    ValueError when the inbox is a folder."""
    inbox = settings.inbox_dir
    if not is_bucket(inbox):
        raise ValueError(f"the inbox is a folder ({inbox}), not a bucket: upload with POST /files instead")
    target = presigned_upload(inbox, client_file_name(client_name))
    return PresignedUpload(presigned_put_url(target, settings.api_presign_seconds,
                                             settings.api_presign_endpoint_url), target, settings.api_presign_seconds)


def tidy_inbox(settings: Settings) -> int:
    """Parts of uploads an API process left when it died, removed (at the API's start)."""
    return remove_stale_parts(settings.inbox_dir)


__all__ = ["QUEUED", "PartialUpload", "PresignedUpload", "UploadOutcome", "UploadTooLarge", "begin_upload",
           "finish_upload", "presign_upload", "queued_in_inbox", "tidy_inbox"]
