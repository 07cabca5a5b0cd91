"""Reading, copying, listing and removing what lies in a runtime folder, the same way for a local file and for an
object in a bucket. A bucket's faults come out as StorageUnavailable, one sentence an operator can act on."""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO

from upath import UPath

from billing_pipeline.storage.atomic import replaced_atomically
from billing_pipeline.storage.errors import StorageUnavailable, store_faults
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
    finally:
        # s3fs would answer later exists() and open() of these keys from this listing, however old it gets in a
        # long-lived process (the daemon's sensors, a Celery worker): every later look asks the store.
        prefix.fs.invalidate_cache(prefix.path)
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


def exists(path: AnyPath) -> bool:
    """Whether the file or object is there now: a bucket is asked, never a cached listing."""
    if not is_bucket(path):
        return local_path(path).exists()
    with store_faults(path):
        path.fs.invalidate_cache(path.path)
        return path.fs.exists(path.path)


def etag_of(path: UPath) -> str | None:
    """The object's ETag now, or None when it is gone."""
    try:
        with store_faults(path):
            return str(path.fs.info(path.path, refresh=True)["ETag"])
    except FileNotFoundError:
        return None


def copy_object(source: AnyPath, target: AnyPath, if_etag: str | None = None) -> None:
    """`source` copied to `target`: server-side within the store, uploaded from a local file, or downloaded into a
    local one (whole or not at all). With `if_etag`, only if the source object still holds those bytes (else
    FileNotFoundError)."""
    if is_bucket(source) and is_bucket(target):
        options = {"CopySourceIfMatch": if_etag} if if_etag else {}
        try:
            with store_faults(target):
                # cp_file, not copy: fsspec's copy reads *, ? and [ in a key as a glob pattern.
                source.fs.cp_file(source.path, target.path, **options)
        except OSError as error:
            if "pre-condition" in str(error).lower() or "precondition" in str(error).lower():
                raise FileNotFoundError(f"{source} changed while it was read") from error
            raise
    elif is_bucket(target):
        with store_faults(target):
            target.fs.put_file(str(local_path(source)), target.path)
    elif is_bucket(source):
        with open_stream(source) as stream, replaced_atomically(target) as partial:
            if if_etag is not None and stream.raw.details.get("ETag") != if_etag:  # type: ignore[attr-defined]
                raise FileNotFoundError(f"{source} changed while it was read")
            with open(partial, "wb") as copy:
                shutil.copyfileobj(stream, copy, LOCAL_READ_BUFFER)
    else:
        shutil.copyfile(local_path(source), local_path(target))


def remove_object(path: AnyPath, if_etag: str | None = None) -> bool:
    """Removed if it is there (with `if_etag`, only if it still holds those bytes: a new upload under the same key
    stays, to be taken at the next look). Returns whether it was removed or already gone."""
    if not is_bucket(path):
        local_path(path).unlink(missing_ok=True)
        return True
    if if_etag is not None and etag_of(path) not in (if_etag, None):
        return False
    try:
        with store_faults(path):
            path.fs.rm_file(path.path)
    except FileNotFoundError:
        pass
    return True


def write_bytes(path: AnyPath, data: bytes) -> None:
    """The whole file, or one PUT of the whole object."""
    if is_bucket(path):
        with store_faults(path):
            path.fs.pipe_file(path.path, data)
    else:
        target = local_path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def presigned_put_url(path: UPath, expires_seconds: int, endpoint_url: str = "") -> str:
    """A URL that lets whoever holds it PUT this one object, for `expires_seconds`, signed with AWS Signature
    Version 4 (s3fs's own `url` signs with version 2, which AWS no longer takes in most regions). Signing needs no
    request: botocore reads the same AWS_* variables as s3fs. `endpoint_url`: the store as the URL's user reaches
    it, when that is not how this process does (a container network's name)."""
    import botocore.session
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError

    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    # A store at its own endpoint (SeaweedFS, MinIO) names buckets in the path; AWS in the host name.
    style = "path" if endpoint_url or os.environ.get("AWS_ENDPOINT_URL") else "virtual"
    try:
        client = botocore.session.get_session().create_client(
            "s3", region_name=region, endpoint_url=endpoint_url or None,
            config=Config(signature_version="s3v4", s3={"addressing_style": style}))
        bucket, _, key = path.path.partition("/")
        return str(client.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": key},
                                                 ExpiresIn=expires_seconds))
    except BotoCoreError as error:
        raise StorageUnavailable(f"cannot sign an upload URL for {path}: {error}") from None


def read_bytes(path: AnyPath) -> bytes:
    if is_bucket(path):
        with store_faults(path):
            return path.fs.cat_file(path.path)
    return local_path(path).read_bytes()


__all__ = ["ListedObject", "StorageUnavailable", "copy_object", "etag_of", "exists", "listed_objects", "open_stream",
           "presigned_put_url", "read_bytes", "read_range", "remove_object", "store_faults", "write_bytes"]
