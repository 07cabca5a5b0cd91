"""A bucket that cannot be used, told in one sentence: which store, which bucket, and what to check."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from upath import UPath

from billing_pipeline.storage.location import bucket_of


class StorageUnavailable(OSError):
    """The object store refused or could not be reached; the message names the location and what to check.
    `transient`: the store could not be reached, and may be again (a refusal is the configuration's)."""

    def __init__(self, message: str, transient: bool = False):
        super().__init__(message)
        self.transient = transient


@contextmanager
def store_faults(where: UPath) -> Iterator[None]:
    """Refused credentials and an unreachable store raised as StorageUnavailable (the original as its cause, which
    billing_pipeline.faults judges); a missing object stays FileNotFoundError, a fact about the data."""
    try:
        yield
    except StorageUnavailable:
        raise
    except Exception as error:
        if isinstance(error, loaded_classes("s3fs.utils", "FileExpired")):
            # replaced by a new upload while it was read: the bytes read are no file
            raise FileNotFoundError(f"{where} changed while it was read") from error
        if isinstance(error, FileNotFoundError):
            if _no_such_bucket(error):
                raise explained(error, where) from error
            raise
        if isinstance(error, (PermissionError, *loaded_classes("botocore.exceptions", "BotoCoreError"),
                              *loaded_classes("aiohttp", "ClientError"))):
            raise explained(error, where) from error
        raise


def loaded_classes(module: str, *names: str) -> tuple[type, ...]:
    """The exception classes `names` of `module` if something imported it, else none: s3fs and its HTTP stack
    (~0.5 s of imports) are imported only when a bucket is used, and an error of theirs can only come after that.

    >>> loaded_classes("no.such.module", "Error")
    ()
    """
    found = sys.modules.get(module)
    return tuple(getattr(found, name) for name in names) if found is not None else ()


def _no_such_bucket(error: FileNotFoundError) -> bool:
    return "bucket does not exist" in str(error).lower() or "nosuchbucket" in str(error).lower()


def explained(error: BaseException, where: UPath) -> StorageUnavailable:
    endpoint = os.environ.get("AWS_ENDPOINT_URL") or "AWS S3"
    text = str(error).strip() or type(error).__name__
    bucket = bucket_of(where)
    if isinstance(error, loaded_classes("botocore.exceptions", "NoCredentialsError")):
        return StorageUnavailable(f"no credentials for {where}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or "
                                  "give the machine an instance role)")
    if isinstance(error, PermissionError):
        return StorageUnavailable(f"the store at {endpoint} refused access to {where} ({text}); check "
                                  "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and the bucket's policy")
    if isinstance(error, FileNotFoundError):
        return StorageUnavailable(f"bucket {bucket} does not exist at {endpoint} (for {where}); create it, or fix "
                                  "the URL")
    return StorageUnavailable(f"cannot reach the object store at {endpoint} for {where}: {text}; check "
                              "AWS_ENDPOINT_URL", transient=True)
