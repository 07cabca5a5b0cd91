"""Validated chunk frames between a chunk's validation and its load: Parquet under <BILLING_DATA_DIR>/staging.

The layout is UPathIOManager's, <base>/<asset key>/<partition>.parquet, so the Dagster IO manager
(billing_pipeline/defs/resources.py) and the report stage, which removes the frames of reported files, agree.
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
from upath import UPath

from billing_pipeline.storage.location import is_bucket
from billing_pipeline.storage.objects import exists, listed_objects, read_bytes, remove_object, write_bytes

FRAME_EXTENSION = ".parquet"
VALIDATED_CHUNK = "validated_chunk"  # the asset whose output the frames are


def staged_frames_dir(staging_dir: Path | UPath) -> Path | UPath:
    return staging_dir / VALIDATED_CHUNK


def staged_frame(staging_dir: Path | UPath, chunk_key: str) -> Path | UPath:
    return staged_frames_dir(staging_dir) / f"{chunk_key}{FRAME_EXTENSION}"


def staged_chunk_keys(staging_dir: Path | UPath) -> list[str]:
    folder = staged_frames_dir(staging_dir)
    if is_bucket(folder):
        names = [item.path.name for item in listed_objects(folder)]
        return sorted(name.removesuffix(FRAME_EXTENSION) for name in names if name.endswith(FRAME_EXTENSION))
    return sorted(path.stem for path in folder.glob(f"*{FRAME_EXTENSION}"))


def discard_staged_frames(staging_dir: Path | UPath, chunk_keys: list[str]) -> int:
    """Removes these chunks' validated frames (~6 MB per 100k rows); returns how many there were."""
    if not chunk_keys:
        return 0
    if is_bucket(staging_dir):  # a DELETE succeeds whether the object was there or not: ask first, to count
        present = [frame for key in chunk_keys if exists(frame := staged_frame(staging_dir, key))]
        for frame in present:
            remove_object(frame)
        return len(present)
    removed = 0
    for key in chunk_keys:
        try:
            staged_frame(staging_dir, key).unlink()
            removed += 1
        except FileNotFoundError:
            pass
    return removed


def write_staged_frame(frame: pd.DataFrame, path: Path | UPath) -> None:
    """A chunk's validated frame as Parquet: one PUT in a bucket (whole or absent), a plain write on disk."""
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    write_bytes(path, buffer.getvalue())


def read_staged_frame(path: Path | UPath) -> pd.DataFrame:
    """The frame; FileNotFoundError when it is not (or no longer) there."""
    return pd.read_parquet(io.BytesIO(read_bytes(path)))
