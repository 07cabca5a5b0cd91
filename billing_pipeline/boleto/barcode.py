"""The 44-digit barcode: bank(3) currency(1) DV(1) factor(4) amount(10) campo livre(25)."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from billing_pipeline.boleto.check_digits import general_dv
from billing_pipeline.boleto.due_date import due_date_factor
from billing_pipeline.boleto.errors import InvalidCheckDigit, InvalidLength, NotDigits
from billing_pipeline.money import AMOUNT_FIELD_DIGITS, MAX_AMOUNT

CURRENCY_REAL = "9"


def amount_field(amount: Decimal) -> str:
    if amount <= 0 or amount > MAX_AMOUNT:
        raise ValueError(f"a boleto amount is 0.01..{MAX_AMOUNT}, got {amount}")
    cents = amount * 100
    if cents != cents.to_integral_value():
        raise ValueError(f"a boleto amount has at most 2 decimal places, got {amount}")
    return f"{int(cents):0{AMOUNT_FIELD_DIGITS}d}"


def build_barcode(bank_code: str, due: date, amount: Decimal, campo_livre: str) -> str:
    if not re.fullmatch(r"\d{3}", bank_code):
        raise InvalidLength(f"bank code must be 3 digits, got {bank_code!r}")
    if not re.fullmatch(r"\d{25}", campo_livre):
        raise InvalidLength(f"campo livre must be 25 digits, got {len(campo_livre)} characters")
    without_dv = f"{bank_code}{CURRENCY_REAL}{due_date_factor(due):04d}{amount_field(Decimal(amount))}{campo_livre}"
    return f"{without_dv[:4]}{general_dv(without_dv)}{without_dv[4:]}"


def check_barcode(barcode: str) -> str:
    """Return the barcode if it is 44 digits with a correct general check digit, else raise."""
    if not barcode.isascii() or not barcode.isdigit():
        raise NotDigits("a barcode has only digits")
    if len(barcode) != 44:
        raise InvalidLength(f"a barcode has 44 digits, got {len(barcode)}")
    expected = general_dv(barcode[:4] + barcode[5:])
    if int(barcode[4]) != expected:
        raise InvalidCheckDigit("general", expected, int(barcode[4]))
    return barcode
