"""The rejects report: one CSV line per (record, problem), ordered by line number."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd

REPORT_COLUMNS = ["line_number", "column", "code", "message", "raw_line"]


def write_rejects_csv(rejects: pd.DataFrame, path: Path) -> Path:
    """Write atomically so a reader never sees half a report (chunks of one file finish concurrently)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    ordered = rejects[REPORT_COLUMNS].sort_values(["line_number", "column", "code"], kind="stable")
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
        ordered.to_csv(stream, index=False)
    os.replace(temporary, path)
    return path
