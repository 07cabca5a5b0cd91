"""Writing a file so that a reader sees the old one or the new one, never half of it."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def replaced_atomically(target: Path) -> Iterator[Path]:
    """A fresh temporary path beside `target`, renamed over it when the block succeeds and removed when it fails.

    The name is unique per writer: chunks of one file finish concurrently and may write the same report. The file
    is created as any new file is (the umask decides its mode), so every report the product writes has the same
    permissions.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{uuid.uuid4().hex}.part")
    try:
        yield partial
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
