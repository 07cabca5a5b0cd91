"""Boleto arithmetic (FEBRABAN): pure Python + NumPy, no Dagster."""

from billing_pipeline.boleto.barcode import amount_field, build_barcode, check_barcode
from billing_pipeline.boleto.due_date import due_date_factor, due_date_from_factor
from billing_pipeline.boleto.errors import BoletoError, InvalidCheckDigit, InvalidLength, NotDigits
from billing_pipeline.boleto.linha import barcode_from_linha, format_linha, linha_digitavel

__all__ = [
    "BoletoError",
    "InvalidCheckDigit",
    "InvalidLength",
    "NotDigits",
    "amount_field",
    "barcode_from_linha",
    "build_barcode",
    "check_barcode",
    "due_date_factor",
    "due_date_from_factor",
    "format_linha",
    "linha_digitavel",
]
