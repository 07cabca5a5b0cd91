"""Itaú (341). Campo livre: carteira (3) + nosso número (8) + DAC + agência (4) + conta (5) + DAC(agência+conta) + 000.

The nosso número's DAC is módulo 10 of agência + conta + carteira + nosso número, except for "as carteiras
escriturais e na modalidade direta as carteiras 126, 131, 145, 150 e 168", where it is módulo 10 of carteira +
nosso número only (Itaú, "Cobrança Bancária – Intercâmbio Eletrônico de Arquivos – Layout de Arquivos CNAB 400",
2016-2017 editions, Nota 23). Nota 5 of the same manual lists 112 "Escritural eletrônica – simples" as an
escritural carteira, so 112 is among them, as in brcobranca (lib/brcobranca/util/itau.rb,
CARTEIRAS_SEM_AGENCIA_CONTA) and caelum-stella (Itau.java, carteirasEscriturais). The manual prints 145 where
every library and published vector has 146; 146 is kept. On escritural carteiras (Nota 3) Itaú numbers the
título when it registers it unless the account has a nosso número range of its own.

Carteiras 106, 107, 122, 142, 143, 195, 196 and 198 have another campo livre (carteira + nosso número + seu
número (7) + código do cliente (5) + DAC + 0); this product issues neither, so `check_account` refuses them.

The manual's worked example (agência 0057, conta 12345-7, carteira 110):

>>> from billing_pipeline.boleto.account import BeneficiaryAccount
>>> manual = BeneficiaryAccount("341", "0057", "12345", "110", "", "Beneficiário", "11222333000181")
>>> result = campo_livre(manual, np.array([12345678]))
>>> "".join(map(str, result.digits[0])), str(result.nosso_numero[0]), account_label(manual)
('1101234567880057123457000', '110/12345678-8', '0057 / 12345-7')
"""

from __future__ import annotations

import numpy as np

from billing_pipeline.boleto.account import AccountProblem, BeneficiaryAccount
from billing_pipeline.boleto.banks.base import (
    CampoLivre,
    as_ascii,
    check_digits,
    checked_rows,
    column,
    constant,
    numbers,
    with_dv,
)
from billing_pipeline.boleto.check_digits import mod10, mod10_many

code = "341"
name = "Itaú"
label = "341-7"  # bank code and its check digit, as printed
max_sequence = 10**8 - 1
ACCOUNT_DIGITS = {"agencia": 4, "conta": 5, "carteira": 3}
CARTEIRAS_DAC_WITHOUT_ACCOUNT = frozenset({"112", "126", "131", "146", "150", "168"})
SPECIAL_CARTEIRAS = frozenset({"106", "107", "122", "142", "143", "195", "196", "198"})


def account_label(account: BeneficiaryAccount) -> str:
    """Agência / código do beneficiário as printed on the boleto."""
    return f"{account.agencia} / {account.conta}-{mod10(account.agencia + account.conta)}"


def check_account(account: BeneficiaryAccount) -> list[AccountProblem]:
    """The digit widths of `ACCOUNT_DIGITS`, and no special carteira.

    >>> special = BeneficiaryAccount("341", "0057", "12345", "198", "", "Beneficiário", "11222333000181")
    >>> print(*check_account(special))  # doctest: +ELLIPSIS
    carteira '198' is an Itaú special carteira: its campo livre carries seu número and código do cliente, ...
    """
    problems = check_digits(account, ACCOUNT_DIGITS)
    if account.carteira in SPECIAL_CARTEIRAS:
        problems.append(_special_carteira(account))
    return problems


def _special_carteira(account: BeneficiaryAccount) -> AccountProblem:
    return AccountProblem("carteira", f"{account.carteira!r} is an Itaú special carteira: its campo livre carries "
                                      "seu número and código do cliente, which this product does not issue")


def campo_livre(account: BeneficiaryAccount, sequences: np.ndarray) -> CampoLivre:
    if account.carteira in SPECIAL_CARTEIRAS:
        raise ValueError(str(_special_carteira(account)))
    rows = checked_rows(sequences, max_sequence)
    carteira, nosso_numero = constant(account.carteira, rows), numbers(sequences, 8)
    agencia, conta = constant(account.agencia, rows), constant(account.conta, rows)
    if account.carteira in CARTEIRAS_DAC_WITHOUT_ACCOUNT:
        dac = mod10_many(np.hstack([carteira, nosso_numero]))
    else:
        dac = mod10_many(np.hstack([agencia, conta, carteira, nosso_numero]))
    account_dac = mod10_many(np.hstack([agencia, conta]))
    digits = np.hstack([carteira, nosso_numero, column(dac), agencia, conta, column(account_dac),
                        constant("000", rows)])
    return CampoLivre(digits, with_dv(nosso_numero, as_ascii(dac), prefix=f"{account.carteira}/"))
