"""Barcode, linha digitável and due-date factor: the manuals' examples and properties over random boletos."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing_pipeline.boleto import (
    InvalidCheckDigit,
    InvalidLength,
    NotDigits,
    barcode_from_linha,
    build_barcode,
    check_barcode,
    due_date_factor,
    due_date_from_factor,
    format_linha,
    linha_digitavel,
)
from billing_pipeline.boleto.check_digits import mod11_sum
from billing_pipeline.money import MAX_AMOUNT_CENTS

# Itaú, "Cobrança Itaú – Boleto de pagamento": carteira 110, nosso número 12345678, agência 0057,
# conta 12345-7, factor 1667, R$ 123,45.
ITAU_MANUAL_LINHA = "34191.10121 34567.880058 71234.570001 6 16670000012345"
ITAU_MANUAL_BARCODE = "34196166700000123451101234567880057123457000"


def test_itau_manual_example_both_ways():
    assert barcode_from_linha(ITAU_MANUAL_LINHA) == ITAU_MANUAL_BARCODE
    assert format_linha(linha_digitavel(ITAU_MANUAL_BARCODE)) == ITAU_MANUAL_LINHA
    assert build_barcode("341", date(2002, 5, 1), Decimal("123.45"), "1101234567880057123457000") == (
        ITAU_MANUAL_BARCODE)


@pytest.mark.parametrize(
    ("due", "factor"),
    [(date(2000, 7, 3), 1000), (date(2002, 5, 1), 1667), (date(2025, 2, 21), 9999), (date(2025, 2, 22), 1000),
     (date(2025, 2, 23), 1001), (date(2026, 11, 29), 1645), (date(2049, 10, 13), 9999), (date(2049, 10, 14), 1000)],
)
def test_due_date_factor_with_the_2025_rollover(due, factor):
    assert due_date_factor(due) == factor


def test_factor_decoding_picks_the_cycle_near_today():
    assert due_date_from_factor(1000, today=date(2026, 1, 1)) == date(2025, 2, 22)
    assert due_date_from_factor(9999, today=date(2026, 1, 1)) == date(2025, 2, 21)
    assert due_date_from_factor(1667, today=date(2002, 1, 1)) == date(2002, 5, 1)
    assert due_date_from_factor(1667, today=date(2026, 11, 29)) == date(2026, 12, 21)
    with pytest.raises(ValueError):
        due_date_from_factor(999)
    with pytest.raises(ValueError):
        due_date_factor(date(1999, 1, 1))


@pytest.mark.parametrize(
    ("linha", "error", "detail"),
    [
        ("3419110121", InvalidLength, "47 digits, got 10"),
        ("34191.10121 34567.880058 71234.570001 6 1667000001234X", NotDigits, "only digits"),
        ("34191.10122 34567.880058 71234.570001 6 16670000012345", InvalidCheckDigit, "field 1"),
        ("34191.10121 34567.880059 71234.570001 6 16670000012345", InvalidCheckDigit, "field 2"),
        ("34191.10121 34567.880058 71234.570002 6 16670000012345", InvalidCheckDigit, "field 3"),
        ("34191.10121 34567.880058 71234.570001 7 16670000012345", InvalidCheckDigit, "general"),
    ],
)
def test_bad_linhas_say_what_is_wrong(linha, error, detail):
    with pytest.raises(error, match=detail):
        barcode_from_linha(linha)


def test_errors_are_value_errors():
    with pytest.raises(ValueError):
        check_barcode("1" * 43)
    with pytest.raises(ValueError, match="at most 2 decimal places"):
        build_barcode("341", date(2026, 1, 1), Decimal("1.001"), "0" * 25)
    with pytest.raises(ValueError, match="0.01"):
        build_barcode("341", date(2026, 1, 1), Decimal("100000000.00"), "0" * 25)


barcodes = st.builds(
    build_barcode,
    st.sampled_from(["001", "033", "104", "237", "341"]),
    st.dates(min_value=date(2000, 7, 3), max_value=date(2060, 12, 31)),
    st.integers(min_value=1, max_value=MAX_AMOUNT_CENTS).map(lambda cents: Decimal(cents) / 100),
    st.text(alphabet="0123456789", min_size=25, max_size=25),
)


@given(barcodes)
def test_linha_and_barcode_round_trip(barcode):
    linha = linha_digitavel(barcode)
    assert len(linha) == 47 and linha.isdigit()
    assert barcode_from_linha(linha) == barcode
    assert barcode_from_linha(format_linha(linha)) == barcode


def _general_dv_collapses(a: str, b: str) -> bool:
    """Módulo 11 maps remainders 0, 1 and 10 all to DV 1: a change between two of them cannot be seen."""
    remainders = {mod11_sum(x[:4] + x[5:], list(range(2, 10))) % 11 for x in (a, b)}
    return remainders <= {0, 1, 10}


@given(barcodes, st.data())
def test_any_single_digit_change_is_detected(barcode, data):
    linha = linha_digitavel(barcode)
    position = data.draw(st.integers(min_value=0, max_value=46))
    digit = data.draw(st.sampled_from([d for d in "0123456789" if d != linha[position]]))
    changed = linha[:position] + digit + linha[position + 1:]
    try:
        decoded = barcode_from_linha(changed)
    except InvalidCheckDigit:
        return
    # Only field 5 (factor and amount) is guarded by the general DV alone, which has that known blind spot.
    assert position >= 33 and _general_dv_collapses(barcode, decoded)
