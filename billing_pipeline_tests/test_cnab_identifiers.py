"""Seu número and uso da empresa: the identifiers a remessa gives a title and a retorno brings back."""

from __future__ import annotations

import doctest
import time
import uuid

import numpy as np
import pandas as pd
import pytest

from billing_pipeline.cnab import identifiers, text
from billing_pipeline.cnab.identifiers import company_use, debt_ids_from_company_use, seu_numero
from billing_pipeline.cnab.text import cnab_text, cnab_text_one

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def reference_company_use(debt_id: str) -> str:
    number = uuid.UUID(debt_id).int
    digits = []
    for _ in range(25):
        number, digit = divmod(number, 36)
        digits.append(ALPHABET[digit])
    assert number == 0
    return "".join(reversed(digits))


def test_doctests() -> None:
    assert doctest.testmod(identifiers).failed == 0
    assert doctest.testmod(text).failed == 0


def test_company_use_matches_a_python_int_reference() -> None:
    rng = np.random.default_rng(17)
    ids = [str(uuid.UUID(bytes=rng.bytes(16))) for _ in range(5000)]
    ids += [str(uuid.UUID(int=0)), str(uuid.UUID(int=2**128 - 1)), str(uuid.UUID(int=1)),
            str(uuid.UUID(int=2**64)), str(uuid.UUID(int=2**96 - 1)), str(uuid.UUID(int=36**24))]
    values = company_use(ids)
    assert values.tolist() == [reference_company_use(debt_id) for debt_id in ids]
    assert all(len(value) == 25 and value.isupper() or value.isdigit() for value in values)
    assert debt_ids_from_company_use(values).tolist() == ids


def test_extremes() -> None:
    assert company_use([str(uuid.UUID(int=0))]).tolist() == ["0" * 25]
    top = company_use([str(uuid.UUID(int=2**128 - 1))])[0]
    assert int(top, 36) == 2**128 - 1
    assert debt_ids_from_company_use([top]).tolist() == ["ffffffff-ffff-ffff-ffff-ffffffffffff"]
    # 2**128 itself is 25 base-36 characters but no UUID.
    beyond = np.base_repr(2**128, 36) if False else reference_big(2**128)
    assert debt_ids_from_company_use([beyond, "Z" * 25]).tolist() == [None, None]


def reference_big(number: int) -> str:
    digits = []
    while number:
        number, digit = divmod(number, 36)
        digits.append(ALPHABET[digit])
    return "".join(reversed(digits)).rjust(25, "0")


def test_inputs() -> None:
    debt_id = uuid.uuid4()
    assert company_use([debt_id]).tolist() == company_use([str(debt_id)]).tolist()
    assert company_use([str(debt_id).upper()]).tolist() == company_use([str(debt_id)]).tolist()
    assert company_use(pd.Series([str(debt_id)])).tolist() == company_use([str(debt_id)]).tolist()
    assert company_use([]).tolist() == []
    assert debt_ids_from_company_use([]).tolist() == []


@pytest.mark.parametrize(
    "bad",
    ["", "not-a-uuid", "0b7c2d1e9f3a4c5b8d6e7f8091a2b3c4", "0b7c2d1e-9f3a-4c5b-8d6e-7f8091a2b3cg",
     "0b7c2d1e-9f3a-4c5b-8d6e-7f8091a2b3c4 ", "0b7c2d1e-9f3a-4c5b-8d6e--f8091a2b3c4", "0b7c2d1é-9f3a-4c5b-8d6e-7f8091a2b3c4",
     "0b7c2d1e-9f3a-4c5b 8d6e-7f8091a2b3c4", "0b7c2d1e-9f3a-4c5b-8d6e-7f8091a2 3c4"],
)
def test_company_use_refuses_what_is_not_a_uuid(bad: str) -> None:
    with pytest.raises(ValueError, match="not a canonical UUID"):
        company_use([str(uuid.uuid4()), bad])


def test_values_that_are_not_ours() -> None:
    ours = company_use([str(uuid.uuid4())])[0]
    values = [ours, ours.lower(), ours[:24], ours + "0", "", None, float("nan"), 12, "Ç" * 25,
              ours[:24] + "-", f"  {ours}  ", " " * 25]
    back = debt_ids_from_company_use(values).tolist()
    assert back[0] is not None and back[10] == back[0]
    assert back[1:10] == [None] * 9 and back[11] is None


def test_company_use_is_fast() -> None:
    ids = [str(uuid.UUID(int=int(n))) for n in np.random.default_rng(3).integers(0, 2**63, 200_000)]
    started = time.perf_counter()
    values = company_use(ids)
    back = debt_ids_from_company_use(values)
    elapsed = time.perf_counter() - started
    assert back.tolist() == ids
    assert elapsed < 2.0  # 1.1M ids each way take about a second on a laptop; this is 200k


def test_seu_numero() -> None:
    assert seu_numero(np.array([1, 10**15 - 1], dtype=np.int64)).tolist() == ["1", "999999999999999"]
    assert seu_numero([]).tolist() == []
    with pytest.raises(ValueError):
        seu_numero([10**15])
    with pytest.raises(ValueError):
        seu_numero([-1])


@pytest.mark.parametrize(
    ("value", "width", "expected"),
    [
        ("Conceição", 9, "CONCEICAO"),
        ("Rua Ç, nº 5, 2ª", 15, "RUA C, NO 5, 2A"),
        ("São Paulo", 12, "SAO PAULO   "),
        ("ÁÀÂÃÄÉÊÍÓÔÕÚÜÇÑ", 15, "AAAAAEEIOOOUUCN"),
        ("áàâãäéêíóôõúüçñ", 15, "AAAAAEEIOOOUUCN"),
        ("tab\there\nnew", 12, "TAB HERE NEW"),
        ("€ 10", 4, "  10"),
        ("日本", 3, "   "),
        ("x" * 50, 40, "X" * 40),
        ("", 3, "   "),
        (None, 2, "  "),
        (float("nan"), 2, "  "),
        (123, 5, "123  "),
    ],
)
def test_cnab_text(value: object, width: int, expected: str) -> None:
    assert cnab_text_one(value, width) == expected
    series = cnab_text(pd.Series([value, "plain ascii"], index=[7, 8]), width)
    assert series.tolist()[0] == expected
    assert series.index.tolist() == [7, 8]
    assert all(len(item) == width for item in series)
    assert all(item.encode("latin-1").decode("ascii") == item for item in series)


def test_cnab_text_agrees_with_the_scalar() -> None:
    samples = ["João", "Ñandú", "Œuvre", "Ærøskøbing", "ﬁnal", "Straße", "İstanbul", "x\u0301", "a\x00b", "  lead",
               "maçã ", "Nº", "Mª", "½", "…", "–—", "©", "µ"]
    assert cnab_text(pd.Series(samples), 12).tolist() == [cnab_text_one(sample, 12) for sample in samples]
