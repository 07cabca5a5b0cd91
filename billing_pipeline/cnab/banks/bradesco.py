"""Bradesco (237): what differs from the FEBRABAN table.

Bradesco, "Layout Arquivo Padrão CNAB 240 – Cobrança" (header 084, lote 042), as laravel-boleto writes it
(src/Cnab/Remessa/Cnab240/Banco/Bradesco.php):

- código do convênio (header arquivo 33-52, header lote 34-53, numeric): the account's convênio when it has one,
  else carteira (4) + agência (5) + conta (7) + conta DV, zero-filled to 20 (laravel-boleto's código do cliente);
- P 38-40 carteira (3), 41-45 zeros, 46-56 nosso número (11), 57 its DV (módulo 11 base 7 of carteira + number,
  0..9 or P, as printed on the boleto); 224 baixa 2 (não baixar: Bradesco does not treat it);
- agência and conta DVs: módulo 11, weights 2..9, 10 -> P; density 01600.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from billing_pipeline.boleto.account import BeneficiaryAccount
from billing_pipeline.boleto.banks.bradesco import nosso_numero_dv
from billing_pipeline.cnab.banks.generic import agencia_text, ascii_block, digits_where, mod11_dv, strip_zeros
from billing_pipeline.cnab.layout import Field, Overrides, digit_matrix

code = "237"
name = "BRADESCO"
FILE_VERSION = "084"
LOTE_VERSION = "042"
WRITES = True
LOTE_TRAILER_COUNTS_DETAILS = False

OVERRIDES: Overrides = {
    "header_arquivo": (Field("convenio", 33, 52, "numeric"), Field("density", 167, 171, "numeric", "01600")),
    "header_lote": (Field("convenio", 34, 53, "numeric"),),
}


def _convenio(account: BeneficiaryAccount) -> str:
    if account.convenio:
        return account.convenio
    return f"{account.carteira:0>4}{account.agencia:0>5}{account.conta:0>7}{mod11_dv(account.conta, 'P')}"


def account_fields(account: BeneficiaryAccount) -> dict[str, dict[str, str]]:
    agencia, conta = f"{account.agencia:0>5}", f"{account.conta:0>12}"
    bank_account = {"agencia": agencia, "agencia_dv": mod11_dv(agencia, "P"), "conta": conta,
                    "conta_dv": mod11_dv(conta, "P"), "agencia_conta_dv": " "}
    return {
        "header_arquivo": {**bank_account, "convenio": _convenio(account)},
        "header_lote": {**bank_account, "convenio": _convenio(account)},
        "P": bank_account,
    }


def nosso_numero(account: BeneficiaryAccount, sequences: np.ndarray) -> np.ndarray:
    rows = len(sequences)
    number = digit_matrix(sequences, 11)
    carteira = np.repeat(np.frombuffer(account.carteira.encode(), dtype=np.uint8)[None, :] - 48, rows, axis=0)
    dv = nosso_numero_dv(np.hstack([carteira, number - 48]))
    return ascii_block(f"{account.carteira:0>3}00000", number, dv[:, None], rows=rows)


def sequences(block: np.ndarray, segment: str) -> tuple[np.ndarray, np.ndarray]:
    if block.shape[1] != 20:
        return np.zeros(len(block), np.int64), np.zeros(len(block), bool)
    return digits_where(block, slice(8, 19))


def header_account(fields: Mapping[str, str]) -> tuple[str, str, str]:
    return agencia_text(fields.get("agencia", "")), strip_zeros(fields.get("conta", "")), \
        strip_zeros(fields.get("convenio", ""))
