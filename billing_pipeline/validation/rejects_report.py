"""The rejects report: one CSV line per (record, problem), ordered by line number."""

from __future__ import annotations

import pandas as pd

from billing_pipeline.rejects import REJECT_COLUMNS
from billing_pipeline.storage.atomic import replaced_atomically
from billing_pipeline.storage.location import AnyPath


def write_rejects_csv(rejects: pd.DataFrame, path: AnyPath) -> AnyPath:
    ordered = rejects[REJECT_COLUMNS].sort_values(["line_number", "column", "code"], kind="stable")
    with replaced_atomically(path) as partial, partial.open("w", encoding="utf-8", newline="") as stream:
        ordered.to_csv(stream, index=False)
    return path
