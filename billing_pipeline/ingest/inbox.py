"""The inbox, a folder or a bucket prefix: which files are complete, their identity (sha256), archiving, and atomic
submission.

In a folder a file is complete once it stops changing (two looks, or an old mtime). In a bucket an object is
complete once it is listed: a PUT or a multipart upload becomes visible only when it is whole. The bucket is listed
whole at every look (paginated) rather than from a LastModified cursor, whose whole-second times would skip an object
that lands in the same second as another: registered objects leave the inbox, so the listing stays short, and the
sha256 identity makes a second listing of the same object harmless.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from upath import UPath

from billing_pipeline.cnab.reader import looks_like_cnab240
from billing_pipeline.ingest.upload import PUBLISHED_NAME
from billing_pipeline.storage.atomic import replaced_atomically
from billing_pipeline.storage.location import is_bucket, local_path
from billing_pipeline.storage.objects import (
    copy_object,
    exists,
    listed_objects,
    open_stream,
    read_range,
    remove_object,
)

IGNORED_SUFFIXES = (".part", ".tmp")
# A header arquivo and its line end: enough to recognise one, also with a UTF-8 accent or a 241st character.
RETORNO_HEAD_BYTES = 250
_HASH_BLOCK = 1 << 20


@dataclass(frozen=True)
class InboxEntry:
    path: UPath
    size: int
    mtime_ns: int
    etag: str | None = None  # an object's: the archive copy is made only of the bytes that were hashed

    @property
    def complete(self) -> bool:
        """An object is whole once it is listed; a file may still be being written."""
        return self.etag is not None

    @property
    def version(self) -> str | None:
        """An object's identity as an upload: its key, LastModified and ETag (a new upload of the same bytes under
        the same name has a later LastModified)."""
        return None if self.etag is None else f"{self.path.name}@{self.mtime_ns}#{self.etag}"

    @property
    def look(self) -> list[int]:
        return [self.size, self.mtime_ns]


def is_ignored(name: str) -> bool:
    return name.startswith(".") or name.lower().endswith(IGNORED_SUFFIXES)


def scan(inbox: UPath) -> list[InboxEntry]:
    """Regular files (or objects) a user dropped, oldest first; half-written (*.part, *.tmp) and hidden files are
    skipped, and so are sub-folders. Raises StorageUnavailable when a bucket cannot be listed."""
    if is_bucket(inbox):
        entries = [InboxEntry(item.path, item.size, int(item.modified_at.timestamp() * 1e9), item.etag)
                   for item in listed_objects(inbox) if not is_ignored(item.path.name)]
    elif inbox.is_dir():
        entries = []
        with os.scandir(local_path(inbox)) as listing:
            for item in listing:
                if is_ignored(item.name) or not item.is_file(follow_symlinks=False):
                    continue
                stat = item.stat(follow_symlinks=False)
                entries.append(InboxEntry(UPath(item.path), stat.st_size, stat.st_mtime_ns))
    else:
        return []
    return sorted(entries, key=lambda e: (e.mtime_ns, e.path.name))


def stable(entries: list[InboxEntry], previous_looks: dict[str, list[int]], now_ns: int,
           settle_seconds: float) -> list[InboxEntry]:
    """Entries the writer is done with: the same size and mtime as at the previous look, or, on the first look,
    an mtime at least `settle_seconds` old (a finished file moved, linked or `billing submit`ted in keeps its own
    mtime; one still being written has a fresh one), or a file the API published (named by its sha256: linked
    into the inbox whole)."""
    settled_before = now_ns - int(settle_seconds * 1e9)
    return [e for e in entries
            if e.complete or previous_looks.get(e.path.name) == e.look or e.mtime_ns <= settled_before
            or PUBLISHED_NAME.fullmatch(e.path.name)]


def is_retorno(entry: InboxEntry) -> bool:
    """Whether a file's first line is a CNAB 240 header arquivo: a bank's retorno dropped beside the CSVs. A file
    that went away meanwhile is not one."""
    try:
        return looks_like_cnab240(read_range(entry.path, 0, RETORNO_HEAD_BYTES))
    except FileNotFoundError:
        return False


def sha256_of(path: Path | UPath) -> str:
    digest = hashlib.sha256()
    with open_stream(path) as stream:
        while block := stream.read(_HASH_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def archive(path: Path | UPath, target: UPath, keep_original: bool = False) -> UPath:
    """Move the original to `target` (archive/<sha256>.csv), or copy it there with `keep_original`. Bytes already
    archived are not written again: a re-drop is simply removed from the inbox."""
    if is_bucket(target) or is_bucket(path):
        if not exists(target):
            copy_object(path, target)
        if not keep_original:
            remove_object(path)
        return target
    path, on_disk = local_path(path), local_path(target)
    on_disk.parent.mkdir(parents=True, exist_ok=True)
    if on_disk.exists():
        if not keep_original:
            path.unlink(missing_ok=True)
        return target
    if not keep_original:
        try:
            os.replace(path, on_disk)
            return target
        except OSError:  # another filesystem: copy, then drop the original
            pass
    with replaced_atomically(on_disk) as partial:
        shutil.copyfile(path, partial)
    if not keep_original:
        path.unlink()
    return target


def copy_to_archive(entry: InboxEntry, target: UPath) -> None:
    """A server-side copy of an inbox object to `target`, of the very bytes that were hashed (the ETag listed);
    an object deleted or replaced since raises FileNotFoundError, so nothing is registered for it."""
    if not exists(target):
        copy_object(entry.path, target, if_etag=entry.etag)


def remove_from_inbox(entry: InboxEntry) -> bool:
    """The inbox object removed, unless a new upload replaced it meanwhile (that one stays for the next look)."""
    return remove_object(entry.path, if_etag=entry.etag)


def submit(source: Path, inbox: UPath) -> UPath:
    """Copy a file into the inbox so the sensor never sees it half-written: the copy is a hidden `.part` until it is
    renamed. It keeps the source's mtime, as `mv` and `cp -p` do, so an old file is taken on the sensor's first
    look."""
    if not source.is_file():
        raise FileNotFoundError(f"{source} is not a file")
    target = inbox / source.name
    if is_ignored(target.name):
        target = inbox / (target.name.lstrip(".").removesuffix(".part").removesuffix(".tmp") or "file.csv")
    if is_bucket(inbox):  # a PUT appears whole: the object's name needs no hiding while it is written
        copy_object(source, target)
        return target
    inbox.mkdir(parents=True, exist_ok=True)
    with replaced_atomically(target) as partial:
        shutil.copyfile(source, partial)
        shutil.copystat(source, partial)
    return target
