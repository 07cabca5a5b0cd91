"""Caixa Econômica Federal (104), SIGCB, código do beneficiário of 6 digits: what differs from the FEBRABAN table.

CAIXA, "Leiaute de Arquivo Eletrônico Padrão CNAB 240 – Cobrança Bancária CAIXA – SIGCB" (the 6-digit código
do beneficiário layout, header 050, lote 030, as brcobranca's lib/brcobranca/remessa/cnab240/caixa.rb writes it;
laravel-boleto's Caixa.php writes the later 7-digit layout 101/060):

- header arquivo 33-52 zeros, 53-57 agência + DV, 59-64 código do beneficiário, 65-72 zeros; 192-211
  "REMESSA-PRODUCAO" (a retorno says RETORNO-PRODUCAO);
- header lote 34-39 código do beneficiário, 40-53 zeros, 54-58 agência + DV, 60-65 código, 66-73 zeros;
- P 24-29 código do beneficiário, 30-40 zeros, 41-42 modalidade 14 (registrada, emitida pelo beneficiário),
  43-57 the 15-digit sequence: the 17-digit nosso número of the boleto without its DV; 63-73 seu número (11),
  74-77 blanks; 60 tipo de documento 2, 62 distribuição 0 (postagem pelo beneficiário); 224 baixa 1 = baixar /
  devolver after `WRITE_OFF_DAYS`;
- T 40-56 the 17-digit nosso número (brcobranca retorno/cnab240/caixa.rb reads 40-56);
- the agência DV is módulo 11 of the 5-digit agência (laravel-boleto CalculoDV::cefAgencia).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from billing_pipeline.boleto.account import BeneficiaryAccount
from billing_pipeline.cnab.banks.generic import agencia_text, digits_where, mod11_dv, strip_zeros
from billing_pipeline.cnab.layout import Field, Overrides, digit_matrix

code = "104"
name = "CAIXA ECONOMICA FEDERAL"
FILE_VERSION = "050"
LOTE_VERSION = "030"
WRITES = True
LOTE_TRAILER_COUNTS_DETAILS = False
MODALIDADE = 14
WRITE_OFF_DAYS = "060"


def _n(name: str, start: int, end: int, default: str | None = None) -> Field:
    return Field(name, start, end, "numeric", default)


def _a(name: str, start: int, end: int, default: str | None = None) -> Field:
    return Field(name, start, end, "alpha", default)


OVERRIDES: Overrides = {
    "header_arquivo": (_n("caixa_33", 33, 52), _n("agencia", 53, 57), _a("agencia_dv", 58, 58),
                       _n("convenio", 59, 64), _n("caixa_65", 65, 72), _a("company_reserved", 192, 211,
                                                                          "REMESSA-PRODUCAO")),
    "header_arquivo_retorno": (_n("caixa_33", 33, 52), _n("agencia", 53, 57), _a("agencia_dv", 58, 58),
                               _n("convenio", 59, 64), _n("caixa_65", 65, 72),
                               _a("company_reserved", 192, 211, "RETORNO-PRODUCAO")),
    "header_lote": (_n("zeros_12", 12, 13), _n("convenio", 34, 39), _n("caixa_40", 40, 53), _n("agencia", 54, 58), _a("agencia_dv", 59, 59),
                    _n("beneficiary_code", 60, 65), _n("caixa_66", 66, 73)),
    "P": (_n("agencia", 18, 22), _a("agencia_dv", 23, 23), _n("beneficiary_code", 24, 29), _n("caixa_30", 30, 37),
          _n("nosso_numero", 38, 57), _a("document_type", 60, 60, "2"), _a("distribution", 62, 62, "0"),
          _a("document_number", 63, 73), _a("cnab_74", 74, 77), _n("write_off_code", 224, 224, "1"),
          _n("write_off_days", 225, 227, WRITE_OFF_DAYS)),
    "T": (_a("nosso_numero", 40, 56),),
    "trailer_lote": (_a("cnab_93", 93, 123),),
}


def account_fields(account: BeneficiaryAccount) -> dict[str, dict[str, str]]:
    agencia = f"{account.agencia:0>5}"
    bank_account = {"agencia": agencia, "agencia_dv": mod11_dv(agencia, "0")}
    return {
        "header_arquivo": {**bank_account, "convenio": account.convenio},
        "header_lote": {**bank_account, "convenio": account.convenio, "beneficiary_code": account.convenio},
        "P": {**bank_account, "beneficiary_code": account.convenio},
    }


def nosso_numero(account: BeneficiaryAccount, sequences: np.ndarray) -> np.ndarray:
    return digit_matrix(MODALIDADE * 10**15 + np.asarray(sequences, dtype=np.int64), 20)


def sequences(block: np.ndarray, segment: str) -> tuple[np.ndarray, np.ndarray]:
    """The 15 digits after the modalidade: the last 17 of P 38-57, or T 40-56."""
    if block.shape[1] not in (17, 20):
        return np.zeros(len(block), np.int64), np.zeros(len(block), bool)
    start = block.shape[1] - 17
    values, valid = digits_where(block, slice(start + 2, start + 17))
    return values, valid & (block[:, start:start + 2] != ord(" ")).all(axis=1)


def header_account(fields: Mapping[str, str]) -> tuple[str, str, str]:
    return agencia_text(fields.get("agencia", "")), "", strip_zeros(fields.get("convenio", ""))
