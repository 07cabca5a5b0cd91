"""Caixa Econômica Federal (104), SIGCB.

Nosso número: 17 digits, "1" (cobrança registrada) + "4" (emitido pelo beneficiário) + sequence (15).
Campo livre: código do beneficiário (6) + its DV + nosso número 3-5 + constante 1 + nosso número 6-8 + constante 2 +
nosso número 9-17 + DV of those 24 digits. Both DVs are módulo 11 (weights 2..9), 11 - remainder, above 9 -> 0
(CAIXA, "Leiaute de arquivo eletrônico padrão CNAB 240 / SIGCB", código de barras).
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
from billing_pipeline.boleto.check_digits import mod11_zero_many, string_digits

code = "104"
name = "Caixa Econômica Federal"
label = "104-0"  # bank code and its check digit, as printed
max_sequence = 10**15 - 1
ACCOUNT_DIGITS = {"convenio": 6, "agencia": 4}
MODALIDADE_REGISTRADA = "1"
EMISSAO_BENEFICIARIO = "4"


def account_label(account: BeneficiaryAccount) -> str:
    """Agência / código do beneficiário as printed on the boleto."""
    return f"{account.agencia} / {account.convenio}-{int(mod11_zero_many(string_digits(account.convenio))[0])}"


def check_account(account: BeneficiaryAccount) -> list[AccountProblem]:
    return check_digits(account, ACCOUNT_DIGITS, BENEFICIARY_CODE)


def campo_livre(account: BeneficiaryAccount, sequences: np.ndarray) -> CampoLivre:
    rows = checked_rows(sequences, max_sequence)
    beneficiary = constant(account.convenio, rows)
    nosso_numero = np.hstack([constant(MODALIDADE_REGISTRADA + EMISSAO_BENEFICIARIO, rows), numbers(sequences, 15)])
    body = np.hstack([
        beneficiary, column(mod11_zero_many(beneficiary)),
        nosso_numero[:, 2:5], nosso_numero[:, 0:1],
        nosso_numero[:, 5:8], nosso_numero[:, 1:2],
        nosso_numero[:, 8:17],
    ])
    digits = np.hstack([body, column(mod11_zero_many(body))])
    return CampoLivre(digits, with_dv(nosso_numero, as_ascii(mod11_zero_many(nosso_numero))))
