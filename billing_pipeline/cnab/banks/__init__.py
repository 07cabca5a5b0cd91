"""One module per bank: its differences from the FEBRABAN table, its nosso número field, and how to read the
sequence back. `CNAB_BANKS` maps the bank code to the module; `bank_module` falls back to the generic layout
(Sicredi 748, Sicoob 756 and any other bank are read, not written)."""

from __future__ import annotations

from types import ModuleType

from billing_pipeline.cnab.banks import banco_do_brasil, bradesco, caixa, generic, itau, santander

CNAB_BANKS: dict[str, ModuleType] = {m.code: m for m in (banco_do_brasil, santander, caixa, bradesco, itau)}

READ_ONLY_NAMES = {"748": "SICREDI", "756": "SICOOB"}


def bank_module(bank_code: str) -> ModuleType:
    return CNAB_BANKS.get(bank_code, generic)
