"""What every bank module provides, and the digit-matrix helpers they share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from billing_pipeline.boleto.account import BeneficiaryAccount
from billing_pipeline.boleto.check_digits import ascii_strings, digits_matrix, matrix_strings, string_digits


@dataclass(frozen=True)
class CampoLivre:
    digits: np.ndarray  # (n, 25)
    nosso_numero: np.ndarray  # n strings, as printed on the boleto (with its check digit where the bank has one)


class Bank(Protocol):
    code: str
    name: str
    label: str
    max_sequence: int

    def account_label(self, account: BeneficiaryAccount) -> str:
        """Agência / código do beneficiário as printed on the boleto."""

    def check_account(self, account: BeneficiaryAccount) -> list[str]:
        """Problems with the account for this bank, as sentences naming the setting; empty when usable."""

    def campo_livre(self, account: BeneficiaryAccount, sequences: np.ndarray) -> CampoLivre:
        """The 25-digit campo livre and printed nosso número for each sequence number (vectorised)."""


def constant(text: str, rows: int) -> np.ndarray:
    return np.repeat(string_digits(text), rows, axis=0)


def numbers(values: np.ndarray, width: int) -> np.ndarray:
    return digits_matrix(values, width)


def column(values: np.ndarray) -> np.ndarray:
    return np.asarray(values, dtype=np.uint8)[:, None]


def strings(digits: np.ndarray) -> np.ndarray:
    return matrix_strings(digits)


def printed(*parts: str | np.ndarray, rows: int) -> np.ndarray:
    """Join literal text and digit matrices (or, for letters, (n, 1) ASCII-code columns) into n strings."""
    codes = []
    for part in parts:
        if isinstance(part, str):
            codes.append(np.repeat(np.frombuffer(part.encode("ascii"), dtype=np.uint8)[None, :], rows, axis=0))
        else:
            codes.append(part)
    return ascii_strings(np.hstack(codes))


def as_ascii(digits: np.ndarray) -> np.ndarray:
    return (np.asarray(digits, dtype=np.uint8) + np.uint8(48)).reshape(len(digits), -1)


def require_digits(problems: list[str], setting: str, value: str, width: int) -> None:
    if not (value.isascii() and value.isdigit() and len(value) == width):
        problems.append(f"{setting} must be {width} digits for this bank, got {value!r}")


def check_sequences(sequences: np.ndarray, maximum: int) -> None:
    if len(sequences) and (sequences.min() < 1 or sequences.max() > maximum):
        raise ValueError(f"nosso número sequence out of range 1..{maximum}")
