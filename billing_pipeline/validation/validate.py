"""Validate one chunk: structural rejects, file-wide duplicate verdicts and the Pandera schema, all collected.

Row accounting of a chunk: every record ends in exactly one of accepted, rejected (any number of reject rows for
the same line) or duplicate.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd
import pandera.pandas as pa

from billing_pipeline import government_id
from billing_pipeline.ingest.records import ChunkRecords
from billing_pipeline.ingest.split import LineVerdict
from billing_pipeline.rejects import MESSAGES, REJECT_COLUMNS, RejectCode, empty_rejects
from billing_pipeline.statuses import VerdictKind
from billing_pipeline.validation.schema import (
    amount_cents,
    debt_schema,
    percent_basis_points,
    real_date,
    zip_code_digits,
)

DEBT_COLUMNS = ["line_number", "debt_id", "government_id", "name", "email", "amount_cents", "due_date", "raw_line"]
# The payer address of a file that has the columns (store.tables.debts' names): None where a row leaves it empty.
PAYER_ADDRESS_COLUMNS = {
    "address": "payer_address",
    "district": "payer_district",
    "zipCode": "payer_zip_code",
    "city": "payer_city",
    "state": "payer_state",
}
# A row's own charge terms (store.tables.debts' names): <NA> / None where a row leaves the policy's.
CHARGE_TERMS_COLUMNS = {
    "finePercent": "fine_basis_points",
    "interestMonthlyPercent": "interest_monthly_basis_points",
    "discountPercent": "discount_basis_points",
    "discountUntil": "discount_until",
}


@dataclass
class ChunkValidation:
    accepted: pd.DataFrame  # DEBT_COLUMNS, normalised, then the PAYER_ADDRESS_COLUMNS and CHARGE_TERMS_COLUMNS
    # the file has
    rejects: pd.DataFrame  # REJECT_COLUMNS, several rows may share a line
    duplicate_lines: list[int]

    @property
    def rejected_rows(self) -> int:
        return int(self.rejects["line_number"].nunique())


def _preview(value: object, limit: int = 60) -> str:
    text = str(value)
    return repr(text) if len(text) <= limit else f"{text[:limit]!r}… ({len(text)} characters)"


def _schema_rejects(fields: pd.DataFrame, government_id_policy: str) -> pd.DataFrame:
    try:
        debt_schema(government_id_policy).validate(fields, lazy=True)
    except pa.errors.SchemaErrors as errors:
        cases = errors.failure_cases
        unexpected = cases[~cases["check"].isin([code.value for code in RejectCode])]
        if not unexpected.empty:  # a dtype or schema-shape failure is a bug of ours, not of the data
            raise
        rows = fields.loc[cases["index"].to_numpy()]
        return pd.DataFrame(
            {
                "line_number": rows["line_number"].to_numpy(),
                "column": cases["column"].to_numpy(),
                "code": cases["check"].to_numpy(),
                "message": [
                    f"{MESSAGES[RejectCode(code)]} (got {_preview(value)})"
                    for code, value in zip(cases["check"], cases["failure_case"], strict=True)
                ],
                "raw_line": rows["raw_line"].to_numpy(),
            }
        )
    return empty_rejects()


def _verdict_rejects(fields: pd.DataFrame, verdicts: Iterable[LineVerdict], code: RejectCode) -> pd.DataFrame:
    by_line = {v.line_number: v for v in verdicts}
    rows = fields[fields["line_number"].isin(by_line)]
    messages = [
        f"{MESSAGES[code]} (debtId {by_line[line].debt_id}, first seen on line {by_line[line].first_line})"
        for line in rows["line_number"]
    ]
    return pd.DataFrame(
        {
            "line_number": rows["line_number"].to_numpy(),
            "column": "debtId",
            "code": code.value,
            "message": messages,
            "raw_line": rows["raw_line"].to_numpy(),
        },
        columns=REJECT_COLUMNS,
    )


def validate_chunk(
    records: ChunkRecords, verdicts: Iterable[LineVerdict], government_id_policy: str
) -> ChunkValidation:
    verdicts = list(verdicts)
    unterminated = {v.line_number for v in verdicts if v.verdict == VerdictKind.UNTERMINATED}
    duplicates = {v.line_number for v in verdicts if v.verdict == VerdictKind.DUPLICATE}
    conflicts = [v for v in verdicts if v.verdict == VerdictKind.CONFLICT]

    structural = records.rejects[~records.rejects["line_number"].isin(unterminated | duplicates)]
    fields = records.fields
    unterminated_rows = fields[fields["line_number"].isin(unterminated)]
    unterminated_rejects = pd.DataFrame(
        {
            "line_number": sorted(unterminated),
            "column": "",
            "code": RejectCode.UNTERMINATED_QUOTE.value,
            "message": MESSAGES[RejectCode.UNTERMINATED_QUOTE],
            "raw_line": [
                next(iter(unterminated_rows.loc[unterminated_rows["line_number"] == line, "raw_line"]), "")
                for line in sorted(unterminated)
            ],
        },
        columns=REJECT_COLUMNS,
    )
    fields = fields[~fields["line_number"].isin(unterminated | duplicates)].reset_index(drop=True)

    parts = [
        part
        for part in (
            structural,
            unterminated_rejects,
            _verdict_rejects(fields, conflicts, RejectCode.DUPLICATE_CONFLICT),
            _schema_rejects(fields, government_id_policy),
            _discount_after_due_rejects(fields),
        )
        if not part.empty
    ]
    rejects = pd.concat(parts, ignore_index=True) if parts else empty_rejects()
    rejects["line_number"] = rejects["line_number"].astype("int64")

    good = fields[~fields["line_number"].isin(rejects["line_number"])]
    accepted = pd.DataFrame(
        {
            "line_number": good["line_number"].astype("int64"),
            "debt_id": good["debtId"].str.lower(),
            "government_id": government_id.normalise_series(good["governmentId"]),
            "name": good["name"],
            "email": good["email"],
            "amount_cents": amount_cents(good["debtAmount"]),
            "due_date": good["debtDueDate"],
            "raw_line": good["raw_line"],
            **_payer_address(good),
            **_charge_terms(good),
        }
    ).reset_index(drop=True)
    return ChunkValidation(accepted, rejects, sorted(duplicates))


def _payer_address(good: pd.DataFrame) -> dict[str, pd.Series]:
    """The address columns the file has, normalised (CEP as its 8 digits, UF uppercase), missing where empty.
    A file without them adds nothing: its frames are what they were before the columns existed."""
    found: dict[str, pd.Series] = {}
    for column, stored in PAYER_ADDRESS_COLUMNS.items():
        if column not in good:
            continue
        values = good[column]
        if column == "zipCode":
            values = zip_code_digits(values)
        elif column == "state":
            values = values.str.upper()
        found[stored] = values.where(values != "")
    return found


def _discount_after_due_rejects(fields: pd.DataFrame) -> pd.DataFrame:
    """INVALID_DISCOUNT where discountUntil is after debtDueDate: a bank refuses a discount past the due date.
    Both are compared as YYYY-MM-DD text, which orders as the dates do; one that is not a real date is the schema's
    to report, and only that."""
    if "discountUntil" not in fields:
        return empty_rejects()
    until, due = fields["discountUntil"], fields["debtDueDate"]
    late = fields[(real_date(until) & real_date(due) & (until > due)).astype(bool)]
    return pd.DataFrame(
        {
            "line_number": late["line_number"].to_numpy(),
            "column": "discountUntil",
            "code": RejectCode.INVALID_DISCOUNT.value,
            "message": [f"{MESSAGES[RejectCode.INVALID_DISCOUNT]} (got {value!r}, after debtDueDate {limit!r})"
                        for value, limit in zip(late["discountUntil"], late["debtDueDate"], strict=True)],
            "raw_line": late["raw_line"].to_numpy(),
        },
        columns=REJECT_COLUMNS,
    )


def _charge_terms(good: pd.DataFrame) -> dict[str, pd.Series]:
    """The charge terms columns the file has: percents as basis points, the date as text, missing where empty
    (the policy's). A file without them adds nothing."""
    found: dict[str, pd.Series] = {}
    for column, stored in CHARGE_TERMS_COLUMNS.items():
        if column not in good:
            continue
        values = good[column]
        found[stored] = values.where(values != "") if column == "discountUntil" else percent_basis_points(values)
    return found
