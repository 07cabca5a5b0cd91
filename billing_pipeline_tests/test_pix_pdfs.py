"""Bolepix: the QR code on a boleto's PDF scans back to a BR Code whose CRC, amount and key are the boleto's."""

from __future__ import annotations

import binascii
import email
import io
import random
import zipfile
from dataclasses import replace
from datetime import date
from email import policy

import numpy as np
import pdfplumber
import pypdfium2
import pytest
import segno
import zxingcpp

from billing_pipeline import stages
from billing_pipeline.issued_boleto import IssuedBoleto
from billing_pipeline.pdf.documents import boleto_fields, qr_encoder_for, render_pdfs, stamper_for
from billing_pipeline.pdf.layout import PIX_FIELD, html
from billing_pipeline.pdf.qr import MASK, FixedQrEncoder, version_for_length
from billing_pipeline.pix.brcode import PixReceiver, boleto_brcode, longest_brcode, parse_brcode
from billing_pipeline.sample import write_sample
from billing_pipeline.settings import Settings
from billing_pipeline.store.boletos import boleto_rows
from billing_pipeline_tests.support.files import store_sample, write_sample_file

TODAY = date(2026, 11, 29)


def _boleto(index: int = 2, amount_cents: int = 1160547) -> IssuedBoleto:
    return IssuedBoleto(
        debt_id=f"45d76f99-9756-4de0-8c6c-{index:012d}", nosso_numero=f"109/{index:08d}-4",
        barcode="34191201500011605471090000000240057123457000",
        linha_digitavel="34191090080000024005171234570001120150001160547", due_date=date(2027, 12, 4),
        issued_on=TODAY, amount_cents=amount_cents, payer_name="Otávio Ribeiro", payer_document="52998224725")


def _qr_codes(pdf: bytes) -> list[str]:
    document = pypdfium2.PdfDocument(pdf)
    image = document[0].render(scale=2).to_pil()
    document.close()
    return [found.text for found in zxingcpp.read_barcodes(image) if found.format == zxingcpp.BarcodeFormat.QRCode]


def _verified(payload: str) -> dict:
    """The payload's fields, its CRC checked twice: by parse_brcode and by the standard library's CRC-CCITT."""
    assert payload[-8:-4] == "6304"
    assert payload[-4:] == f"{binascii.crc_hqx(payload[:-4].encode('ascii'), 0xFFFF):04X}"
    return parse_brcode(payload)


@pytest.mark.parametrize("receiver", [
    PixReceiver("123e4567-e12b-12d1-a456-426655440000", "Cobranças Exemplo", "São Paulo"),
    PixReceiver("52998224725", "Maria Conceição", "Belo Horizonte"),
    PixReceiver("cobranca.financeiro.departamento@empresa-exemplo.com.br",
                "Associação Beneficente São Sebastião do Paraíso Ltda", "Ribeirão Preto"),
    PixReceiver("+5511987654321", "José", "Brasília"),
], ids=["random-key", "cpf", "long-email-and-accented-name", "phone"])
def test_the_qr_on_the_pdf_decodes_to_the_boletos_amount_and_the_receivers_key(receiver):
    boletos = [_boleto(1, 1), _boleto(2, 1160547), _boleto(3, 9_999_999_999)]
    for boleto, (_, pdf) in zip(boletos, render_pdfs(boletos, Settings.from_env({}).account, True, TODAY, receiver),
                                strict=True):
        assert len(pdf) <= 10 * 1024  # the QR is a 1-bit image mask of its modules (stamp._qr)
        [payload] = _qr_codes(pdf)
        fields = _verified(payload)
        assert fields["26"]["01"] == receiver.key
        reais, centavos = divmod(boleto.amount_cents, 100)
        assert fields["54"] == f"{reais}.{centavos:02d}"
        assert payload == boleto_brcode(receiver, boleto)
        assert str(fields["59"]).isascii() and len(fields["59"]) <= 25


def test_every_boleto_of_a_chunk_carries_its_own_code_and_a_rerender_the_same(settings, engine, tmp_path):
    pix = Settings.from_env({"BILLING_PIX_KEY": "pix@example.com.br", "BILLING_PIX_MERCHANT_CITY": "Curitiba"},
                            data_dir=settings.data_dir, database_url=settings.database_url)
    sample = write_sample_file(tmp_path / "debts.csv", rows=12, seed=41)
    [key] = store_sample(engine, pix, sample, through="boletos", today=TODAY).chunk_keys
    outcome = stages.pdf_stage(engine, pix, key, today=TODAY)
    rows = {boleto.debt_id: boleto for boleto in boleto_rows(engine, chunk_key=key)}
    with zipfile.ZipFile(outcome.archive) as archive:
        for name in archive.namelist()[:4]:
            boleto = rows[name.removesuffix(".pdf")]
            [payload] = _qr_codes(archive.read(name))
            assert payload == boleto_brcode(pix.pix_receiver, boleto)
            assert _verified(payload)["60"] == "CURITIBA"
    one = next(iter(rows))
    assert _qr_codes(stages.boleto_pdf(engine, pix, one, today=TODAY)) == [boleto_brcode(pix.pix_receiver, rows[one])]
    assert _qr_codes(stages.boleto_pdf(engine, settings, one, today=TODAY)) == []  # no key, no QR


