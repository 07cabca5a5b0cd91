"""The header line: the six columns in any order, case-insensitive, extra columns ignored."""

from __future__ import annotations

import csv

from billing_pipeline.ingest.file_rejected import FileRejected
from billing_pipeline.rejects import RejectCode

REQUIRED_COLUMNS = ("name", "governmentId", "email", "debtAmount", "debtDueDate", "debtId")
_OTHER_DELIMITERS = (";", "\t", "|")


def parse_header(line: str) -> list[str]:
    """Return the file's column names in file order, each spelled as in REQUIRED_COLUMNS where it is one."""
    fields = next(csv.reader([line]), [])
    names = [field.strip() for field in fields]
    canonical = {column.lower(): column for column in REQUIRED_COLUMNS}
    columns = [canonical.get(name.lower(), name) for name in names]

    repeated = sorted({c for c in columns if c in REQUIRED_COLUMNS and columns.count(c) > 1})
    if repeated:
        raise FileRejected(RejectCode.DUPLICATE_COLUMNS, f"header names {', '.join(repeated)} more than once", 1)

    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        hint = ""
        if len(fields) == 1 and (found := next((d for d in _OTHER_DELIMITERS if d in line), None)):
            hint = f"; the header looks {found!r}-separated, but the file must be comma-separated"
        raise FileRejected(
            RejectCode.MISSING_COLUMNS,
            f"header lacks {', '.join(missing)} (found: {', '.join(names) or 'nothing'}){hint}",
            1,
        )
    return columns
