"""Where a runtime folder is: a local directory or a prefix of an S3-compatible bucket, as one path type (UPath).

A local path is a `pathlib.Path` (UPath's PosixUPath), so the folder case works as it always did. A bucket is
``s3://bucket/prefix``, read and written through s3fs. Credentials, endpoint and region come from the standard AWS
variables (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_ENDPOINT_URL, AWS_REGION), read by botocore itself, so
nothing secret is ever part of a path, a setting's JSON or a run's config.

s3fs rather than obstore: measured on the real store (docs/benchmarks.md, issue 15), obstore saves 1-2 s of the
~58 s from drop to boletos of a 1.1M-row file, has no conditional copy (the archive copy needs CopySourceIfMatch),
and would sit beside fsspec anyway, which UPath and Dagster's UPathIOManager use.

>>> str(location("s3://billing/data/"))
's3://billing/data'
>>> is_bucket(location("s3://billing/data")), is_bucket(location("/tmp"))
(True, False)
>>> location("gs://billing")
Traceback (most recent call last):
...
ValueError: must be a local folder or s3://bucket/prefix, got 'gs://billing'
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, TypeGuard

from upath import UPath

# A runtime file or folder: a plain local path (what tests and `billing process` arguments are) or a location.
AnyPath = Path | UPath

BUCKET_SCHEME = "s3://"
# S3's own rule for new buckets: 3-63 lower-case letters, digits, dots and hyphens, starting and ending alphanumeric.
_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


def location(value: str | os.PathLike[str]) -> UPath:
    """A runtime folder: an absolute local path, or an S3 prefix (no trailing slash). Raises ValueError."""
    if isinstance(value, UPath) and is_bucket(value):
        return value
    text = os.fspath(value).strip()
    if "://" not in text:
        return UPath(Path(text).expanduser().resolve())
    if not text.startswith(BUCKET_SCHEME):
        raise ValueError(f"must be a local folder or s3://bucket/prefix, got {text!r}")
    bucket, _, prefix = text[len(BUCKET_SCHEME):].partition("/")
    if not _BUCKET_NAME.match(bucket):
        raise ValueError(f"names no valid bucket (3-63 lower-case letters, digits, dots or hyphens), got {text!r}")
    parts = [part for part in prefix.split("/") if part]
    if any(part in (".", "..") for part in parts):
        raise ValueError(f"must not contain . or .. in its prefix, got {text!r}")
    return UPath(BUCKET_SCHEME + "/".join([bucket, *parts]), **_client_options())


def is_bucket(path: Any) -> TypeGuard[UPath]:
    return isinstance(path, UPath) and path.protocol == "s3"


def local_path(path: AnyPath) -> Path:
    """The file on this machine's disk that a path which is not in a bucket names."""
    if is_bucket(path):
        raise ValueError(f"{path} is in a bucket, not on this machine's disk")
    return path if isinstance(path, Path) else Path(str(path))


def bucket_of(path: UPath) -> str:
    return path.path.split("/", 1)[0]


def _client_options() -> dict[str, Any]:
    """botocore reads AWS_ENDPOINT_URL and the credentials itself, but not AWS_REGION (only AWS_DEFAULT_REGION)."""
    region = os.environ.get("AWS_REGION", "").strip()
    if region and not os.environ.get("AWS_DEFAULT_REGION"):
        return {"client_kwargs": {"region_name": region}}
    return {}
