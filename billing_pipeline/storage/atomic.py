"""Writing a file so that a reader sees the old one or the new one, never half of it."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from billing_pipeline.storage.errors import store_faults
from billing_pipeline.storage.location import AnyPath, is_bucket, local_path


@contextmanager
def replaced_atomically(target: AnyPath) -> Iterator[Path]:
    """A fresh local temporary path to write, which becomes `target` when the block succeeds and is removed when it
    fails.

    On a local disk the temporary file lies beside `target` and is renamed over it. Its name is unique per writer:
    chunks of one file finish concurrently and may write the same report. It is created as any new file is (the
    umask decides its mode), so every report the product writes has the same permissions.

    In a bucket a PUT is already all or nothing: the file is written in the system's temporary folder, uploaded
    as the object, and removed, so no half object is ever visible and nothing is left on local disk.
    """
    if is_bucket(target):
        with tempfile.TemporaryDirectory(prefix="billing-upload-") as folder:
            partial = Path(folder) / target.name
            yield partial
            with store_faults(target):
                target.fs.put_file(str(partial), target.path)
        return
    target = local_path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{uuid.uuid4().hex}.part")
    try:
        yield partial
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
