"""Rejects: the stable codes and the columns of a reject row, shared by reading, validation, the store and the
rejects report.

The codes are part of the product's interface (rejects table, rejects CSV, reports): add new ones, never rename or
reuse one.
"""

from __future__ import annotations

from enum import StrEnum

import pandas as pd

from billing_pipeline.money import MAX_AMOUNT

# One row per (record, problem): a record with two bad values has two rows.
REJECT_COLUMNS = ["line_number", "column", "code", "message", "raw_line"]


def empty_rejects() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="int64" if c == "line_number" else "str") for c in REJECT_COLUMNS})


class RejectCode(StrEnum):
    # A whole file is refused: nothing of it is loaded.
    EMPTY_FILE = "EMPTY_FILE"
    NOT_UTF8 = "NOT_UTF8"
    MISSING_COLUMNS = "MISSING_COLUMNS"
    DUPLICATE_COLUMNS = "DUPLICATE_COLUMNS"

    # One record is refused.
    WRONG_FIELD_COUNT = "WRONG_FIELD_COUNT"
    MALFORMED_RECORD = "MALFORMED_RECORD"
    UNTERMINATED_QUOTE = "UNTERMINATED_QUOTE"
    MISSING_VALUE = "MISSING_VALUE"
    FIELD_TOO_LONG = "FIELD_TOO_LONG"
    INVALID_DEBT_ID = "INVALID_DEBT_ID"
    INVALID_EMAIL = "INVALID_EMAIL"
    INVALID_GOVERNMENT_ID = "INVALID_GOVERNMENT_ID"
    INVALID_AMOUNT = "INVALID_AMOUNT"
    AMOUNT_NOT_POSITIVE = "AMOUNT_NOT_POSITIVE"
    AMOUNT_TOO_PRECISE = "AMOUNT_TOO_PRECISE"
    AMOUNT_TOO_LARGE = "AMOUNT_TOO_LARGE"
    INVALID_DUE_DATE = "INVALID_DUE_DATE"
    DUPLICATE_CONFLICT = "DUPLICATE_CONFLICT"
    INVALID_ZIP_CODE = "INVALID_ZIP_CODE"
    INVALID_STATE = "INVALID_STATE"
    INVALID_FINE = "INVALID_FINE"
    INVALID_INTEREST = "INVALID_INTEREST"
    INVALID_DISCOUNT = "INVALID_DISCOUNT"


MESSAGES: dict[RejectCode, str] = {
    RejectCode.WRONG_FIELD_COUNT: "the record does not have one value per header column",
    RejectCode.MALFORMED_RECORD: "the record is not valid CSV",
    RejectCode.UNTERMINATED_QUOTE: "a quoted field is never closed: the record runs to the end of the file",
    RejectCode.MISSING_VALUE: "the value is empty",
    RejectCode.FIELD_TOO_LONG: "the value is longer than the column allows",
    RejectCode.INVALID_DEBT_ID: "debtId is not a UUID",
    RejectCode.INVALID_EMAIL: "email is not a valid address",
    RejectCode.INVALID_GOVERNMENT_ID: "governmentId is not a valid id under the configured policy",
    RejectCode.INVALID_AMOUNT: "debtAmount is not a decimal number like 1234.56",
    RejectCode.AMOUNT_NOT_POSITIVE: "debtAmount must be greater than zero",
    RejectCode.AMOUNT_TOO_PRECISE: "debtAmount has more than 2 decimal places",
    RejectCode.AMOUNT_TOO_LARGE: f"debtAmount is above {MAX_AMOUNT:,}, the most a boleto can carry",
    RejectCode.INVALID_DUE_DATE: "debtDueDate is not a real date in the form YYYY-MM-DD",
    RejectCode.DUPLICATE_CONFLICT: "the same debtId appears with different content",
    RejectCode.INVALID_ZIP_CODE: "zipCode is not a CEP of 8 digits like 01310-100",
    RejectCode.INVALID_STATE: "state is not one of the 27 UFs, like SP",
    RejectCode.INVALID_FINE: "finePercent is not a percent from 0 to 100 with at most 2 decimals, like 2 or 2.50",
    RejectCode.INVALID_INTEREST: "interestMonthlyPercent is not a percent a month from 0 to 100 with at most 2 "
    "decimals, like 1 or 0.99",
    RejectCode.INVALID_DISCOUNT: "the discount is not a percent from 0 to under 100 with at most 2 decimals "
    "(discountPercent), or its date is not a real date in the form YYYY-MM-DD on or before debtDueDate "
    "(discountUntil)",
}
