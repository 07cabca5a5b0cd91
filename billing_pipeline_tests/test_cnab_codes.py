"""The FEBRABAN CNAB 240 code tables: texts of known codes, bank overrides, unknown codes, the motivos field."""

from __future__ import annotations

import doctest

import pytest

from billing_pipeline.cnab import codes
from billing_pipeline.cnab.codes import (
    FEE_REASONS,
    REJECTION_REASONS,
    REMESSA_MOVEMENTS,
    RETORNO_MOVEMENTS,
    SETTLEMENT_REASONS,
    MovementCode,
    RemessaMovement,
    febraban_movement,
    movement_text,
    reason_text,
    remessa_movement_text,
    split_reasons,
)


def test_doctests() -> None:
    assert doctest.testmod(codes).failed == 0


def test_enums_carry_febraban_values() -> None:
    assert RemessaMovement.ENTRADA == "01" and RemessaMovement.BAIXA == "02"
    assert {code.value for code in MovementCode} <= set(RETORNO_MOVEMENTS)
    assert MovementCode.SETTLED == "06" and MovementCode.SETTLED_AFTER_WRITE_OFF == "17"
    assert MovementCode.PROTESTED == "25" and MovementCode.FEES_DEBITED == "28"


@pytest.mark.parametrize(
    ("code", "text"),
    [
        ("02", "Entrada Confirmada"),
        ("03", "Entrada Rejeitada"),
        ("06", "Liquidação"),
        ("09", "Baixa"),
        ("17", "Liquidação Após Baixa ou Liquidação Título Não Registrado"),
        ("23", "Remessa a Cartório (Aponte em Cartório)"),
        ("25", "Protestado e Baixado (Baixa por Ter Sido Protestado)"),
        ("26", "Instrução Rejeitada"),
        ("28", "Débito de Tarifas/Custas"),
        ("30", "Alteração de Dados Rejeitada"),
        ("44", "Título Pago com Cheque Devolvido"),
    ],
)
def test_retorno_movement_texts(code: str, text: str) -> None:
    assert movement_text(code) == text
    assert movement_text(code, bank_code="001") == text


def test_remessa_movements() -> None:
    assert REMESSA_MOVEMENTS["01"] == "Entrada de Títulos"
    assert remessa_movement_text("02") == "Pedido de Baixa"
    assert remessa_movement_text("06") == "Alteração de Vencimento"
    assert "não listado" in remessa_movement_text("99")


@pytest.mark.parametrize(
    ("movement", "reason", "text"),
    [
        ("03", "01", "Código do Banco Inválido"),
        ("03", "08", "Nosso Número Inválido"),
        ("03", "45", "Nome do Pagador Não Informado"),
        ("03", "46", "Tipo/Número de Inscrição do Pagador Inválidos"),
        ("03", "47", "Endereço do Pagador Não Informado"),
        ("03", "48", "CEP Inválido"),
        ("26", "60", "Movimento para Título Não Cadastrado"),
        ("30", "A7", "Título já se Encontra na Situação Pretendida"),
        ("02", "A4", "Pagador DDA"),
        ("28", "04", "Tarifa de Protesto"),
        ("28", "08", "Custas de Protesto"),
        ("06", "01", "Por Saldo"),
        ("06", "02", "Por Conta"),
        ("06", "04", "Compensação Eletrônica"),
        ("17", "33", "Liquidação na Internet (Home Banking)"),
        ("09", "09", "Comandada Banco"),
        ("09", "10", "Comandada Cliente Arquivo"),
        ("09", "14", "Protestado"),
    ],
)
def test_reason_texts_depend_on_the_movement(movement: str, reason: str, text: str) -> None:
    assert reason_text(movement, reason) == text


def test_same_reason_code_means_different_things_per_movement() -> None:
    assert reason_text("03", "04") == REJECTION_REASONS["04"]
    assert reason_text("28", "04") == FEE_REASONS["04"]
    assert reason_text("06", "04") == SETTLEMENT_REASONS["04"]
    assert len({reason_text(movement, "04") for movement in ("03", "28", "06")}) == 3


def test_bank_overrides() -> None:
    assert reason_text("03", "52") == "Unidade da Federação Inválida"
    assert reason_text("03", "52", bank_code="001") == "Registro de Título já Liquidado Cart. 17"
    assert reason_text("03", "52", bank_code="1") == "Registro de Título já Liquidado Cart. 17"
    assert reason_text("06", "02", bank_code="104") == "Casa Lotérica"
    assert reason_text("06", "04", bank_code="104") == "Compensação Eletrônica"  # the FEBRABAN text still applies
    assert movement_text("44", bank_code="104") == "Estorno de Baixa / Liquidação"
    assert movement_text("17", bank_code="341") == "Alteração/Exclusão de Dados Rejeitada"
    assert movement_text("32", bank_code="341") == "Baixa por Ter Sido Protestado"
    assert reason_text("03", "14", bank_code="341").startswith("Nosso Número já Registrado")


def test_itau_movements_as_febraban() -> None:
    assert febraban_movement("06", "341") == "06"
    assert febraban_movement("08", "341") == "06"
    assert febraban_movement("17", "341") == "30"
    assert febraban_movement("25", "341") == "29"
    assert febraban_movement("32", "341") == "25"
    assert febraban_movement("28", "341") == "28"
    assert febraban_movement("63", "341") is None
    assert febraban_movement("17", "033") == "17"


@pytest.mark.parametrize("code", ["98", "ZZ", "  ", "", "7Q"])
def test_unknown_codes_never_raise(code: str) -> None:
    text = movement_text(code)
    assert text and "não listado" in text
    assert "não listado" in movement_text(code, bank_code="341")
    for movement in ("02", "03", "06", "09", "17", "26", "28", "30"):
        unknown = "Q9" if code == "98" else code
        assert "não listado" in reason_text(movement, unknown)
    assert "não define motivos" in reason_text("11", "01")
    assert "98" in movement_text("98")


def test_reasons_are_never_empty() -> None:
    for movement in [*RETORNO_MOVEMENTS, "99", "  "]:
        for reason in ["01", "A4", "ZZ", "00"]:
            for bank in [None, "001", "033", "104", "237", "341", "748", "756"]:
                assert reason_text(movement, reason, bank)
                assert movement_text(movement, bank)


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("0201000000", ["02", "01"]),
        ("A4        ", ["A4"]),
        ("00000000  ", []),
        ("          ", []),
        ("", []),
        (None, []),
        ("020101", ["02", "01", "01"]),  # Caixa's fixture: trailing blanks stripped
        ("48", ["48"]),
        ("00A4004500", ["A4", "45"]),
        ("a4", ["A4"]),
    ],
)
def test_split_reasons(field: str | None, expected: list[str]) -> None:
    assert split_reasons(field) == expected


def test_tables_are_complete() -> None:
    assert len(REJECTION_REASONS) == 99 - 1 + 1 + 9 + 5  # 01-99, A1-A9, B1-B5
    assert set(FEE_REASONS) == {f"{n:02d}" for n in range(1, 21)}
    assert {f"{n:02d}" for n in range(1, 16)} <= set(SETTLEMENT_REASONS)
    assert all(text.strip() == text and text for table in (REJECTION_REASONS, FEE_REASONS, SETTLEMENT_REASONS,
                                                          RETORNO_MOVEMENTS, REMESSA_MOVEMENTS)
               for text in table.values())
