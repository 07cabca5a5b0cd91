"""Santander (033). Campo livre: 9 + código do beneficiário (7) + nosso número (12 + DV) + IOS (0) + carteira (3).

The nosso número's DV is módulo 11 (weights 2..9) of its 12 digits: 11 - remainder, and 0 when that is 10 or 11
(Santander, "Layout de cobrança – código de barras").
"""

from __future__ import annotations

import numpy as np

from billing_pipeline.boleto.account import AccountProblem, BeneficiaryAccount
from billing_pipeline.boleto.banks.base import (
    BENEFICIARY_CODE,
    CampoLivre,
    as_ascii,
    check_digits,
    checked_rows,
    column,
    constant,
    numbers,
    with_dv,
)
from billing_pipeline.boleto.check_digits import mod11_zero_many

code = "033"
name = "Santander"
label = "033-7"  # bank code and its check digit, as printed
max_sequence = 10**12 - 1
ACCOUNT_DIGITS = {"convenio": 7, "carteira": 3}
IOS = "0"


def account_label(account: BeneficiaryAccount) -> str:
    """Agência / código do beneficiário as printed on the boleto."""
    return f"{account.agencia} / {account.convenio}"


def check_account(account: BeneficiaryAccount) -> list[AccountProblem]:
    return check_digits(account, ACCOUNT_DIGITS, BENEFICIARY_CODE)


def campo_livre(account: BeneficiaryAccount, sequences: np.ndarray) -> CampoLivre:
    rows = checked_rows(sequences, max_sequence)
    number = numbers(sequences, 12)
    dv = mod11_zero_many(number)
    digits = np.hstack([constant("9", rows), constant(account.convenio, rows), number, column(dv),
                        constant(IOS, rows), constant(account.carteira, rows)])
    return CampoLivre(digits, with_dv(number, as_ascii(dv)))
