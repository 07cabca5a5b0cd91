"""Boleto PDFs: valid standalone files whose bars scan back to the stored barcode and whose text a person reads."""

from __future__ import annotations

import io
import json
import os
import random
import re
import zipfile
from datetime import date
from pathlib import Path

import pdfplumber
import pikepdf
import pypdfium2
import pytest
import zxingcpp

from billing_pipeline import stages
from billing_pipeline.boleto import format_linha
from billing_pipeline.pdf.documents import stamper_for
from billing_pipeline.pdf.stamp import NARROW_BAR, BoletoFields, bar_rectangles, itf_bars
from billing_pipeline.sample import write_sample
from billing_pipeline.settings import Settings
from billing_pipeline.store.boletos import boleto_rows
from billing_pipeline_tests.support.files import store_sample, write_sample_file

SNAPSHOT = Path(__file__).with_name("snapshots") / "boleto_layout.json"
TODAY = date(2026, 11, 29)


def _scan(pdf: bytes) -> list[str]:
    document = pypdfium2.PdfDocument(pdf)
    image = document[0].render(scale=2).to_pil()
    document.close()
    return [found.text for found in zxingcpp.read_barcodes(image) if found.format == zxingcpp.BarcodeFormat.ITF]


def _text(pdf: bytes) -> str:
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        return document.pages[0].extract_text()


@pytest.fixture
def chunk_pdfs(settings, engine, tmp_path):
    sample = write_sample_file(tmp_path / "debts.csv", rows=40, seed=31)
    [key] = store_sample(engine, settings, sample, through="boletos", today=TODAY).chunk_keys
    outcome = stages.pdf_stage(engine, settings, key, today=TODAY)
    return outcome, {boleto.debt_id: boleto for boleto in boleto_rows(engine, chunk_key=key)}


def test_every_boleto_gets_a_scannable_readable_standalone_pdf(chunk_pdfs):
    outcome, rows = chunk_pdfs
    assert outcome.documents == 40
    with zipfile.ZipFile(outcome.archive) as archive:
        names = archive.namelist()
        assert sorted(names) == sorted(f"{debt_id}.pdf" for debt_id in rows)
        for name in names[:8]:
            pdf = archive.read(name)
            row = rows[name.removesuffix(".pdf")]
            with pikepdf.open(io.BytesIO(pdf)) as parsed:  # a structurally valid file of its own
                assert len(parsed.pages) == 1
            assert _scan(pdf) == [row.barcode]
            text = _text(pdf)
            assert text.count(format_linha(row.linha_digitavel)) == 2  # recibo and ficha
            reais, centavos = divmod(row.amount_cents, 100)
            assert f"{reais:,}".replace(",", ".") + f",{centavos:02d}" in text
            assert row.due_date.strftime("%d/%m/%Y") in text
            assert row.nosso_numero in text
            assert "DOCUMENTO DE DEMONSTRAÇÃO — NÃO PAGUE" in text


def _cross_reference_checked(pdf: bytes) -> None:
    """Every offset of the PDF's cross-reference table points at its object, and startxref at the table: a
    reader that repairs a broken table (as pikepdf and pdfium do, silently) would hide a wrong one."""
    start = int(re.findall(rb"startxref\n(\d+)\n%%EOF\n$", pdf)[0])
    assert pdf[start:].startswith(b"xref\n0 ")
    count = int(pdf[start:].split(b"\n")[1].split()[1])
    entries = pdf[start:].split(b"\n", 2)[2][:20 * count]
    assert entries[:20] == b"0000000000 65535 f \n"
    for number in range(1, count):
        offset = int(entries[20 * number:20 * number + 10])
        assert pdf[offset:].startswith(b"%d 0 obj\n" % number), number


def test_a_pdf_is_under_10_kb_its_fonts_the_standard_helvetica_not_embedded(chunk_pdfs):
    outcome, _ = chunk_pdfs
    with zipfile.ZipFile(outcome.archive) as archive:
        pdfs = [archive.read(name) for name in archive.namelist()]
    assert max(len(pdf) for pdf in pdfs) <= 10 * 1024
    for pdf in pdfs[:4]:
        _cross_reference_checked(pdf)
        with pikepdf.open(io.BytesIO(pdf)) as parsed:
            fonts = parsed.pages[0].Resources.Font
            assert {str(font.BaseFont) for font in fonts.values()} == {"/Helvetica", "/Helvetica-Bold"}
            assert all(str(font.Encoding) == "/WinAnsiEncoding" and "/FontDescriptor" not in font
                       for font in fonts.values())


def test_layout_text_beyond_windows_1252_is_replaced_not_drawn_in_another_font(tmp_path):
    settings = Settings.from_env({"BILLING_AGENCIA": "1234", "BILLING_CONTA": "54321",
                                  "BILLING_BENEFICIARY_NAME": "Łukasz Comércio 漢 Ltda"}, data_dir=tmp_path)
    layout = stamper_for(settings.account, settings.is_demo_account).layout
    assert "?ukasz Comércio ? Ltda" in _text(layout.pdf)
    _cross_reference_checked(layout.pdf)