def test_without_a_key_the_layout_is_todays_and_no_box_is_drawn():
    account = Settings.from_env({}).account
    assert html(account, True) == html(account, True, with_pix=False)
    assert "pix" not in html(account, True)
    plain = stamper_for(account, True)
    assert PIX_FIELD not in plain.layout.fields
    pdf = plain.render(boleto_fields(_boleto(), TODAY))
    assert _qr_codes(pdf) == []
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        assert "Pague com Pix" not in document.pages[0].extract_text()
    with_pix = stamper_for(account, True, True)
    with pdfplumber.open(io.BytesIO(with_pix.layout.pdf)) as document:
        assert "Pague com Pix" in document.pages[0].extract_text()
    with pytest.raises(ValueError, match="no PIX box"):
        plain.render(replace(boleto_fields(_boleto(), TODAY), pix_payload="000201"))


def test_the_debts_instruction_lines_are_printed_below_the_layouts():
    account = Settings.from_env({}).account
    lines = ("Após o vencimento, multa de 2,00%.", "Juros de mora de 1,00% ao mês (R$ 0,33 por dia).",
             "Até 10/12/2026, desconto de 5,00% (R$ 5,00).")
    pdf = stamper_for(account, True).render(replace(boleto_fields(_boleto(), TODAY), instructions=lines))
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        text = document.pages[0].extract_text().splitlines()
    def row_of(words: str) -> int:
        [row] = [number for number, line in enumerate(text) if words in line]
        return row

    rows = [row_of(line) for line in ("Dúvidas sobre a cobrança: fale com o beneficiário.", *lines)]
    assert rows == sorted(rows) and len(set(rows)) == 4


@pytest.mark.parametrize("version", [5, 9, 10, 11, 14])
def test_the_fixed_encoder_draws_segnos_modules_for_any_payload(version):
    encoder = FixedQrEncoder(version)
    capacity = max(length for length in range(1, 2000) if version_for_length(length) <= version)
    generator = random.Random(version)
    lengths = [1, capacity, capacity - 1, *(generator.randint(1, capacity) for _ in range(20))]
    for length in lengths:
        data = bytes(generator.choice(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghij.-@*+ ") for _ in range(length))
        expected = np.array(segno.make(data, error="m", version=version, mask=MASK, boost_error=False,
                                       mode="byte").matrix, dtype=np.uint8)
        modules = encoder.matrix(data)
        assert np.array_equal(modules, expected), (version, length)
        drawn = np.zeros_like(modules)
        for row, column, width in zip(*encoder.dark_runs(data), strict=True):
            assert not drawn[row, column:column + width].any()
            drawn[row, column:column + width] = 1
        assert np.array_equal(drawn, modules)
    with pytest.raises(ValueError, match="do not fit a version"):
        encoder.matrix(b"x" * (capacity + 1))


def test_one_version_holds_every_payload_of_a_receiver():
    receiver = PixReceiver("cobranca.financeiro.departamento@empresa-exemplo.com.br", "A" * 40, "B" * 20)
    longest = longest_brcode(receiver)
    assert len(longest) <= 512
    encoder = qr_encoder_for(receiver)
    assert encoder.version == version_for_length(len(longest))
    assert zxingcpp.read_barcodes(np.kron(np.pad(1 - encoder.matrix(longest.encode()), 4, constant_values=1),
                                          np.ones((4, 4), dtype=np.uint8)) * 255)[0].text == longest


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_billing_process_with_a_key_puts_the_same_code_in_the_email_and_on_its_pdf(
        billing_env, monkeypatch, engine, tmp_path, cli):
    monkeypatch.setenv("BILLING_PIX_KEY", "+5511987654321")
    source = tmp_path / "debts.csv"
    write_sample(source, rows=3, seed=4)
    summary = cli("process", source).json
    assert summary["notified"] == 3
    receiver = Settings.from_env({"BILLING_PIX_KEY": "+5511987654321"}).pix_receiver
    assert receiver is not None
    rows = {boleto.debt_id: boleto for boleto in boleto_rows(engine, chunk_key=f"{summary['file_id'][:12]}-0000")}
    messages = sorted(billing_env.outbox_dir.glob("*.eml"))
    assert len(messages) == 3
    for path in messages:
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        text = message.get_body(("plain",)).get_content()
        payload = text.split("(Pix copia e cola) no aplicativo do seu banco:\n")[1].split("\n")[0]
        [attachment] = [part for part in message.iter_attachments() if part.get_content_type() == "application/pdf"]
        debt_id = attachment.get_filename().removeprefix("boleto-").removesuffix(".pdf")
        assert payload == boleto_brcode(receiver, rows[debt_id])
        assert _qr_codes(attachment.get_content()) == [payload]
