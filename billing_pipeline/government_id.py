"""CPF / CNPJ (including the July-2026 alphanumeric CNPJ): normalise and validate.

The check-digit rules are python-stdnum's; this module only normalises the punctuation people type and applies
the configured policy to a whole column at once, calling the library once per distinct value.

A CPF, a CNPJ and an alphanumeric CNPJ (the Receita Federal's example), typed with punctuation:

>>> [normalise(v) for v in ("529.982.247-25", "11.222.333/0001-81", "12.abc.345/01de-35")]
['52998224725', '11222333000181', '12ABC34501DE35']
>>> [kind(v) for v in ("52998224725", "11222333000181", "12ABC34501DE35", "52998224724", "11111111111")]
['cpf', 'cnpj', 'cnpj', None, None]
>>> [mask(v) for v in ("52998224725", "11222333000181", "12ABC34501DE35")]
['***.982.247-**', '11.222.333/0001-81', '12.ABC.345/01DE-35']
"""

from __future__ import annotations

import re

import pandas as pd
from stdnum.br import cnpj, cpf

_PUNCTUATION = re.compile(r"[\s./\-]")
_LENIENT = re.compile(r"[0-9]{1,14}")


def normalise(value: str) -> str:
    """`123.456.789-09` -> `12345678909`; `12.abc.345/01de-35` -> `12ABC34501DE35`."""
    return _PUNCTUATION.sub("", value).upper()


def normalise_series(values: pd.Series) -> pd.Series:
    return values.str.replace(_PUNCTUATION.pattern, "", regex=True).str.upper()


def kind(normalised: str) -> str | None:
    """'cpf', 'cnpj' or None for a normalised id whose check digits verify."""
    if len(set(normalised)) == 1:  # 000.000.000-00 ... 999.999.999-99 pass the arithmetic but are never issued
        return None
    if len(normalised) == 11 and cpf.is_valid(normalised):
        return "cpf"
    if len(normalised) == 14 and cnpj.is_valid(normalised):
        return "cnpj"
    return None


def is_valid(normalised: str, policy: str) -> bool:
    """'strict': a CPF or CNPJ whose check digits verify; 'lenient': 1 to 14 digits, whatever they are.

    >>> is_valid("52998224724", "strict"), is_valid("52998224724", "lenient"), is_valid("12ABC34501DE35", "lenient")
    (False, True, False)
    """
    if policy == "lenient":
        return _LENIENT.fullmatch(normalised) is not None
    return kind(normalised) is not None


def valid_mask(normalised: pd.Series, policy: str) -> pd.Series:
    """Vectorised over a column: the library runs once per distinct value, not once per row.

    >>> valid_mask(pd.Series(["52998224725", "12ABC34501DE35", "52998224724", "52998224725"]), "strict").tolist()
    [True, True, False, True]
    """
    if policy == "lenient":
        return normalised.str.fullmatch(_LENIENT.pattern).fillna(False).astype(bool)
    verdicts = {value: kind(value) is not None for value in normalised.unique()}
    return normalised.map(verdicts).astype(bool)


def mask(normalised: str) -> str:
    """The masked form printed on documents: CPF `***.982.247-**`, CNPJ shown whole (it is public)."""
    if len(normalised) == 11:
        return f"***.{normalised[3:6]}.{normalised[6:9]}-**"
    if len(normalised) == 14:
        return f"{normalised[:2]}.{normalised[2:5]}.{normalised[5:8]}/{normalised[8:12]}-{normalised[12:]}"
    return "*" * max(len(normalised) - 2, 0) + normalised[-2:]
