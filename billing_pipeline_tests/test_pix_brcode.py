"""The BR Code: the BCB manual's example byte for byte, a boleto's own code, parsing, keys, settings, the e-mail."""

from __future__ import annotations

import binascii
import email
from datetime import date
from email import policy

import pytest

from billing_pipeline.issued_boleto import IssuedBoleto
from billing_pipeline.mail.compose import Notice, compose
from billing_pipeline.pix.brcode import (
    PixReceiver,
    boleto_brcode,
    brcode,
    crc16,
    longest_brcode,
    parse_brcode,
    pix_key_problem,
)
from billing_pipeline.pix.charges import PixCharge, StaticPixCharges
from billing_pipeline.settings import Settings, SettingsError

# "Manual de Padrões para Iniciação do Pix" (BCB), the static BR Code example with a random key and no amount.
BCB_EXAMPLE = ("00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-4266554400005204000053039865802BR"
               "5913Fulano de Tal6008BRASILIA62070503***63041D3D")
RECEIVER = PixReceiver("123e4567-e12b-12d1-a456-426655440000", "Cobranças São João Ltda", "São Paulo")


def _boleto(nosso_numero: str = "109/00000002-4", amount_cents: int = 1160547) -> IssuedBoleto:
    return IssuedBoleto(
        debt_id="45d76f99-9756-4de0-8c6c-cba1309725fa", nosso_numero=nosso_numero,
        barcode="34191201500011605471090000000240057123457000",
        linha_digitavel="34191090080000024005171234570001120150001160547", due_date=date(2027, 12, 4),
        issued_on=date(2026, 11, 29), amount_cents=amount_cents, payer_name="Otávio Ribeiro",
        payer_document="52998224725")


def _independent_crc(payload: str) -> str:
    """The CRC of a payload's field 63 bit by bit, as the BCB manual describes it (polynomial 0x1021, initial
    value 0xFFFF), written apart from crc16 (which uses the standard library's crc_hqx)."""
    crc = 0xFFFF
    for byte in payload[:-4].encode("ascii"):
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return f"{crc:04X}"


def test_the_bcb_manual_example_is_reproduced_byte_for_byte_crc_included():
    payload = brcode("123e4567-e12b-12d1-a456-426655440000", "Fulano de Tal", "BRASILIA", None, "***",
                     one_time=False, upper=False)
    assert payload == BCB_EXAMPLE
    assert payload[-4:] == _independent_crc(BCB_EXAMPLE) == crc16(BCB_EXAMPLE[:-4]) == "1D3D"
    assert f"{binascii.crc_hqx(BCB_EXAMPLE[:-4].encode(), 0xFFFF):04X}" == "1D3D"


def test_crc16_agrees_with_the_standard_library_on_other_payloads():
    # A widely quoted phone-key example (its field 62 says 8 characters and holds 7, but its CRC is of its bytes).
    phone_example = ("00020126360014BR.GOV.BCB.PIX0114+5511943214321520400005303986540566.665802BR5907EMPRESA"
                     "6008BRASILIA62080503***6304170E")
    assert crc16(phone_example[:-4]) == _independent_crc(phone_example) == "170E"
    for cents in (1, 99, 100, 123456, 9_999_999_999):
        payload = boleto_brcode(RECEIVER, _boleto(amount_cents=cents))
        assert payload[-4:] == _independent_crc(payload)


def test_a_boletos_code_carries_its_key_amount_names_and_txid_and_is_the_same_when_rendered_again():
    payload = boleto_brcode(RECEIVER, _boleto())
    fields = parse_brcode(payload)
    assert fields["00"] == "01" and fields["01"] == "12"  # one payment
    assert fields["26"] == {"00": "br.gov.bcb.pix", "01": RECEIVER.key}
    assert (fields["52"], fields["53"], fields["54"], fields["58"]) == ("0000", "986", "11605.47", "BR")
    assert (fields["59"], fields["60"]) == ("COBRANCAS SAO JOAO LTDA", "SAO PAULO")
    assert fields["62"] == {"05": "109000000024"}
    assert payload.isascii()
    assert boleto_brcode(RECEIVER, _boleto()) == payload
    assert parse_brcode(boleto_brcode(RECEIVER, _boleto("109/00000003-2")))["62"] == {"05": "109000000032"}


def test_a_long_accented_merchant_name_and_city_are_cut_to_the_manuals_lengths():
    receiver = PixReceiver("pix@example.com.br", "Associação Beneficente São Sebastião do Paraíso", "Ribeirão Preto")
    fields = parse_brcode(boleto_brcode(receiver, _boleto()))
    assert fields["59"] == "ASSOCIACAO BENEFICENTE SA"
    assert fields["60"] == "RIBEIRAO PRETO"


