"""Itaú (341): what differs from the FEBRABAN table.

Itaú, "Cobrança – Layout de arquivos FEBRABAN 240" (header 040, lote 030), as brcobranca writes it
(lib/brcobranca/remessa/cnab240/itau.rb, with the manual's positions in its comments) and as Trust-Code's
python-cnab fixtures carry it:

- no convênio; the account is 0 + agência (4) + blank + zeros (7) + conta (5) + blank + DAC of agência/conta
  (módulo 10), at header arquivo 53-72, header lote 54-73 and P 18-37; header arquivo 172-225 blanks, 226-228
  zeros;
- P 38-40 carteira, 41-48 nosso número (8), 49 its DAC (as on the boleto), 50-57 blanks, 58-62 zeros, 63-72 seu
  número (10), 73-77 blanks; espécie 01 = duplicata mercantil (Itaú's own table); 118 zero; 221 protesto 3 (não
  protestar), 224 baixa 0 and 225-226 prazo (2), 227-239 zeros;
- Q 34-63 nome do pagador (30) + 10 blanks; 170-199 sacador/avalista (30) + 10 blanks;
- no código de juros (118) nor de desconto (142), both zero: P 127-141 is the juros as a value a day, and 151-165
  the first discount as a value, both in reais with 2 decimals, from 119-126 and until 143-150 (brcobranca's
  itau.rb, "valor de mora por dia de atraso", "valor do 1o desconto").
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from billing_pipeline.boleto.account import BeneficiaryAccount
from billing_pipeline.boleto.banks.itau import campo_livre
from billing_pipeline.boleto.check_digits import mod10
from billing_pipeline.cnab.banks.generic import agencia_text, ascii_block, digits_where, strip_zeros
from billing_pipeline.cnab.layout import Field, Overrides

code = "341"
name = "BANCO ITAU SA"
INTEREST_AS_DAILY_VALUE = True
DISCOUNT_AS_VALUE = True
FILE_VERSION = "040"
LOTE_VERSION = "030"
WRITES = True
LOTE_TRAILER_COUNTS_DETAILS = False


def _n(name: str, start: int, end: int, default: str | None = None) -> Field:
    return Field(name, start, end, "numeric", default)


def _a(name: str, start: int, end: int, default: str | None = None) -> Field:
    return Field(name, start, end, "alpha", default)


def _account_fields(start: int) -> tuple[Field, ...]:
    """0 + agência + blank + 7 zeros + conta + blank + DAC, from column `start`."""
    return (_n("zero_account", start, start), _n("agencia", start + 1, start + 4), _a("blank_1", start + 5, start + 5),
            _n("zeros_account", start + 6, start + 12), _n("conta", start + 13, start + 17),
            _a("blank_2", start + 18, start + 18), _a("agencia_conta_dv", start + 19, start + 19))


OVERRIDES: Overrides = {
    "header_arquivo": (_a("convenio", 33, 52), *_account_fields(53), _a("cnab_172", 172, 225),
                       _n("zeros_226", 226, 228), _a("cnab_229", 229, 240)),
    "header_lote": (_n("zeros_12", 12, 13), _a("convenio", 34, 53), *_account_fields(54)),
    "P": (*_account_fields(18), _a("nosso_numero", 38, 57), _n("zeros_58", 58, 62), _a("document_number", 63, 72),
          _a("cnab_73", 73, 77), _n("species", 107, 108, "01"), _n("interest_code", 118, 118, "0"),
          _n("discount_code", 142, 142, "0"),
          _n("write_off_code", 224, 224, "0"), _n("write_off_days", 225, 226), _n("zeros_227", 227, 239)),
    "Q": (_a("payer_name", 34, 63), _a("cnab_64", 64, 73), _a("guarantor_name", 170, 199), _a("cnab_200", 200, 209),
          _n("correspondent_bank", 210, 212), _a("cnab_213", 213, 240)),
}


def account_fields(account: BeneficiaryAccount) -> dict[str, dict[str, str]]:
    bank_account = {"agencia": account.agencia, "conta": account.conta,
                    "agencia_conta_dv": str(mod10(account.agencia + account.conta))}
    return {"header_arquivo": bank_account, "header_lote": bank_account, "P": bank_account}


def nosso_numero(account: BeneficiaryAccount, sequences: np.ndarray) -> np.ndarray:
    digits = campo_livre(account, np.asarray(sequences, dtype=np.int64)).digits  # carteira 3 + number 8 + DAC
    return ascii_block(digits[:, :12] + 48, " " * 8, rows=len(sequences))


def sequences(block: np.ndarray, segment: str) -> tuple[np.ndarray, np.ndarray]:
    if block.shape[1] != 20:
        return np.zeros(len(block), np.int64), np.zeros(len(block), bool)
    return digits_where(block, slice(3, 11))


def header_account(fields: Mapping[str, str]) -> tuple[str, str, str]:
    return agencia_text(fields.get("agencia", "")), strip_zeros(fields.get("conta", "")), \
        strip_zeros(fields.get("convenio", ""))
