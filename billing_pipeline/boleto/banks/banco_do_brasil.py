"""Banco do Brasil (001), convênio of 7 digits, carteiras 17/18.

Campo livre: 000000 + nosso número (17 = convênio 7 + sequence 10) + carteira (2). The 17-digit nosso número of a
7-digit convênio has no check digit (BB, "Especificações técnicas para confecção de boleto", convênio 7 posições).
"""

from __future__ import annotations

import numpy as np

from billing_pipeline.boleto.account import BeneficiaryAccount
from billing_pipeline.boleto.banks.base import (
    CampoLivre,
    check_sequences,
    constant,
    numbers,
    require_digits,
    strings,
)

code = "001"
name = "Banco do Brasil"
label = "001-9"  # bank code and its check digit, as printed
max_sequence = 10**10 - 1


def account_label(account: BeneficiaryAccount) -> str:
    """Agência / código do beneficiário as printed on the boleto."""
    return f"{account.agencia} / {account.convenio}"


def check_account(account: BeneficiaryAccount) -> list[str]:
    problems: list[str] = []
    require_digits(problems, "BILLING_CONVENIO", account.convenio, 7)
    require_digits(problems, "BILLING_CARTEIRA", account.carteira, 2)
    require_digits(problems, "BILLING_AGENCIA", account.agencia, 4)
    return problems


def campo_livre(account: BeneficiaryAccount, sequences: np.ndarray) -> CampoLivre:
    check_sequences(sequences, max_sequence)
    rows = len(sequences)
    nosso_numero = np.hstack([constant(account.convenio, rows), numbers(sequences, 10)])
    digits = np.hstack([constant("000000", rows), nosso_numero, constant(account.carteira, rows)])
    return CampoLivre(digits, strings(nosso_numero))
