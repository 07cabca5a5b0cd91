"""A file uploaded into the inbox over HTTP: written as a hidden part while it is hashed and counted, then
published under its sha256 (``<inbox>/<sha256>.csv``), or discarded whole.

No path is built from a client's file name: it travels as metadata only, in a hidden note beside the published file
(``<inbox>/.<sha256>.csv.upload.json``) that registration reads for the file's original name. The inbox sensor
skips hidden names and `.part` files, so neither a part being written nor a note is ever taken as a file.

>>> client_file_name("../../etc/passwd")
'passwd'
>>> client_file_name("C:\\\\Users\\\\ana\\\\dívidas dezembro.csv")
'dívidas dezembro.csv'
>>> client_file_name("\\x00\\n") is None
True
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
import unicodedata
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any

from upath import UPath

from billing_pipeline.storage.errors import store_faults
from billing_pipeline.storage.location import AnyPath, is_bucket, local_path
from billing_pipeline.storage.objects import copy_object, exists, read_bytes, remove_object, write_bytes

# What the API names a file it publishes in the inbox: its sha256. It appears whole (a hard link, or a PUT).
PUBLISHED_NAME = re.compile(r"^[0-9a-f]{64}\.csv$")
# Every name the API gives an inbox file: those, and the random names it hands out with presigned URLs (an upload
# straight into a bucket inbox).
UPLOAD_NAME = re.compile(rf"^(?:{PUBLISHED_NAME.pattern[1:-1]}|upload-[0-9a-f]{{32}}\.csv)$")
PART_PREFIX = ".upload-"
PART_SUFFIX = ".part"
# Parts of a multipart upload into a bucket: S3's smallest part is 5 MiB, and a worker holds one part in memory.
BUCKET_PART_BYTES = 8 << 20
MAX_NAME_LENGTH = 255
# A part older than this was left by an API process that died mid-upload; a live upload writes to its part
# continuously, so one untouched for a day is nobody's.
STALE_PART_SECONDS = 24 * 3600
_IOV_MAX = os.sysconf("SC_IOV_MAX") if hasattr(os, "sysconf") else 1024  # pieces one writev takes


class UploadTooLarge(ValueError):
    """The upload passed the configured size limit; what was written of it is discarded."""


def published_name(file_id: str) -> str:
    return f"{file_id}.csv"


def note_path(inbox: AnyPath, name: str) -> AnyPath:
    return inbox / f".{name}.upload.json"


def client_file_name(raw: str | None) -> str | None:
    """The last component of a client's file name, without control characters, at most 255 characters; None when
    nothing printable is left. It is stored and shown, never used as a path."""
    if not raw:
        return None
    name = PurePosixPath(raw.replace("\\", "/")).name
    name = "".join(char for char in name if unicodedata.category(char)[0] != "C").strip()
    return name[:MAX_NAME_LENGTH] or None


class PartialUpload:
    """An upload being received: `write` its blocks, then `publish` it or `discard` it."""

    def __init__(self, inbox: UPath, max_bytes: int):
        self.inbox, self.max_bytes = inbox, max_bytes
        self.size = 0
        self.part = inbox / f"{PART_PREFIX}{uuid.uuid4().hex}{PART_SUFFIX}"
        self._digest = hashlib.sha256()
        self._stream: Any  # a local file, or s3fs's S3File (which can abort its multipart upload)
        if is_bucket(inbox):
            with store_faults(inbox):  # a multipart upload: the object appears only when it is complete
                self._stream = inbox.fs.open(self.part.path, "wb", block_size=BUCKET_PART_BYTES)
        else:
            local_path(inbox).mkdir(parents=True, exist_ok=True)
            # Unbuffered: store() hands the kernel the received blocks as they are.
            self._stream = open(local_path(self.part), "wb", buffering=0)  # noqa: SIM115 (closed by publish/discard)
        self._open = True

    @property
    def file_id(self) -> str:
        """The sha256 of what was written so far (of the whole upload once it is received)."""
        return self._digest.hexdigest()

    def write(self, block: bytes) -> None:
        """Appends a block: `admit`, `digest` and `store` in turn (a caller with threads to spare runs the last two
        on threads of their own, each in order)."""
        self.admit([block])
        self.digest([block])
        self.store([block])

    def admit(self, blocks: Sequence[bytes | memoryview]) -> None:
        """Counts blocks in; raises UploadTooLarge past `max_bytes` (nothing of the upload is then kept)."""
        size = self.size + sum(map(len, blocks))
        if size > self.max_bytes:
            raise UploadTooLarge(f"the upload is larger than the limit of {self.max_bytes:,} bytes "
                                 "(BILLING_API_MAX_UPLOAD_BYTES)")
        self.size = size

    def digest(self, blocks: Sequence[bytes | memoryview]) -> None:
        for block in blocks:
            self._digest.update(block)

    def store(self, blocks: Sequence[bytes | memoryview]) -> None:
        """The blocks appended as they are: one writev to a local part (no copy into one buffer first), or the
        bucket's multipart stream."""
        if is_bucket(self.inbox):
            with store_faults(self.inbox):
                for block in blocks:
                    self._stream.write(block)
            return
        views = [memoryview(block) for block in blocks if block]
        while views:
            written = os.writev(self._stream.fileno(), views[:_IOV_MAX])  # a slow client's blocks are many
            while views and written >= len(views[0]):
                written -= len(views.pop(0))
            if written:
                views[0] = views[0][written:]

    def publish(self, original_name: str | None) -> bool:
        """The part becomes ``<inbox>/<sha256>.csv``, with `original_name` in its note. Returns False, and removes
        the part, when the same bytes already wait in the inbox (a concurrent or earlier upload): the sensor takes
        them once."""
        self._close()
        name = published_name(self.file_id)
        target = self.inbox / name
        try:
            if exists(target):
                return False
            if original_name:
                _write_note(self.inbox, name, original_name)
            if is_bucket(self.inbox):
                copy_object(self.part, target)  # server-side: a PUT appears whole, so no rename is needed
                return True
            # Whole when it appears (ingest.inbox.stable takes such a name at the sensor's first look).
            try:
                os.link(local_path(self.part), local_path(target))  # never replaces: the first upload wins
            except FileExistsError:
                return False
            except OSError:  # a filesystem without hard links: the check above, then a rename
                os.replace(local_path(self.part), local_path(target))
            return True
        finally:
            remove_object(self.part)

    def discard(self) -> None:
        """Nothing of the upload is kept."""
        if self._open and is_bucket(self.inbox):
            self._open = False
            with store_faults(self.inbox):
                self._stream.discard()  # aborts the multipart upload: no object, no parts left behind
            self._stream.closed = True  # else the garbage collector's close() would try to upload what is gone
            remove_object(self.part)
            return
        self._close()
        remove_object(self.part)

    def _close(self) -> None:
        if self._open:
            self._open = False
            with store_faults(self.inbox):
                self._stream.close()


