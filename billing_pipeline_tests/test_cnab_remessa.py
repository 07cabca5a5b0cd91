"""A remessa we write, for each bank we issue at, read back by our reader field by field."""

from __future__ import annotations

import io
import re
from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from billing_pipeline.boleto.account import BeneficiaryAccount
from billing_pipeline.boleto.banks import BANKS
from billing_pipeline.boleto.vectorized import boleto_numbers
from billing_pipeline.cnab import remessa as remessa_module
from billing_pipeline.cnab.identifiers import company_use, seu_numero
from billing_pipeline.cnab.reader import read_cnab
from billing_pipeline.cnab.remessa import REMESSA_COLUMNS, write_remessa
from billing_pipeline.cnab.text import cnab_text_one

ACCOUNTS = {
    "001": BeneficiaryAccount("001", "4042", "00061900", "17", "1238798", "Empresa Açaí Ltda", "11222333000181"),
    "033": BeneficiaryAccount("033", "1234", "13001234", "101", "1234567", "Empresa Açaí Ltda", "11222333000181"),
    "104": BeneficiaryAccount("104", "1234", "", "", "123456", "José Beneficiário", "12345678909"),
    "237": BeneficiaryAccount("237", "1172", "0403005", "09", "", "Empresa Açaí Ltda", "11222333000181"),
    "341": BeneficiaryAccount("341", "0057", "12345", "109", "", "Empresa Açaí Ltda", "11222333000181"),
}
GENERATED_AT = datetime(2025, 3, 14, 9, 26, 53)
NAME_WIDTH = {"341": 30}


