"""A bucket that cannot be used, told in one sentence: which store, which bucket, and what to check."""

from __future__ import annotations

import os

from upath import UPath


class StorageUnavailable(OSError):
    """The object store refused or could not be reached; the message names the location and what to check."""


def explained(error: BaseException, where: UPath) -> StorageUnavailable:
    endpoint = os.environ.get("AWS_ENDPOINT_URL") or "AWS S3"
    text = str(error).strip() or type(error).__name__
    bucket = where.path.split("/", 1)[0]
    if isinstance(error, PermissionError):
        reason = (f"the store at {endpoint} refused the credentials for {where} ({text}); check "
                  "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
    elif isinstance(error, FileNotFoundError):
        reason = f"bucket {bucket} does not exist at {endpoint} (for {where}); create it, or fix the URL"
    else:
        reason = f"cannot reach the object store at {endpoint} for {where}: {text}; check AWS_ENDPOINT_URL"
    return StorageUnavailable(reason)
