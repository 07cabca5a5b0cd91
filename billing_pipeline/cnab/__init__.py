"""CNAB 240 cobrança files (FEBRABAN layout v10.x): remessas written for the issuing bank, retornos read back.

`layout` is the FEBRABAN field table, `banks` each bank's differences from it, `remessa` the writer, `reader`
the reader of any CNAB 240 cobrança file, `simulate` a demo bank's retorno (marked SIMULACAO), `codes` the
movement codes and reasons, `text` and `identifiers` the free-text fields and our identifiers in them.
"""

from billing_pipeline.cnab.errors import CnabError, CnabErrorCode
from billing_pipeline.cnab.reader import CnabFile, looks_like_cnab240, read_cnab
from billing_pipeline.cnab.remessa import (
    MAX_TITLES_PER_FILE,
    REMESSA_COLUMNS,
    RemessaWritten,
    write_remessa,
)
from billing_pipeline.cnab.simulate import planned_outcomes, simulate_retorno

__all__ = [
    "MAX_TITLES_PER_FILE",
    "REMESSA_COLUMNS",
    "CnabError",
    "CnabErrorCode",
    "CnabFile",
    "RemessaWritten",
    "looks_like_cnab240",
    "planned_outcomes",
    "read_cnab",
    "simulate_retorno",
    "write_remessa",
]
