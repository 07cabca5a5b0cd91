"""Banco do Brasil (001), convênio of 7 digits, carteira 17/18: what differs from the FEBRABAN table.

BB, "Layout de Arquivo Padrão CNAB 240 – Cobrança" (versão 08.3: header 083, lote 042), as brcobranca
(lib/brcobranca/remessa/cnab240/banco_brasil.rb) and laravel-boleto (src/Cnab/Remessa/Cnab240/Banco/Bb.php)
write it:

- convênio field (header arquivo 33-52, header lote 34-53): convênio (9, zero-filled) + "0014" (cobrança
  cedente) + carteira (2) + variação da carteira (3) + 2 blanks;
- P 38-57, identificação do título: the 17-digit nosso número (convênio 7 + sequence 10, no DV for a 7-digit
  convênio, as on the boleto), left-aligned;
- P 58 código da carteira: 7 for carteira 17 "modalidade simples", 1 otherwise; 224 código para baixa: 0 (BB:
  "campo não tratado");
- agência and conta DVs: módulo 11, weights 2..9, 10 -> X.

The variação da carteira is not an attribute of BeneficiaryAccount: `VARIACAO` (019, the usual one of carteira 17)
is written until the account carries its own.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from billing_pipeline.boleto.account import BeneficiaryAccount
from billing_pipeline.cnab.banks.generic import agencia_text, ascii_block, digits_where, mod11_dv, strip_zeros
from billing_pipeline.cnab.layout import Field, Overrides, digit_matrix

code = "001"
name = "BANCO DO BRASIL S.A."
FILE_VERSION = "083"
LOTE_VERSION = "042"
WRITES = True
LOTE_TRAILER_COUNTS_DETAILS = False
VARIACAO = "019"

OVERRIDES: Overrides = {
    "P": (Field("write_off_code", 224, 224, "numeric", "0"),),
}


def _convenio(account: BeneficiaryAccount) -> str:
    return f"{account.convenio:0>9}0014{account.carteira:0>2}{VARIACAO}  "


def account_fields(account: BeneficiaryAccount) -> dict[str, dict[str, str]]:
    agencia, conta = f"{account.agencia:0>5}", f"{account.conta:0>12}"
    bank_account = {"agencia": agencia, "agencia_dv": mod11_dv(agencia, "X"), "conta": conta,
                    "conta_dv": mod11_dv(conta, "X"), "agencia_conta_dv": " "}
    return {
        "header_arquivo": {**bank_account, "convenio": _convenio(account)},
        "header_lote": {**bank_account, "convenio": _convenio(account)},
        "P": {**bank_account, "carteira_code": "7" if account.carteira == "17" else "1"},
    }


def nosso_numero(account: BeneficiaryAccount, sequences: np.ndarray) -> np.ndarray:
    rows = len(sequences)
    return ascii_block(account.convenio, digit_matrix(sequences, 10), "   ", rows=rows)


def sequences(block: np.ndarray, segment: str) -> tuple[np.ndarray, np.ndarray]:
    return digits_where(block, slice(7, 17), blank=slice(17, 20)) if block.shape[1] == 20 else \
        (np.zeros(len(block), np.int64), np.zeros(len(block), bool))


def header_account(fields: Mapping[str, str]) -> tuple[str, str, str]:
    return agencia_text(fields.get("agencia", "")), strip_zeros(fields.get("conta", "")), \
        strip_zeros(fields.get("convenio", "")[:9])
