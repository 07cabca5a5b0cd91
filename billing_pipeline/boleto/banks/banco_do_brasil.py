"""Banco do Brasil (001), convênio of 7 digits, carteiras 17/18.

Campo livre: 000000 + nosso número (17 = convênio 7 + sequence 10) + carteira (2). The 17-digit nosso número of a
7-digit convênio has no check digit (BB, "Especificações técnicas para confecção de boleto", convênio 7 posições).
"""

from __future__ import annotations

import numpy as np

from billing_pipeline.boleto.account import AccountProblem, BeneficiaryAccount
from billing_pipeline.boleto.banks.base import (
    CampoLivre,
    check_digits,
    checked_rows,
    constant,
    numbers,
    strings,
)

code = "001"
name = "Banco do Brasil"
label = "001-9"  # bank code and its check digit, as printed
max_sequence = 10**10 - 1
ACCOUNT_DIGITS = {"convenio": 7, "carteira": 2, "agencia": 4}


def account_label(account: BeneficiaryAccount) -> str:
    """Agência / código do beneficiário as printed on the boleto."""
    return f"{account.agencia} / {account.convenio}"


def check_account(account: BeneficiaryAccount) -> list[AccountProblem]:
    return check_digits(account, ACCOUNT_DIGITS)


def campo_livre(account: BeneficiaryAccount, sequences: np.ndarray) -> CampoLivre:
    rows = checked_rows(sequences, max_sequence)
    nosso_numero = np.hstack([constant(account.convenio, rows), numbers(sequences, 10)])
    digits = np.hstack([constant("000000", rows), nosso_numero, constant(account.carteira, rows)])
    return CampoLivre(digits, strings(nosso_numero))