def test_malformed_codes_are_refused_with_a_sentence():
    with pytest.raises(ValueError, match="CRC is 1D3E; its content gives 1D3D"):
        parse_brcode(BCB_EXAMPLE[:-1] + "E")
    with pytest.raises(ValueError, match="ends with its CRC"):
        parse_brcode(BCB_EXAMPLE[:-8])
    broken = "0002012699" + "6304"
    with pytest.raises(ValueError, match="malformed BR Code field at character 6"):
        parse_brcode(broken + crc16(broken))


@pytest.mark.parametrize(("key", "problem"), [
    ("52998224725", None),
    ("11222333000181", None),
    ("12ABC34501DE35", None),  # the alphanumeric CNPJ
    ("cobranca@example.com.br", None),
    ("+5511987654321", None),
    ("+551132654321", None),
    ("123e4567-e12b-12d1-a456-426655440000", None),
    ("52998224724", "neither a valid CPF nor a valid CNPJ"),
    ("529.982.247-25", "digits only: 52998224725"),
    ("11987654321", "neither a valid CPF nor a valid CNPJ"),
    ("+1 555 0100", "+55, the area code and the number"),
    ("cobranca@", "not an e-mail address"),
    ("123E4567-E12B-12D1-A456-426655440000", "lower case"),
    ("123e4567e12b12d1a456426655440000", "8-4-4-4-12"),
    ("", "empty"),
    ("x" * 70 + "@example.com", "longer than the 77 characters"),
])
def test_pix_keys_are_checked_as_the_dict_stores_them(key, problem):
    found = pix_key_problem(key)
    assert found is None if problem is None else problem in found


def _settings(tmp_path, **environment: str) -> Settings:
    return Settings.from_env({f"BILLING_{name.upper()}": value for name, value in environment.items()},
                             data_dir=tmp_path)


def test_settings_give_a_receiver_only_with_a_usable_key(tmp_path):
    assert _settings(tmp_path).pix_receiver is None
    receiver = _settings(tmp_path, pix_key="52998224725", pix_merchant_city="Ribeirão Preto").pix_receiver
    assert receiver is not None and receiver.key == "52998224725" and receiver.merchant_city == "Ribeirão Preto"
    assert parse_brcode(longest_brcode(receiver))["60"] == "RIBEIRAO PRETO"

    with pytest.raises(SettingsError, match="BILLING_PIX_KEY '52998224724': neither a valid CPF nor a valid CNPJ"):
        _settings(tmp_path, pix_key="52998224724")
    with pytest.raises(SettingsError, match="BILLING_PIX_MERCHANT_CITY must have 1 to 15 characters"):
        _settings(tmp_path, pix_key="52998224725", pix_merchant_city="São José dos Campos")
    with pytest.raises(SettingsError, match="BILLING_PIX_MERCHANT_CITY must have 1 to 15 characters"):
        _settings(tmp_path, pix_key="52998224725", pix_merchant_city="東京")  # nothing left in ASCII


def test_static_charges_are_the_boletos_own_code():
    charge = StaticPixCharges(RECEIVER).charge_for(_boleto())
    assert charge == PixCharge(boleto_brcode(RECEIVER, _boleto()), "109000000024")


def _bodies(notice: Notice) -> tuple[str, str]:
    composed = compose(notice, "<m@example.com>", "Cobranças <cobranca@example.com>", "Cobranças", "contato",
                       False, b"%PDF-1.7")
    message = email.message_from_bytes(composed.data, policy=policy.default)
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None and html is not None
    return text.get_content(), html.get_content()


def test_the_notice_carries_the_copia_e_cola_only_with_pix():
    payload = boleto_brcode(RECEIVER, _boleto())
    notice = Notice("45d76f99-9756-4de0-8c6c-cba1309725fa", "ana@example.com", "Ana", "***.982.247-**",
                    "11.605,47", "04/12/2027", "34191.09008 00000.240051 71234.570001 1 20150001160547",
                    "109/00000002-4")
    text, html = _bodies(notice)
    assert "Pix" not in text and "Pix" not in html

    text, html = _bodies(Notice(**{**notice.__dict__, "pix_copia_e_cola": payload}))
    assert f"(Pix copia e cola) no aplicativo do seu banco:\n{payload}\n" in text
    assert "<pre style=\"font-family: 'Courier New', monospace;" in html
    assert f">{payload}</pre>" in html
