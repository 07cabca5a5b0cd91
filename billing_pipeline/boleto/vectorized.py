"""Boleto data for a whole chunk at once: NumPy digit matrices, no Python loop per row."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from billing_pipeline.boleto.account import BeneficiaryAccount
from billing_pipeline.boleto.banks import BANKS
from billing_pipeline.boleto.banks.base import column, constant
from billing_pipeline.boleto.barcode import CURRENCY_REAL
from billing_pipeline.boleto.check_digits import digits_matrix, general_dv_many, matrix_strings
from billing_pipeline.boleto.due_date import due_date_factors
from billing_pipeline.boleto.linha import LINHA_LENGTH, linha_digits_many
from billing_pipeline.money import AMOUNT_FIELD_DIGITS, MAX_AMOUNT, MAX_AMOUNT_CENTS


@dataclass(frozen=True)
class BoletoNumbers:
    nosso_numero: np.ndarray
    barcode: np.ndarray  # 44-digit strings
    linha_digitavel: np.ndarray  # 47-digit strings


def boleto_numbers(
    account: BeneficiaryAccount, sequences: np.ndarray, amount_cents: np.ndarray, due_dates: np.ndarray
) -> BoletoNumbers:
    """Barcode, linha digitável and nosso número for each (sequence, amount, due date)."""
    sequences = np.asarray(sequences, dtype=np.int64)
    amount_cents = np.asarray(amount_cents, dtype=np.int64)
    if len(amount_cents) and (amount_cents.min() < 1 or amount_cents.max() > MAX_AMOUNT_CENTS):
        raise ValueError(f"boleto amounts must be 0.01..{MAX_AMOUNT:,}")
    rows = len(sequences)
    campo_livre = BANKS[account.bank_code].campo_livre(account, sequences)
    without_dv = np.hstack([
        constant(account.bank_code + CURRENCY_REAL, rows),
        digits_matrix(due_date_factors(due_dates), 4),
        digits_matrix(amount_cents, AMOUNT_FIELD_DIGITS),
        campo_livre.digits,
    ])
    barcode = np.hstack([without_dv[:, :4], column(general_dv_many(without_dv)), without_dv[:, 4:]])
    return BoletoNumbers(campo_livre.nosso_numero, matrix_strings(barcode),
                         matrix_strings(linha_digits_many(barcode)))


def boleto_due_dates(original: np.ndarray, today: np.datetime64, min_days: int) -> np.ndarray:
    """The debt's own due date when it is at least `min_days` ahead, else today + `min_days`."""
    original = np.asarray(original, dtype="datetime64[D]")
    earliest = np.asarray(today, dtype="datetime64[D]") + np.timedelta64(min_days, "D")
    return np.where(original >= earliest, original, earliest)


def verify_many(barcodes: np.ndarray, linhas: np.ndarray) -> np.ndarray:
    """True where a stored barcode's general DV verifies and the stored linha is exactly its conversion."""
    if len(barcodes) == 0:
        return np.zeros(0, dtype=bool)
    bars = _digit_rows(barcodes, 44)
    lines = _digit_rows(linhas, LINHA_LENGTH)
    general_ok = general_dv_many(np.hstack([bars[:, :4], bars[:, 5:]])) == bars[:, 4]
    return general_ok & (linha_digits_many(bars) == lines).all(axis=1)


def _digit_rows(values: np.ndarray, width: int) -> np.ndarray:
    encoded = np.asarray(values, dtype=f"S{width}")
    return (np.frombuffer(encoded.tobytes(), dtype=np.uint8).reshape(len(encoded), width) - np.uint8(48))
