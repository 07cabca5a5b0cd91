"""The header line: the six required columns and the optional payer address columns, in any order,
case-insensitive, extra columns ignored.

The payer's address (needed to register a boleto with a bank: CNAB 240 segment Q) is optional: a file without
those columns is read exactly as before. Their names and the aliases the header also accepts, both compared
case-insensitively:

- `address` (logradouro, número, complemento)
- `district`, or `neighborhood` (bairro)
- `zipCode`, or `cep` / `postalCode` (CEP)
- `city`
- `state`, or `uf` (UF)

The charge terms columns are optional in the same way (no aliases); each overrides the beneficiary's policy for
its row, an empty value leaving the policy's:

- `finePercent` (percent of the amount, once, after the due date)
- `interestMonthlyPercent` (percent a month, pro rata by day, after the due date)
- `discountPercent` (percent off when paid on or before the discount's date)
- `discountUntil` (YYYY-MM-DD, on or before debtDueDate; without it, the policy's days before the due date)

>>> parse_header("debtId,CEP,name,governmentId,email,debtAmount,debtDueDate,UF,notes")
['debtId', 'zipCode', 'name', 'governmentId', 'email', 'debtAmount', 'debtDueDate', 'state', 'notes']
>>> record_columns(["debtId", "zipCode", "name", "governmentId", "email", "debtAmount", "debtDueDate"])
['name', 'governmentId', 'email', 'debtAmount', 'debtDueDate', 'debtId', 'zipCode']
"""

from __future__ import annotations

import csv

from billing_pipeline.ingest.file_rejected import FileRejected
from billing_pipeline.rejects import RejectCode

REQUIRED_COLUMNS = ("name", "governmentId", "email", "debtAmount", "debtDueDate", "debtId")
ADDRESS_COLUMNS = ("address", "district", "zipCode", "city", "state")
TERMS_COLUMNS = ("finePercent", "interestMonthlyPercent", "discountPercent", "discountUntil")
OPTIONAL_COLUMNS = ADDRESS_COLUMNS + TERMS_COLUMNS
# No aliases for the charge terms: a file's own column named, say, "juros" stays an ignored extra column, as it
# was before these columns existed.
COLUMN_ALIASES = {"neighborhood": "district", "cep": "zipCode", "postalCode": "zipCode", "uf": "state"}
KNOWN_COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
_OTHER_DELIMITERS = (";", "\t", "|")
_CANONICAL = {column.lower(): column for column in KNOWN_COLUMNS} | {
    alias.lower(): column for alias, column in COLUMN_ALIASES.items()
}


def record_columns(columns: list[str]) -> list[str]:
    """The columns a record is read into: the required ones, then the optional columns this header has."""
    return [*REQUIRED_COLUMNS, *(c for c in OPTIONAL_COLUMNS if c in columns)]


def parse_header(line: str) -> list[str]:
    """Return the file's column names in file order, each spelled as in KNOWN_COLUMNS where it is one (an alias
    becomes the column it stands for)."""
    fields = next(csv.reader([line]), [])
    names = [field.strip() for field in fields]
    columns = [_CANONICAL.get(name.lower(), name) for name in names]

    repeated = sorted({c for c in columns if c in KNOWN_COLUMNS and columns.count(c) > 1})
    if repeated:
        spelled = [
            f"{c} (as {', '.join(n for n, m in zip(names, columns, strict=True) if m == c)})"
            if c in OPTIONAL_COLUMNS else c
            for c in repeated
        ]
        raise FileRejected(RejectCode.DUPLICATE_COLUMNS, f"header names {', '.join(spelled)} more than once", 1)

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
