"""The Pandera schema of a debt row. Every check is named by the reject code it produces.

Checks receive whole columns of trimmed strings and answer with a boolean mask; an empty value fails only
MISSING_VALUE, so each bad value gets the one code that says what is wrong with it.

The payer address columns are optional twice over: a file may leave them out (their checks then do not run) and a
row may leave any of them empty (a partial address is the remessa's to report, not a reject). A value given must
be usable: a CEP of 8 digits, one of the 27 UFs, and no longer than MAX_LENGTH (the remessa cuts the text ones to
the CNAB field widths: address 40, district 15, city 15).

The charge terms columns are optional the same way: an empty value leaves the beneficiary's policy in force. A
value given must be what a bank registers: a percent of at most 2 decimals (finePercent and
interestMonthlyPercent up to 100, discountPercent under 100) and a real date for discountUntil; that date must not
be after debtDueDate (validate.py checks that pair of columns).
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pandera.pandas as pa

from billing_pipeline import government_id
from billing_pipeline.money import MAX_AMOUNT_INTEGER_DIGITS
from billing_pipeline.rejects import RejectCode

MAX_LENGTH = {"name": 200, "governmentId": 32, "email": 254, "debtAmount": 32, "debtDueDate": 10, "debtId": 36,
              "address": 200, "district": 100, "city": 100}
# The 26 states and the Distrito Federal.
STATES = frozenset({
    "AC", "AL", "AP", "AM", "BA", "CE", "DF", "ES", "GO", "MA", "MT", "MS", "MG", "PA",
    "PB", "PR", "PE", "PI", "RJ", "RN", "RS", "RO", "RR", "SC", "SP", "SE", "TO",
})

_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL = r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@" + _LABEL + r"(?:\." + _LABEL + r")+"
_AMOUNT = r"[+-]?[0-9]+(?:\.[0-9]+)?"
_ISO_DATE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
_ZIP_CODE = r"[0-9]{2}\.?[0-9]{3}-?[0-9]{3}"  # 01310-100, 01310100, 01.310-100
_PERCENT = r"[0-9]{1,3}(?:\.[0-9]{0,2})?"  # 2, 2.5, 2.50, 100: what a CNAB percent field (2 decimals) holds


def _check(code: RejectCode, test: Callable[[pd.Series], pd.Series]) -> pa.Check:
    return pa.Check(lambda s: (s == "") | test(s), name=code.value)


def _matches(pattern: str) -> Callable[[pd.Series], pd.Series]:
    return lambda s: s.str.fullmatch(pattern).fillna(False).astype(bool)


def _amount_parts(s: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    well_formed = s.str.fullmatch(_AMOUNT).fillna(False).astype(bool)
    # Two regex replaces run inside Arrow; str.extract builds Python objects row by row (3x slower).
    integer = s.str.replace(r"^[+-]?([^.]*)\.?.*$", r"\1", regex=True).fillna("")
    decimals = s.str.replace(r"^[^.]*\.?", "", regex=True).fillna("")
    return well_formed, integer.str.lstrip("0"), decimals


def _not_positive(s: pd.Series) -> pd.Series:
    well_formed, integer, decimals = _amount_parts(s)
    zero = (integer == "") & (decimals.str.strip("0") == "")
    return ~well_formed | ~(s.str.startswith("-") | zero)


def _too_precise(s: pd.Series) -> pd.Series:
    well_formed, _, decimals = _amount_parts(s)
    return ~well_formed | (decimals.str.rstrip("0").str.len() <= 2)


def _too_large(s: pd.Series) -> pd.Series:
    well_formed, integer, _ = _amount_parts(s)
    return ~well_formed | (integer.str.len() <= MAX_AMOUNT_INTEGER_DIGITS)


def real_date(s: pd.Series) -> pd.Series:
    shaped = s.str.fullmatch(_ISO_DATE).fillna(False).astype(bool)
    parsed = pd.to_datetime(s.where(shaped), format="%Y-%m-%d", errors="coerce")
    return shaped & parsed.notna()


def _government_id(policy: str) -> Callable[[pd.Series], pd.Series]:
    return lambda s: government_id.valid_mask(government_id.normalise_series(s), policy)


def _is_state(s: pd.Series) -> pd.Series:
    return s.str.upper().isin(STATES)


def _percent_at_most(limit: int, *, below: bool = False) -> Callable[[pd.Series], pd.Series]:
    def within(s: pd.Series) -> pd.Series:
        shaped = s.str.fullmatch(_PERCENT).fillna(False).astype(bool)
        value = pd.to_numeric(s.where(shaped), errors="coerce")
        return shaped & ((value < limit) if below else (value <= limit)).fillna(False).astype(bool)
    return within


def _optional_column(name: str, *checks: pa.Check) -> pa.Column:
    """A payer address column: may be absent from the file, may be empty in a row."""
    return pa.Column(str, checks=list(checks), name=name, required=False)


def _optional_text(name: str) -> pa.Column:
    limit = MAX_LENGTH[name]
    return _optional_column(name, _check(RejectCode.FIELD_TOO_LONG, lambda s: s.str.len() <= limit))


def _column(name: str, *checks: pa.Check) -> pa.Column:
    limit = MAX_LENGTH[name]
    return pa.Column(
        str,
        checks=[
            pa.Check(lambda s: s != "", name=RejectCode.MISSING_VALUE.value),
            _check(RejectCode.FIELD_TOO_LONG, lambda s: s.str.len() <= limit),
            *checks,
        ],
        name=name,
    )


def debt_schema(government_id_policy: str) -> pa.DataFrameSchema:
    return pa.DataFrameSchema(
        {
            "name": _column("name"),
            "governmentId": _column(
                "governmentId", _check(RejectCode.INVALID_GOVERNMENT_ID, _government_id(government_id_policy))
            ),
            "email": _column("email", _check(RejectCode.INVALID_EMAIL, _matches(_EMAIL))),
            "debtAmount": _column(
                "debtAmount",
                _check(RejectCode.INVALID_AMOUNT, _matches(_AMOUNT)),
                _check(RejectCode.AMOUNT_NOT_POSITIVE, _not_positive),
                _check(RejectCode.AMOUNT_TOO_PRECISE, _too_precise),
                _check(RejectCode.AMOUNT_TOO_LARGE, _too_large),
            ),
            "debtDueDate": _column("debtDueDate", _check(RejectCode.INVALID_DUE_DATE, real_date)),
            "debtId": _column("debtId", _check(RejectCode.INVALID_DEBT_ID, _matches(_UUID))),
            "address": _optional_text("address"),
            "district": _optional_text("district"),
            "zipCode": _optional_column("zipCode", _check(RejectCode.INVALID_ZIP_CODE, _matches(_ZIP_CODE))),
            "city": _optional_text("city"),
            "state": _optional_column("state", _check(RejectCode.INVALID_STATE, _is_state)),
            "finePercent": _optional_column("finePercent", _check(RejectCode.INVALID_FINE, _percent_at_most(100))),
            "interestMonthlyPercent": _optional_column(
                "interestMonthlyPercent", _check(RejectCode.INVALID_INTEREST, _percent_at_most(100))),
            "discountPercent": _optional_column(
                "discountPercent", _check(RejectCode.INVALID_DISCOUNT, _percent_at_most(100, below=True))),
            "discountUntil": _optional_column("discountUntil", _check(RejectCode.INVALID_DISCOUNT, real_date)),
        },
        strict=False,
        name="debt",
    )


def zip_code_digits(zip_codes: pd.Series) -> pd.Series:
    """The 8 digits of validated CEPs ('01.310-100' -> '01310100'); empty stays empty."""
    return zip_codes.str.replace(r"[.-]", "", regex=True)


def percent_basis_points(percents: pd.Series) -> pd.Series:
    """Validated percents as nullable basis points ('2' -> 200, '2.5' -> 250, '0.01' -> 1); empty -> <NA>, the
    policy's. Digits only, no float: '0.29' is 29, not 28.999."""
    given = percents != ""
    whole = percents.str.replace(r"\..*$", "", regex=True)
    decimals = percents.str.replace(r"^[^.]*\.?", "", regex=True).str.pad(2, side="right", fillchar="0")
    return (whole + decimals).where(given).astype("Int64")


def amount_cents(amounts: pd.Series) -> pd.Series:
    """Exact cents of validated amounts ('10' -> 1000, '10.5' -> 1050, '+3.10' -> 310): no float on the way."""
    _, integer, decimals = _amount_parts(amounts)
    integer = integer.where(integer != "", "0")
    cents = decimals.str.rstrip("0").str.pad(2, side="right", fillchar="0")
    return (integer + cents).astype("int64")
