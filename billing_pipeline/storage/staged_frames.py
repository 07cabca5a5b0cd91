"""Validated chunk frames between a chunk's validation and its load: Parquet under <BILLING_DATA_DIR>/staging.

The layout is UPathIOManager's, <base>/<asset key>/<partition>.parquet, so the Dagster IO manager
(billing_pipeline/defs/resources.py) and the report stage, which removes the frames of reported files, agree.
"""

from __future__ import annotations

from pathlib import Path

FRAME_EXTENSION = ".parquet"
VALIDATED_CHUNK = "validated_chunk"  # the asset whose output the frames are


def staged_frames_dir(staging_dir: Path) -> Path:
    return staging_dir / VALIDATED_CHUNK


def staged_frame(staging_dir: Path, chunk_key: str) -> Path:
    return staged_frames_dir(staging_dir) / f"{chunk_key}{FRAME_EXTENSION}"


def staged_chunk_keys(staging_dir: Path) -> list[str]:
    return sorted(path.stem for path in staged_frames_dir(staging_dir).glob(f"*{FRAME_EXTENSION}"))


def discard_staged_frames(staging_dir: Path, chunk_keys: list[str]) -> int:
    """Removes these chunks' validated frames (~6 MB per 100k rows); returns how many there were."""
    removed = 0
    for key in chunk_keys:
        try:
            staged_frame(staging_dir, key).unlink()
            removed += 1
        except FileNotFoundError:
            pass
    return removed
