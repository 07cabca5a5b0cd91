"""Money as the product holds it: whole cents in an int64, at most R$ 99,999,999.99.

The ceiling is the boleto barcode's: its amount field has ten digits, 8 for reais and 2 for centavos (FEBRABAN
layout, positions 10-19), so a larger debt cannot be issued and is rejected at validation instead.

>>> MAX_AMOUNT_CENTS
9999999999
>>> MAX_AMOUNT
Decimal('99999999.99')
>>> MAX_AMOUNT_INTEGER_DIGITS
8
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only Series methods are called: the NumPy-only boleto core imports this module too
    import pandas as pd

AMOUNT_FIELD_DIGITS = 10  # the barcode's amount field: reais and centavos, no separator
MAX_AMOUNT_CENTS = 10**AMOUNT_FIELD_DIGITS - 1
MAX_AMOUNT = Decimal(MAX_AMOUNT_CENTS).scaleb(-2)
MAX_AMOUNT_INTEGER_DIGITS = AMOUNT_FIELD_DIGITS - 2  # digits of whole reais an amount may have


def format_cents(cents: pd.Series) -> pd.Series:
    """Integer cents -> decimal text with a point and exactly two decimals, as PostgreSQL's numeric reads it.

    >>> import pandas as pd
    >>> format_cents(pd.Series([1, 1050, 100000, MAX_AMOUNT_CENTS])).tolist()
    ['0.01', '10.50', '1000.00', '99999999.99']
    """
    return (cents // 100).astype(str) + "." + (cents % 100).astype(str).str.zfill(2)


def brazilian_amount(cents: int) -> str:
    """Integer cents as a boleto and a notice print them (no currency sign).

    >>> brazilian_amount(123456), brazilian_amount(5), brazilian_amount(MAX_AMOUNT_CENTS)
    ('1.234,56', '0,05', '99.999.999,99')
    """
    reais, centavos = divmod(int(cents), 100)
    return f"{reais:,}".replace(",", ".") + f",{centavos:02d}"