def test_rerun_keeps_a_complete_archive_and_rebuilds_a_broken_one(chunk_pdfs, settings, engine):
    outcome, _ = chunk_pdfs
    key = outcome.archive.stem
    before = outcome.archive.stat().st_mtime_ns
    again = stages.pdf_stage(engine, settings, key, today=TODAY)
    assert (again.created, again.documents, outcome.archive.stat().st_mtime_ns) == (False, 40, before)

    outcome.archive.write_bytes(b"not a zip")
    rebuilt = stages.pdf_stage(engine, settings, key, today=TODAY)
    assert (rebuilt.created, rebuilt.documents) == (True, 40)
    with zipfile.ZipFile(outcome.archive) as archive:
        assert len(archive.namelist()) == 40


def test_bars_follow_febraban_dimensions():
    bars = itf_bars("34191201500011605471090000000240057123457000")
    modules = bars[-1][0] + bars[-1][1]
    assert {width for _, width in bars} == {1, 3}  # narrow and wide, 1:3
    assert modules == 405  # start (4) + 22 digit pairs x 18 + stop (5), ending on a bar
    assert abs(modules * NARROW_BAR / (72 / 25.4) - 103) < 0.2  # 103 mm wide


def test_bars_drawn_from_digit_pair_tables_are_the_symbols_bars():
    generator = random.Random(5)
    for _ in range(200):
        barcode = "".join(generator.choice("0123456789") for _ in range(44))
        assert bar_rectangles(barcode) == b" ".join(b"%d 0 %d 1 re" % bar for bar in itf_bars(barcode))


def test_layout_snapshot(tmp_path):
    """The static layout's text and the positions of its variable fields; an accidental layout change shows up
    here. Refresh deliberately with BILLING_UPDATE_SNAPSHOTS=1."""
    settings = Settings.from_env({}, data_dir=tmp_path)
    stamper = stamper_for(settings.account, settings.is_demo_account)
    pdf = stamper.render(BoletoFields(
        linha="34191.09008 00000.240051 71234.570001 1 20150001160547",
        barcode="34191201500011605471090000000240057123457000", nosso_numero="109/00000002-4",
        numero_documento="45d76f99-9756-4de0-8c6c-cba1309725fa", vencimento="04/12/2027", valor="11.605,47",
        pagador="Otávio Ribeiro — CPF ***.270.522-**", data_documento="29/11/2026", data_processamento="29/11/2026",
    ))
    current = {
        "text": _text(pdf).splitlines(),
        "fields": {name: [round(v) for v in (box.left, box.bottom, box.right, box.top)]
                   for name, box in sorted(stamper.layout.fields.items())},
    }
    if os.environ.get("BILLING_UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(json.dumps(current, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    assert SNAPSHOT.exists(), f"{SNAPSHOT} is missing: create it with BILLING_UPDATE_SNAPSHOTS=1"
    assert current == json.loads(SNAPSHOT.read_text(encoding="utf-8"))


def test_real_account_documents_carry_no_demo_marker(tmp_path):
    settings = Settings.from_env({"BILLING_AGENCIA": "1234", "BILLING_CONTA": "54321",
                                  "BILLING_BENEFICIARY_NAME": "Cobranças Exemplo Ltda"}, data_dir=tmp_path)
    assert not settings.is_demo_account
    stamper = stamper_for(settings.account, settings.is_demo_account)
    text = _text(stamper.layout.pdf)
    assert "NÃO PAGUE" not in text
    assert "Cobranças Exemplo Ltda" in text and "1234 / 54321-" in text


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_billing_boleto_pdf_renders_one_on_demand(billing_env, engine, tmp_path, cli):
    source = tmp_path / "debts.csv"
    write_sample(source, rows=5, seed=2)
    summary = cli("process", source).json
    assert summary["pdfs"] == summary["boletos"] == 5
    row = boleto_rows(engine, chunk_key=f"{summary['file_id'][:12]}-0000")[0]

    output = tmp_path / "one.pdf"
    cli("boleto", "pdf", row.debt_id, "-o", output, json=False)
    assert _scan(output.read_bytes()) == [row.barcode]
    missing = cli("boleto", "pdf", "00000000-0000-4000-8000-000000000000", "-o", output, json=False, check=False)
    assert missing.status == 2 and "no boleto for debt" in missing.err


def test_pdf_stage_tells_its_reporter_at_each_tenth_and_when_done_and_a_kept_archive_says_nothing(
        settings, engine, tmp_path):
    sample = write_sample_file(tmp_path / "debts.csv", rows=40, seed=32)
    [key] = store_sample(engine, settings, sample, through="boletos", today=TODAY).chunk_keys
    lines: list[str] = []

    stages.pdf_stage(engine, settings, key, today=TODAY, progress=lines.append)

    assert all(line.startswith(f"PDFs of chunk {key}: ") for line in lines)
    assert [line.split(": ")[1].split(" ")[0] for line in lines] == [f"{n}/40" for n in range(4, 41, 4)]
    assert re.fullmatch(r".*: 40/40 \(100%\), [\d,.]+/s, done in \d+ s", lines[-1])
    kept: list[str] = []
    assert not stages.pdf_stage(engine, settings, key, today=TODAY, progress=kept.append).created
    assert kept == []

