"""What every bank module provides, and the rules and digit-matrix helpers they share.

A bank module declares its account's fields as data, `ACCOUNT_DIGITS` (attribute -> exact number of digits, in
the order problems are reported), and `check_digits` is the one check of them, saying the bank's own name for a
field where it has one (`BENEFICIARY_CODE`). What differs between banks (the campo livre, the nosso número's DV,
Itaú's refused carteiras) stays in the bank's module.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from billing_pipeline.boleto.account import AccountProblem, BeneficiaryAccount
from billing_pipeline.boleto.check_digits import ascii_strings, digits_matrix, matrix_strings, string_digits

BENEFICIARY_CODE = {"convenio": "código do beneficiário"}
"""The names for `check_digits` of the banks (Caixa, Santander) whose convênio is the código do beneficiário."""


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

    def check_account(self, account: BeneficiaryAccount) -> list[AccountProblem]:
        """Problems with the account for this bank, one per attribute at fault; empty when usable."""

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


def with_dv(number: np.ndarray, dv: np.ndarray, prefix: str = "") -> np.ndarray:
    """The printed nosso número of each row, `{prefix}{number}-{dv}`: `number` a digit matrix, `dv` the ASCII
    codes of its check digit (a letter where the bank has one)."""
    rows = len(number)
    return printed(prefix, as_ascii(number), "-", np.asarray(dv, dtype=np.uint8).reshape(rows, -1), rows=rows)


def check_digits(
    account: BeneficiaryAccount, widths: Mapping[str, int], names: Mapping[str, str] | None = None
) -> list[AccountProblem]:
    """A problem for each attribute in `widths` that is not exactly that many ASCII digits, in `widths`' order;
    `names` gives an attribute the bank's own name for it, said in brackets.

    >>> account = BeneficiaryAccount("104", "12", "", "", "12", "Test", "11222333000181")
    >>> for problem in check_digits(account, {"convenio": 6, "agencia": 4}, BENEFICIARY_CODE):
    ...     print(problem)
    convenio (código do beneficiário) must be 6 digits for this bank, got '12'
    agencia must be 4 digits for this bank, got '12'
    """
    problems = []
    for field, width in widths.items():
        value = getattr(account, field)
        if not (value.isascii() and value.isdigit() and len(value) == width):
            name = f"({names[field]}) " if names and field in names else ""
            problems.append(AccountProblem(field, f"{name}must be {width} digits for this bank, got {value!r}"))
    return problems


def checked_rows(sequences: np.ndarray, maximum: int) -> int:
    """How many sequence numbers there are, once each is known to fit the bank's nosso número (1..maximum)."""
    if len(sequences) and (sequences.min() < 1 or sequences.max() > maximum):
        raise ValueError(f"nosso número sequence out of range 1..{maximum}")
    return len(sequences)
