"""Santander (033): what differs from the FEBRABAN table.

Santander, "Layout de Arquivos – Padrão FEBRABAN 240 posições – Cobrança" (header 040, lote 030), as written by
brcobranca (lib/brcobranca/remessa/cnab240/santander.rb) and laravel-boleto (Remessa/Cnab240/Banco/Santander.php),
and read by brcobranca (retorno/cnab240/santander.rb):

- remessa headers carry the código de transmissão (15: agência 4 + "0000" + código do beneficiário 7) at header
  arquivo 33-47 / header lote 54-68, not agência and conta; the header arquivo's inscrição starts at 17 (15
  digits), and 152-157 (time) and 167-240 are blanks;
- the retorno headers carry agência/DV/conta/DV at 33-47 and the código do beneficiário (9) at 53-61 (header
  arquivo), or the code at 34-42 and the account at 54-68 (header lote);
- P: agência 4 + DV, conta 9 + DV, conta cobrança 9 + DV, nosso número 45-57 (12 + DV módulo 11, as on the
  boleto); 58 tipo de cobrança 5 (rápida com registro) for carteiras up to 200, else 1; 101-104 agência
  cobradora; 221 protesto 0 = não protestar (Santander's 3 means "perfil do beneficiário"); 224 baixa 2 = não
  baixar, 225 zero, 226-227 prazo; moeda 00;
- juros as a taxa mensal (código 2) carry the rate with 5 decimals at P 127-141 (brcobranca's santander.rb
  valor_mora), not FEBRABAN's 2; R, sent only for a title with a multa, has 42-65 (desconto 3) and 180-240
  blank;
- T is shifted: nosso número 41-53, carteira 54, seu número 55-69, vencimento 70-77, valor 78-92, uso da empresa
  101-125, pagador 128-183, tarifa 194-208, motivos 209-218;
- the lote trailer's "quantidade de registros" of a retorno counts only the detail lines.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from billing_pipeline.boleto.account import BeneficiaryAccount
from billing_pipeline.boleto.check_digits import mod11_zero_many
from billing_pipeline.cnab.banks.generic import agencia_text, ascii_block, digits_where, strip_zeros
from billing_pipeline.cnab.layout import Field, Overrides, digit_matrix

code = "033"
name = "BANCO SANTANDER"
FILE_VERSION = "040"
LOTE_VERSION = "030"
WRITES = True
LOTE_TRAILER_COUNTS_DETAILS = True
INTEREST_RATE_DECIMALS = 5


def _n(name: str, start: int, end: int, default: str | None = None) -> Field:
    return Field(name, start, end, "numeric", default)


def _a(name: str, start: int, end: int, default: str | None = None) -> Field:
    return Field(name, start, end, "alpha", default)


_HEADER_ARQUIVO_COMMON = (_a("cnab_9", 9, 16), _n("company_document_type", 17, 17), _n("company_document", 18, 32),
                          _a("reserved_152", 152, 157), _a("cnab_167", 167, 240))

OVERRIDES: Overrides = {
    "header_arquivo": (*_HEADER_ARQUIVO_COMMON, _n("convenio", 33, 47), _a("cnab_48", 48, 72)),
    "header_arquivo_retorno": (*_HEADER_ARQUIVO_COMMON, _n("agencia", 33, 36), _a("agencia_dv", 37, 37),
                               _n("conta", 38, 46), _a("conta_dv", 47, 47), _a("cnab_48", 48, 52),
                               _n("convenio", 53, 61), _a("cnab_62", 62, 72)),
    "header_lote": (_a("cnab_34", 34, 53), _n("convenio", 54, 68), _a("cnab_69", 69, 73)),
    "header_lote_retorno": (_n("convenio", 34, 42), _a("cnab_43", 43, 53), _n("agencia", 54, 57),
                            _a("agencia_dv", 58, 58), _n("conta", 59, 67), _a("conta_dv", 68, 68),
                            _a("cnab_69", 69, 73)),
    "P": (_n("agencia", 18, 21), _a("agencia_dv", 22, 22), _n("conta", 23, 31), _a("conta_dv", 32, 32),
          _n("collection_account", 33, 41), _a("collection_account_dv", 42, 42), _a("cnab_43", 43, 44),
          # 61-62 (emissão, distribuição) are not used by Santander: blank (brcobranca, laravel-boleto).
          _n("nosso_numero", 45, 57), _a("document_type", 60, 60, "2"), _a("issuance", 61, 61),
          _a("distribution", 62, 62), _n("collecting_agencia", 101, 104),
          _n("collecting_agencia_dv", 105, 105), _a("cnab_106", 106, 106), _n("protest_code", 221, 221, "0"),
          _n("write_off_code", 224, 224, "2"), _n("zero_225", 225, 225), _n("write_off_days", 226, 227),
          _n("currency", 228, 229, "00"), _a("cnab_230", 230, 240)),
    "Q": (_n("santander_reserved", 210, 221), _a("cnab_222", 222, 240)),
    "R": (_a("santander_42", 42, 65), _a("santander_180", 180, 240)),
    "T": (_n("agencia", 18, 21), _a("agencia_dv", 22, 22), _n("conta", 23, 31), _a("conta_dv", 32, 32),
          _a("cnab_33", 33, 40), _a("nosso_numero", 41, 53), _n("carteira_code", 54, 54),
          _a("document_number", 55, 69), _n("due_date", 70, 77), _n("amount", 78, 92),
          _n("collecting_bank", 93, 95), _n("collecting_agencia", 96, 99), _a("collecting_agencia_dv", 100, 100),
          _a("company_use", 101, 125), _n("currency", 126, 127), _n("payer_document_type", 128, 128),
          _a("payer_document", 129, 143), _a("payer_name", 144, 183), _a("contract", 184, 193),
          _n("fee", 194, 208), _a("reasons", 209, 218), _a("cnab_219", 219, 240)),
    "trailer_lote": (_a("cnab_24", 24, 240),),
    "trailer_arquivo": (_a("cnab_30", 30, 240),),
}


def conta_dv(agencia: str, conta: str) -> str:
    """Santander's conta DV: agência (4) + 00 + conta (8), weights 97310097131973, units of the products summed,
    10 - the sum's unit (0 stays 0) (laravel-boleto CalculoDV::santanderContaCorrente).

    >>> conta_dv("0001", "13001234")
    '7'
    """
    number = f"{agencia:0>4}00{conta[-8:]:0>8}"
    total = sum(int(d) * int(w) % 10 for d, w in zip(number, "97310097131973", strict=True))
    return str((10 - total % 10) % 10)


def transmission_code(account: BeneficiaryAccount) -> str:
    return f"{account.agencia:0>4}0000{account.convenio:0>7}"


def account_fields(account: BeneficiaryAccount) -> dict[str, dict[str, str]]:
    conta = f"{account.conta[-9:]:0>9}"
    dv = conta_dv(account.agencia, conta)
    kind = "1" if account.carteira.isdigit() and int(account.carteira) > 200 else "5"
    return {
        "header_arquivo": {"convenio": transmission_code(account)},
        "header_lote": {"convenio": transmission_code(account)},
        "P": {"agencia": f"{account.agencia:0>4}", "agencia_dv": "0", "conta": conta, "conta_dv": dv,
              "collection_account": conta, "collection_account_dv": dv, "carteira_code": kind},
    }


def nosso_numero(account: BeneficiaryAccount, sequences: np.ndarray) -> np.ndarray:
    number = digit_matrix(sequences, 12) - 48
    return ascii_block(number + 48, mod11_zero_many(number)[:, None] + 48, rows=len(sequences))


def sequences(block: np.ndarray, segment: str) -> tuple[np.ndarray, np.ndarray]:
    if block.shape[1] != 13:
        return np.zeros(len(block), np.int64), np.zeros(len(block), bool)
    values, valid = digits_where(block, slice(0, 13))
    number = np.where(valid[:, None], block[:, :12].astype(np.int64) - 48, 0)
    valid &= mod11_zero_many(number) == values % 10
    return values // 10, valid


def header_account(fields: Mapping[str, str]) -> tuple[str, str, str]:
    convenio = fields.get("convenio", "").strip()
    if len(convenio) == 15 and not fields.get("agencia"):  # remessa: the código de transmissão
        return agencia_text(convenio[:4]), "", strip_zeros(convenio[8:])
    return agencia_text(fields.get("agencia", "")), strip_zeros(fields.get("conta", "")), strip_zeros(convenio)