def _write_note(inbox: UPath, name: str, original_name: str) -> None:
    note = {"original_name": original_name, "uploaded_at": datetime.now(UTC).isoformat()}
    write_bytes(note_path(inbox, name), json.dumps(note, ensure_ascii=False).encode())


def original_name_of(path: AnyPath) -> str | None:
    """The client's file name a published upload came with, from its note; None for any other inbox file."""
    if not UPLOAD_NAME.fullmatch(path.name):
        return None
    try:
        note = json.loads(read_bytes(note_path(path.parent, path.name)))
    except (FileNotFoundError, ValueError):
        return None
    return client_file_name(note.get("original_name")) if isinstance(note, dict) else None


def forget_note(path: AnyPath) -> None:
    """The note of a registered upload removed (nothing happens for a file that has none)."""
    if UPLOAD_NAME.fullmatch(path.name):
        remove_object(note_path(path.parent, path.name))


def presigned_upload(inbox: UPath, original_name: str | None) -> UPath:
    """A fresh inbox key for a client to PUT a file to directly, its note written first."""
    target = inbox / f"upload-{uuid.uuid4().hex}.csv"
    if original_name:
        _write_note(inbox, target.name, original_name)
    return target


def remove_stale_parts(inbox: UPath, now: float | None = None) -> int:
    """Parts of uploads whose API process died mid-way, and notes of files that never came (a presigned URL not
    used), a day old, removed; returns how many. A local inbox only: in a
    bucket, an interrupted multipart upload leaves no object (the bucket's lifecycle rule for incomplete uploads
    reclaims its parts)."""
    if is_bucket(inbox) or not local_path(inbox).is_dir():
        return 0
    cutoff = (now if now is not None else time.time()) - STALE_PART_SECONDS
    folder = local_path(inbox)
    removed = 0
    for item in [*folder.glob(f"{PART_PREFIX}*{PART_SUFFIX}"), *folder.glob(".*.upload.json")]:
        published = folder / item.name[1:].removesuffix(".upload.json")
        if item.name.endswith(".upload.json") and published.exists():
            continue  # the note of a file still waiting for the sensor
        try:
            if item.stat().st_mtime < cutoff:
                item.unlink()
                removed += 1
        except FileNotFoundError:
            pass
    return removed
