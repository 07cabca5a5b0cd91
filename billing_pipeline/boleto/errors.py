"""Errors of the boleto arithmetic: all are ValueErrors, each says what is wrong and where."""

from __future__ import annotations


class BoletoError(ValueError):
    """A barcode, linha digitável or boleto input that cannot be right."""


class InvalidLength(BoletoError):
    pass


class NotDigits(BoletoError):
    pass


class InvalidCheckDigit(BoletoError):
    """`which` names the digit: 'general' (barcode position 5) or 'field 1' / 'field 2' / 'field 3'."""

    def __init__(self, which: str, expected: int, found: int):
        super().__init__(f"wrong check digit in {which}: expected {expected}, found {found}")
        self.which = which
        self.expected = expected
        self.found = found
