"""The 47-digit linha digitável and its printed form, to and from the barcode.

Field 1: bank, currency, campo livre 1-5, DV. Field 2: campo livre 6-15, DV. Field 3: campo livre 16-25, DV.
Field 4: the barcode's general DV. Field 5: factor and amount. `CHECKED_FIELDS` and `TAIL` say where each
field's digits stand in the barcode; the scalar and the vectorised conversions both read them, and nothing
else spells the layout out.

The Itaú manual's worked example (agência 0057, conta 12345-7, carteira 110, nosso número 12345678, factor
1667, R$ 123,45) both ways:

>>> barcode = "34196166700000123451101234567880057123457000"
>>> format_linha(linha_digitavel(barcode))
'34191.10121 34567.880058 71234.570001 6 16670000012345'
>>> barcode_from_linha("34191.10121 34567.880058 71234.570001 6 16670000012345") == barcode
True
>>> barcode_from_linha("34191.10121 34567.880059 71234.570001 6 16670000012345")
Traceback (most recent call last):
...
billing_pipeline.boleto.errors.InvalidCheckDigit: wrong check digit in field 2: expected 8, found 9
"""

from __future__ import annotations

import re

import numpy as np

from billing_pipeline.boleto.barcode import check_barcode
from billing_pipeline.boleto.check_digits import mod10, mod10_many
from billing_pipeline.boleto.errors import InvalidCheckDigit, InvalidLength, NotDigits

CHECKED_FIELDS: tuple[tuple[slice, ...], ...] = (
    (slice(0, 4), slice(19, 24)),  # field 1: bank and currency, campo livre 1-5
    (slice(24, 34),),  # field 2: campo livre 6-15
    (slice(34, 44),),  # field 3: campo livre 16-25
)
"""The barcode slices each of fields 1-3 is made of; each field is followed by its módulo 10 DV."""
TAIL = slice(4, 19)
"""Fields 4 and 5, copied as they stand in the barcode: its general DV, then factor and amount."""

_SEPARATORS = re.compile(r"[\s.]")


def _linha_positions() -> tuple[tuple[tuple[int, int], ...], int, list[int]]:
    """Where fields 1-3 stand in the linha (start, DV position), where the tail starts, and which barcode
    position each linha digit other than the three DVs comes from, in linha order."""
    spans, start, barcode_positions = [], 0, []
    for slices in CHECKED_FIELDS:
        field = [i for part in slices for i in range(part.start, part.stop)]
        barcode_positions += field
        spans.append((start, start + len(field)))
        start += len(field) + 1
    return tuple(spans), start, barcode_positions + list(range(TAIL.start, TAIL.stop))


FIELD_SPANS, TAIL_START, _BARCODE_POSITIONS = _linha_positions()
LINHA_LENGTH = TAIL_START + TAIL.stop - TAIL.start  # 47
_LINHA_TO_BARCODE = np.argsort(_BARCODE_POSITIONS)  # barcode position -> index among the linha's non-DV digits


def linha_digitavel(barcode: str) -> str:
    check_barcode(barcode)
    fields = ["".join(barcode[part] for part in slices) for slices in CHECKED_FIELDS]
    return "".join(f"{field}{mod10(field)}" for field in fields) + barcode[TAIL]


def linha_digits_many(barcodes: np.ndarray) -> np.ndarray:
    """(n, 44) barcode digit matrix -> (n, 47) linha digitável digit matrix (the barcodes are not checked)."""
    parts = []
    for slices in CHECKED_FIELDS:
        field = np.hstack([barcodes[:, part] for part in slices]) if len(slices) > 1 else barcodes[:, slices[0]]
        parts += [field, mod10_many(field)[:, None]]
    return np.hstack([*parts, barcodes[:, TAIL]])


def barcode_from_linha(linha: str) -> str:
    """Accepts the printed form (dots and spaces); raises naming the field whose check digit is wrong."""
    digits = _SEPARATORS.sub("", linha)
    if not digits.isascii() or not digits.isdigit():
        raise NotDigits("a linha digitável has only digits, dots and spaces")
    if len(digits) != LINHA_LENGTH:
        raise InvalidLength(f"a linha digitável has {LINHA_LENGTH} digits, got {len(digits)}")
    for number, (start, end) in enumerate(FIELD_SPANS, start=1):
        expected = mod10(digits[start:end])
        if int(digits[end]) != expected:
            raise InvalidCheckDigit(f"field {number}", expected, int(digits[end]))
    without_dvs = "".join(digits[start:end] for start, end in FIELD_SPANS) + digits[TAIL_START:]
    return check_barcode("".join(without_dvs[i] for i in _LINHA_TO_BARCODE))


def format_linha(linha: str) -> str:
    """`AAAAA.AAAAA BBBBB.BBBBBB CCCCC.CCCCCC D EEEEEEEEEEEEEE`

    >>> format_linha("34191101213456788005871234570001616670000012345")
    '34191.10121 34567.880058 71234.570001 6 16670000012345'
    """
    d = _SEPARATORS.sub("", linha)
    if len(d) != LINHA_LENGTH or not d.isdigit():
        raise InvalidLength(f"a linha digitável has {LINHA_LENGTH} digits, got {len(d)}")
    return f"{d[0:5]}.{d[5:10]} {d[10:15]}.{d[15:21]} {d[21:26]}.{d[26:32]} {d[32]} {d[33:47]}"
