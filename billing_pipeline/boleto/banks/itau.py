"""Itaú (341). Campo livre: carteira (3) + nosso número (8) + DAC + agência (4) + conta (5) + DAC(agência+conta) + 000.

The nosso número's DAC is módulo 10 of agência + conta + carteira + nosso número, except for the carteiras the
manual lists as "sem registro/escriturais" (126, 131, 146, 150, 168), where it is módulo 10 of carteira + nosso
número only (Itaú, "Cobrança Itaú – Boleto de pagamento", item 5).
"""

from __future__ import annotations

import numpy as np

from billing_pipeline.boleto.account import BeneficiaryAccount
from billing_pipeline.boleto.banks.base import (
    CampoLivre,
    as_ascii,
    check_sequences,
    column,
    constant,
    numbers,
    printed,
    require_digits,
)
from billing_pipeline.boleto.check_digits import mod10, mod10_many

code = "341"
name = "Itaú"
label = "341-7"  # bank code and its check digit, as printed
max_sequence = 10**8 - 1
CARTEIRAS_DAC_WITHOUT_ACCOUNT = frozenset({"126", "131", "146", "150", "168"})


def account_label(account: BeneficiaryAccount) -> str:
    """Agência / código do beneficiário as printed on the boleto."""
    return f"{account.agencia} / {account.conta}-{mod10(account.agencia + account.conta)}"


def check_account(account: BeneficiaryAccount) -> list[str]:
    problems: list[str] = []
    require_digits(problems, "BILLING_AGENCIA", account.agencia, 4)
    require_digits(problems, "BILLING_CONTA", account.conta, 5)
    require_digits(problems, "BILLING_CARTEIRA", account.carteira, 3)
    return problems


def campo_livre(account: BeneficiaryAccount, sequences: np.ndarray) -> CampoLivre:
    check_sequences(sequences, max_sequence)
    rows = len(sequences)
    carteira, nosso_numero = constant(account.carteira, rows), numbers(sequences, 8)
    agencia, conta = constant(account.agencia, rows), constant(account.conta, rows)
    if account.carteira in CARTEIRAS_DAC_WITHOUT_ACCOUNT:
        dac = mod10_many(np.hstack([carteira, nosso_numero]))
    else:
        dac = mod10_many(np.hstack([agencia, conta, carteira, nosso_numero]))
    account_dac = mod10_many(np.hstack([agencia, conta]))
    digits = np.hstack([carteira, nosso_numero, column(dac), agencia, conta, column(account_dac),
                        constant("000", rows)])
    label = printed(f"{account.carteira}/", as_ascii(nosso_numero), "-", as_ascii(dac), rows=rows)
    return CampoLivre(digits, label)
