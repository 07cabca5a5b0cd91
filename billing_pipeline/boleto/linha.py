"""The 47-digit linha digitável and its printed form, to and from the barcode.

Field 1: bank, currency, campo livre 1-5, DV. Field 2: campo livre 6-15, DV. Field 3: campo livre 16-25, DV.
Field 4: the barcode's general DV. Field 5: factor and amount.
"""

from __future__ import annotations

import re

from billing_pipeline.boleto.barcode import check_barcode
from billing_pipeline.boleto.check_digits import mod10
from billing_pipeline.boleto.errors import InvalidCheckDigit, InvalidLength, NotDigits

_SEPARATORS = re.compile(r"[\s.]")


def linha_digitavel(barcode: str) -> str:
    check_barcode(barcode)
    field1 = barcode[0:4] + barcode[19:24]
    field2 = barcode[24:34]
    field3 = barcode[34:44]
    return (
        f"{field1}{mod10(field1)}{field2}{mod10(field2)}{field3}{mod10(field3)}"
        f"{barcode[4]}{barcode[5:19]}"
    )


def barcode_from_linha(linha: str) -> str:
    """Accepts the printed form (dots and spaces); raises naming the field whose check digit is wrong."""
    digits = _SEPARATORS.sub("", linha)
    if not digits.isascii() or not digits.isdigit():
        raise NotDigits("a linha digitável has only digits, dots and spaces")
    if len(digits) != 47:
        raise InvalidLength(f"a linha digitável has 47 digits, got {len(digits)}")
    for number, (start, end) in enumerate(((0, 9), (10, 20), (21, 31)), start=1):
        expected = mod10(digits[start:end])
        if int(digits[end]) != expected:
            raise InvalidCheckDigit(f"field {number}", expected, int(digits[end]))
    barcode = digits[0:4] + digits[32] + digits[33:47] + digits[4:9] + digits[10:20] + digits[21:31]
    return check_barcode(barcode)


def format_linha(linha: str) -> str:
    """`AAAAA.AAAAA BBBBB.BBBBBB CCCCC.CCCCCC D EEEEEEEEEEEEEE`"""
    d = _SEPARATORS.sub("", linha)
    if len(d) != 47 or not d.isdigit():
        raise InvalidLength(f"a linha digitável has 47 digits, got {len(d)}")
    return f"{d[0:5]}.{d[5:10]} {d[10:15]}.{d[15:21]} {d[21:26]}.{d[26:32]} {d[32]} {d[33:47]}"
