"""Bradesco (237). Campo livre: agência (4) + carteira (2) + nosso número (11) + conta (7) + 0.

The nosso número's check digit is módulo 11 base 7 of carteira + nosso número (weights 2..7 from the right):
remainder 0 gives 0, remainder 1 gives the letter P, otherwise 11 - remainder (Bradesco, "Manual Boleto de
Cobrança", cálculo do dígito do nosso número). It is printed, not part of the barcode.
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
    with_dv,
)
from billing_pipeline.boleto.check_digits import mod11_sum_many

code = "237"
name = "Bradesco"
label = "237-2"  # bank code and its check digit, as printed
max_sequence = 10**11 - 1
ACCOUNT_DIGITS = {"agencia": 4, "conta": 7, "carteira": 2}


def account_label(account: BeneficiaryAccount) -> str:
    """Agência / código do beneficiário as printed on the boleto."""
    return f"{account.agencia} / {account.conta}"


def check_account(account: BeneficiaryAccount) -> list[AccountProblem]:
    return check_digits(account, ACCOUNT_DIGITS)


def nosso_numero_dv(carteira_and_number: np.ndarray) -> np.ndarray:
    """ASCII codes of the check digit: '0'..'9' or 'P'."""
    remainder = mod11_sum_many(carteira_and_number, [2, 3, 4, 5, 6, 7]) % 11
    digit = np.where(remainder == 0, 0, 11 - remainder) + ord("0")
    return np.where(remainder == 1, ord("P"), digit).astype(np.uint8)


def campo_livre(account: BeneficiaryAccount, sequences: np.ndarray) -> CampoLivre:
    rows = checked_rows(sequences, max_sequence)
    carteira, nosso_numero = constant(account.carteira, rows), numbers(sequences, 11)
    digits = np.hstack([constant(account.agencia, rows), carteira, nosso_numero, constant(account.conta, rows),
                        constant("0", rows)])
    dv = nosso_numero_dv(np.hstack([carteira, nosso_numero]))
    return CampoLivre(digits, with_dv(nosso_numero, dv, prefix=f"{account.carteira}/"))
