from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.br import cnpj, cpf

from billing_pipeline import government_id
from billing_pipeline.sample import cnpjs, cpfs


@pytest.mark.parametrize(
    ("raw", "normalised", "kind"),
    [
        ("529.982.247-25", "52998224725", "cpf"),
        ("52998224725", "52998224725", "cpf"),
        (" 11.222.333/0001-81 ", "11222333000181", "cnpj"),
        ("12.abc.345/01de-35", "12ABC34501DE35", "cnpj"),  # alphanumeric CNPJ (July 2026), Receita's example
        ("529.982.247-24", "52998224724", None),  # wrong check digit
        ("111.111.111-11", "11111111111", None),  # repeated digits pass the arithmetic but are not issued
        ("1234", "1234", None),
    ],
)
def test_normalise_and_kind(raw, normalised, kind):
    assert government_id.normalise(raw) == normalised
    assert government_id.kind(normalised) == kind


def test_policies_over_a_column():
    values = pd.Series(["52998224725", "1234", "12ABC34501DE35", "52998224724", "123456789012345", "12a4"])
    assert government_id.valid_mask(values, "strict").tolist() == [True, False, True, False, False, False]
    assert government_id.valid_mask(values, "lenient").tolist() == [True, True, False, True, False, False]


def test_masking_hides_the_middle_of_a_cpf():
    assert government_id.mask("52998224725") == "***.982.247-**"
    assert government_id.mask("11222333000181") == "11.222.333/0001-81"


@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_generated_ids_are_valid_for_python_stdnum(seed):
    rng = np.random.default_rng(seed)
    assert all(cpf.is_valid(value) for value in cpfs(rng, 20))
    assert all(cnpj.is_valid(value) for value in cnpjs(rng, 20))
