"""Reading, copying, listing and removing what lies in a runtime folder, the same way for a local file and for an
object in a bucket. A bucket's faults come out as StorageUnavailable, one sentence an operator can act on."""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO

from aiohttp import ClientError
from botocore.exceptions import BotoCoreError
from s3fs.utils import FileExpired
from upath import UPath

from billing_pipeline.storage.errors import StorageUnavailable, explained
from billing_pipeline.storage.location import AnyPath, is_bucket, local_path

# A sequential read of a bucket object goes in ranged GETs of this size: few enough requests for a 105 MB file
# (14), small enough to keep a worker's memory flat. A local file is read through a buffer of its own size.
READ_BLOCK = 8 << 20
LOCAL_READ_BUFFER = 1 << 20


@dataclass(frozen=True)
class ListedObject:
    path: UPath
    size: int
    modified_at: datetime
    etag: str


@contextmanager
def store_faults(where: UPath) -> Iterator[None]:
    """Refused credentials and an unreachable store raised as StorageUnavailable (the original as its cause, which
    billing_pipeline.faults judges); a missing object stays FileNotFoundError, a fact about the data."""
    try:
        yield
    except FileExpired as error:  # replaced by a new upload while it was read: the bytes read are no file
        raise FileNotFoundError(f"{where} changed while it was read") from error
    except FileNotFoundError as error:
        if _no_such_bucket(error):
            raise explained(error, where) from error
        raise
    except (PermissionError, BotoCoreError, ClientError) as error:
        raise explained(error, where) from error


def _no_such_bucket(error: FileNotFoundError) -> bool:
    return "bucket does not exist" in str(error).lower() or "nosuchbucket" in str(error).lower()


def listed_objects(prefix: UPath) -> list[ListedObject]:
    """The objects directly under `prefix` (not in sub-prefixes), all pages of the listing, never from a cache.
    An empty or absent prefix holds none; a missing bucket, refused credentials or an unreachable store raise
    StorageUnavailable."""
    folder = prefix.path.rstrip("/")  # some stores list an emptied prefix as a zero-byte object of its own name
    try:
        with store_faults(prefix):
            listing = prefix.fs.ls(prefix.path, detail=True, refresh=True)
    except FileNotFoundError:
        return []  # a prefix exists only by its keys: none yet
    return [ListedObject(UPath(f"s3://{item['name']}", **prefix.storage_options), int(item["size"]),
                         item["LastModified"], str(item["ETag"]))
            for item in listing if item.get("type") == "file" and item["name"].rstrip("/") != folder]


@contextmanager
def open_stream(path: AnyPath) -> Iterator[BinaryIO]:
    """The file or object opened for a sequential read."""
    if not is_bucket(path):
        with open(local_path(path), "rb", buffering=LOCAL_READ_BUFFER) as stream:
            yield stream
        return
    with store_faults(path), path.fs.open(path.path, "rb", block_size=READ_BLOCK, cache_type="readahead") as raw:
        # fsspec's own readline looks for the newline in Python; the C buffer does it per block.
        yield io.BufferedReader(raw, buffer_size=LOCAL_READ_BUFFER)


def read_range(path: AnyPath, start: int, end: int) -> bytes:
    """Bytes [start, end) of a file, or one ranged GET of an object."""
    if is_bucket(path):
        with store_faults(path):
            return path.fs.cat_file(path.path, start=start, end=end)
    with open(local_path(path), "rb") as stream:
        stream.seek(start)
        return stream.read(end - start)


def copy_object(source: AnyPath, target: UPath, if_etag: str | None = None) -> None:
    """`source` copied to `target`: server-side within the store, uploaded from a local file, or downloaded into a
    local one. With `if_etag`, only if the source object still holds those bytes (else FileNotFoundError)."""
    if is_bucket(source) and is_bucket(target):
        options = {"CopySourceIfMatch": if_etag} if if_etag else {}
        try:
            with store_faults(target):
                source.fs.copy(source.path, target.path, **options)
        except OSError as error:
            if "pre-condition" in str(error).lower() or "precondition" in str(error).lower():
                raise FileNotFoundError(f"{source} changed while it was read") from error
            raise
    elif is_bucket(target):
        with store_faults(target):
            target.fs.put_file(str(local_path(source)), target.path)
    elif is_bucket(source):
        with store_faults(source):
            source.fs.get_file(source.path, str(local_path(target)))
    else:
        shutil.copyfile(local_path(source), local_path(target))


def remove_object(path: AnyPath) -> None:
    """Removed if it is there."""
    if is_bucket(path):
        try:
            with store_faults(path):
                path.fs.rm_file(path.path)
        except FileNotFoundError:
            pass
    else:
        local_path(path).unlink(missing_ok=True)


__all__ = ["ListedObject", "StorageUnavailable", "copy_object", "listed_objects", "open_stream", "read_range",
           "remove_object", "store_faults"]