def make_titles(n: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sequences = np.arange(1, n + 1, dtype=np.int64) * 7 + 1000
    due = np.datetime64("2025-04-01") + rng.integers(0, 90, n).astype("timedelta64[D]")
    documents = np.array(["12345678909", "11222333000181", "12ABC34501DE35"])[np.arange(n) % 3]
    has_address = np.arange(n) % 5 != 4
    names = np.array(["José da Conceição", "Ângela Müller & Filhos Comércio de Alimentos e Bebidas Ltda",
                      "maria o'neil"])[np.arange(n) % 3]
    return pd.DataFrame({
        "movement": np.where(np.arange(n) % 4 == 3, "02", "01"),
        "sequence": sequences,
        "document_number": seu_numero(sequences),
        "company_use": company_use([f"{i:08x}-0000-4000-8000-{i:012x}" for i in range(n)]),
        "due_date": due,
        "issued_on": np.full(n, np.datetime64("2025-03-14")),
        "amount_cents": rng.integers(100, 10**9, n),
        "payer_document": documents,
        "payer_name": names,
        "address": np.where(has_address, "Rua São João, 1.000 – apto 5º", ""),
        "district": np.where(has_address, "Centro Histórico de Niterói", ""),
        "cep": np.where(has_address, "01001000", ""),
        "city": np.where(has_address, "São Paulo", ""),
        "uf": np.where(has_address, "SP", ""),
    })


def write(account: BeneficiaryAccount, titles: pd.DataFrame, nsa: int = 42) -> tuple[bytes, object]:
    out = io.BytesIO()
    written = write_remessa(out, account, nsa, GENERATED_AT, titles)
    return out.getvalue(), written


@pytest.mark.parametrize("bank_code", sorted(ACCOUNTS))
def test_remessa_round_trips_field_by_field(bank_code):
    account, titles = ACCOUNTS[bank_code], make_titles(60)
    data, written = write(account, titles)
    cnab = read_cnab(data)
    assert cnab.warnings == []
    assert (cnab.kind, cnab.bank_code, cnab.nsa) == ("remessa", bank_code, 42)
    assert cnab.generated_on == GENERATED_AT.date()
    assert cnab.company_document == account.beneficiary_document
    assert cnab.company_name == cnab_text_one(account.beneficiary_name, 30).rstrip()
    assert cnab.agencia == account.agencia
    assert cnab.convenio == account.convenio.lstrip("0") or bank_code == "237"
    assert cnab.layout_version == BANKS_VERSIONS[bank_code]
    read = cnab.titles
    entrada = (titles["movement"] == "01").to_numpy()
    assert written.titles == len(read) == 60 and written.entradas == entrada.sum()
    assert written.baixas == 60 - entrada.sum() and written.lines == cnab.lines == 2 + 2 + 60 + entrada.sum()
    assert written.bytes == len(data)
    assert read["movement_code"].tolist() == titles["movement"].tolist()
    assert read["sequence"].tolist() == titles["sequence"].tolist()
    assert read["document_number"].tolist() == titles["document_number"].tolist()
    assert read["company_use"].tolist() == titles["company_use"].tolist()
    assert (read["due_date"].to_numpy() == titles["due_date"].to_numpy()).all()
    assert (read["issued_on"].to_numpy() == titles["issued_on"].to_numpy()).all()
    assert read["amount_cents"].tolist() == titles["amount_cents"].tolist()
    width = NAME_WIDTH.get(bank_code, 40)
    widths = {"payer_name": width, "address": 40, "district": 15, "city": 15, "uf": 2}
    for column, w in widths.items():
        expected = [cnab_text_one(v, w).rstrip() if e else "" for v, e in zip(titles[column], entrada, strict=True)]
        assert read[column].tolist() == expected, column
    expected_documents = np.where(entrada, titles["payer_document"], "")
    assert read["payer_document"].tolist() == expected_documents.tolist()
    assert read["cep"].tolist() == np.where(entrada, titles["cep"], "").tolist()
    # the nosso número field carries the boleto's number, formatted as the bank's CNAB manual says
    printed = boleto_numbers(account, titles["sequence"].to_numpy(), titles["amount_cents"].to_numpy(),
                             titles["due_date"].to_numpy()).nosso_numero
    if bank_code == "104":  # Caixa's P carries the 17 digits without their DV
        printed = [str(p).split("-")[0] for p in printed]
    digits = [re.sub(r"\D", "", str(p).split("/")[-1]) for p in printed]
    assert all(d in re.sub(r"\D", "", n) for d, n in zip(digits, read["nosso_numero"], strict=True))


BANKS_VERSIONS = {"001": "083", "033": "040", "104": "050", "237": "084", "341": "040"}


@pytest.mark.parametrize("bank_code", sorted(ACCOUNTS))
def test_remessa_lines_are_240_latin1_uppercase_crlf(bank_code):
    data, _ = write(ACCOUNTS[bank_code], make_titles(30))
    assert data.endswith(b"\r\n")
    lines = data.split(b"\r\n")[:-1]
    assert all(len(line) == 240 for line in lines)
    assert b"\n" not in b"".join(lines) and b"\r" not in b"".join(lines)
    text = data.decode("latin-1")
    assert text.isascii() and text == text.upper()
    assert all(0x20 <= b <= 0x7E for line in lines for b in line)


@pytest.mark.parametrize("bank_code", sorted(ACCOUNTS))
def test_remessa_trailer_counts(bank_code):
    titles = make_titles(21)
    data, written = write(ACCOUNTS[bank_code], titles)
    lines = data.split(b"\r\n")[:-1]
    assert [line[7:8] for line in (lines[0], lines[1], lines[-2], lines[-1])] == [b"0", b"1", b"5", b"9"]
    assert lines[-1][17:23] == b"000001" and int(lines[-1][23:29]) == len(lines) == written.lines
    assert int(lines[-2][17:23]) == len(lines) - 2  # header lote + details + trailer lote
    details = lines[2:-2]
    assert [int(line[8:13]) for line in details] == list(range(1, len(details) + 1))
    segments = b"".join(line[13:14] for line in details).decode()
    assert segments == "".join("PQ" if m == "01" else "P" for m in titles["movement"])


def test_many_lotes_when_a_lote_would_overflow(monkeypatch):
    monkeypatch.setattr(remessa_module, "MAX_TITLES_PER_LOTE", 7)
    titles = make_titles(20)
    data, written = write(ACCOUNTS["341"], titles)
    cnab = read_cnab(data)
    assert cnab.warnings == [] and len(cnab.titles) == 20
    assert cnab.titles["sequence"].tolist() == titles["sequence"].tolist()
    lines = data.split(b"\r\n")[:-1]
    assert int(lines[-1][17:23]) == 3 and [line[3:7] for line in lines if line[7:8] == b"1"] == \
        [b"0001", b"0002", b"0003"]


def test_columns_and_refusals():
    titles = make_titles(3)
    assert tuple(titles.columns) == REMESSA_COLUMNS
    with pytest.raises(ValueError, match="lack columns"):
        write(ACCOUNTS["341"], titles.drop(columns=["cep"]))
    with pytest.raises(ValueError, match="movements"):
        write(ACCOUNTS["341"], titles.assign(movement="31"))
    with pytest.raises(ValueError, match="no CNAB 240 remessa"):
        write(BeneficiaryAccount("748", "0001", "1", "1", "1", "X", "11222333000181"), titles)
    assert set(ACCOUNTS) == set(BANKS)


def test_empty_remessa_still_has_its_shape():
    data, written = write(ACCOUNTS["104"], make_titles(0))
    cnab = read_cnab(data)
    assert written.lines == 4 and cnab.titles.empty and cnab.warnings == []


def test_reader_tolerates_newlines_stripped_blanks_and_utf8():
    data, _ = write(ACCOUNTS["033"], make_titles(12))
    expected = read_cnab(data).titles
    lines = data.split(b"\r\n")[:-1]
    variants = {
        "lf": b"\n".join(lines) + b"\n",
        "stripped": b"\r\n".join(line.rstrip(b" ") for line in lines),
        "241": b"\n".join(line + b" " for line in lines) + b"\n",
    }
    for name, variant in variants.items():
        cnab = read_cnab(variant)
        pd.testing.assert_frame_equal(cnab.titles, expected, obj=name)
    accented = data.replace(b"JOSE DA CONCEICAO", "JOSÉ DA CONCEIÇÃO".encode())
    assert any(len(line) in (241, 243) for line in accented.split(b"\r\n"))
    cnab = read_cnab(accented)
    assert "JOSÉ DA CONCEIÇÃO" in cnab.titles["payer_name"].tolist()
    assert any("UTF-8" in w for w in cnab.warnings)


def test_unreadable_files_raise_cnab_errors():
    from billing_pipeline.cnab.errors import CnabError, CnabErrorCode
    from billing_pipeline.cnab.reader import looks_like_cnab240

    data, _ = write(ACCOUNTS["341"], make_titles(4))
    assert looks_like_cnab240(data[:100]) and not looks_like_cnab240(b"debt_id;cpf;amount\n1;2;3\n")
    cases = {b"": CnabErrorCode.EMPTY, b"debt_id;cpf;amount\n1;2;3\n": CnabErrorCode.NOT_CNAB240,
             data[: 242 * 5]: CnabErrorCode.TRUNCATED}
    for raw, code in cases.items():
        with pytest.raises(CnabError) as caught:
            read_cnab(raw)
        assert caught.value.code == code
    bad_segment = data.replace(b"00001P ", b"00001Z ", 1)
    with pytest.raises(CnabError) as caught:
        read_cnab(bad_segment)
    assert caught.value.code == CnabErrorCode.BAD_SEGMENT and caught.value.line_number == 3
