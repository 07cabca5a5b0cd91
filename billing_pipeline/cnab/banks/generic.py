"""The FEBRABAN layout as it stands, for banks we only read (Sicredi 748, Sicoob 756, any other): no overrides,
and no sequence read back from the nosso número, whose composition is the bank's own.

Also the helpers the bank modules share: check digits of agência and conta, and reading digits out of a nosso
número field.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from billing_pipeline.boleto.account import BeneficiaryAccount
from billing_pipeline.cnab.layout import Overrides, read_digits

code = ""
name = ""
FILE_VERSION = "000"
LOTE_VERSION = "000"
OVERRIDES: Overrides = {}
WRITES = False
LOTE_TRAILER_COUNTS_DETAILS = False


def sequences(block: np.ndarray, segment: str) -> tuple[np.ndarray, np.ndarray]:
    """Sequence numbers and where they are valid; for an unknown layout, nowhere."""
    return np.zeros(len(block), dtype=np.int64), np.zeros(len(block), dtype=bool)


def header_account(fields: Mapping[str, str]) -> tuple[str, str, str]:
    """(agência, conta, convênio) from the header arquivo's fields as read: agência as 4 digits (or what is
    there), conta and convênio without leading zeros and blanks."""
    return agencia_text(fields.get("agencia", "")), strip_zeros(fields.get("conta", "")), \
        strip_zeros(fields.get("convenio", ""))


def account_fields(account: BeneficiaryAccount) -> dict[str, dict[str, str]]:
    raise ValueError("this bank's CNAB 240 remessa is not written by Smart Billing")


def nosso_numero(account: BeneficiaryAccount, sequences: np.ndarray) -> np.ndarray:
    raise ValueError("this bank's CNAB 240 remessa is not written by Smart Billing")


# --- shared helpers ---------------------------------------------------------------------------------------------

def strip_zeros(text: str) -> str:
    return text.strip().lstrip("0")


def agencia_text(text: str) -> str:
    text = text.strip()
    return text.lstrip("0").zfill(4) if text.isdigit() else text


def mod11_dv(number: str, ten: str, eleven: str = "0") -> str:
    """Módulo 11, weights 2..9 from the right, DV = 11 - remainder; 10 and 11 become `ten` and `eleven`.

    >>> mod11_dv("1234", "X"), mod11_dv("000000012345", "X")  # agência 1234-3, conta 12345-5
    ('3', '5')
    """
    weights = [2 + i % 8 for i in range(len(number))]
    total = sum(int(d) * w for d, w in zip(reversed(number), weights, strict=True))
    dv = 11 - total % 11
    return ten if dv == 10 else eleven if dv == 11 else str(dv)


def digits_where(block: np.ndarray, digits: slice, blank: slice | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The number in columns `digits` of each row, valid where they are all digits (and `blank` all blanks)."""
    values, valid = read_digits(block[:, digits])
    if blank is not None:
        valid &= (block[:, blank] == ord(" ")).all(axis=1)
    return values, valid


def ascii_block(*parts: str | np.ndarray, rows: int) -> np.ndarray:
    """Literal text and (n, k) byte matrices side by side: the bytes of a composed field."""
    blocks = [np.repeat(np.frombuffer(p.encode("latin-1"), dtype=np.uint8)[None, :], rows, axis=0)
              if isinstance(p, str) else np.asarray(p, dtype=np.uint8) for p in parts]
    return np.hstack(blocks)
