"""The optional payer address columns: read when the header has them (names, aliases, any order), validated with
stable codes, stored in debts; a file without them goes exactly as before."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select

from billing_pipeline.ingest.file_rejected import FileRejected
from billing_pipeline.ingest.header import ADDRESS_COLUMNS, parse_header
from billing_pipeline.ingest.records import read_chunk
from billing_pipeline.ingest.split import split_file
from billing_pipeline.rejects import MESSAGES, RejectCode
from billing_pipeline.sample import generate, write_sample
from billing_pipeline.store.tables import debts
from billing_pipeline.validation.validate import DEBT_COLUMNS, PAYER_ADDRESS_COLUMNS, validate_chunk

REQUIRED = "name,governmentId,email,debtAmount,debtDueDate,debtId"
HEADER = f"{REQUIRED},address,district,zipCode,city,state\n"
ANA = "Ana Silva,529.982.247-25,ana@example.com,10.50,2026-03-01,ea23f2ca-663a-4266-a742-9da4c9f4fcb3"
BRUNO = "Bruno Lima,11.222.333/0001-81,bruno@example.com.br,99,2026-03-02,acc1794e-b264-4fab-8bb7-3400d4c4734d"
CAIO = "Caio Dias,52998224725,caio@example.com,5,2026-03-03,bcc1794e-b264-4fab-8bb7-3400d4c4734d"
DORA = "Dora Reis,52998224725,dora@example.com,7,2026-03-04,dcc1794e-b264-4fab-8bb7-3400d4c4734d"
ANA_ADDRESS = "Avenida Paulista 1578 apto 42,Bela Vista,01310-200,São Paulo,sp"
PAYER = ["payer_address", "payer_district", "payer_zip_code", "payer_city", "payer_state"]


def _write(tmp_path: Path, content: str, name: str = "input.csv") -> Path:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path


def _validate(path: Path):
    layout = split_file(path, 1000)
    return validate_chunk(read_chunk(path, layout.chunks[0], layout.columns), layout.verdicts, "strict")


def _stored(engine) -> dict[str, tuple]:
    query = select(debts.c.name, *(debts.c[c] for c in PAYER)).order_by(debts.c.line_number)
    with engine.connect() as connection:
        return {row[0]: tuple(row[1:]) for row in connection.execute(query)}


def _report(summary: dict) -> pd.DataFrame:
    return pd.read_csv(summary["rejects_report"], keep_default_na=False)


# --- the header -------------------------------------------------------------------------------------------------


def test_the_header_takes_the_names_and_their_aliases_in_any_case_and_order():
    columns = parse_header("UF,debtId,Neighborhood,name,CEP,governmentId,email,Address,debtAmount,CITY,debtDueDate")
    assert columns == ["state", "debtId", "district", "name", "zipCode", "governmentId", "email", "address",
                       "debtAmount", "city", "debtDueDate"]
    assert parse_header(f"{REQUIRED},postalcode")[-1] == "zipCode"
    assert parse_header(f"{REQUIRED},zipcode,STATE")[-2:] == ["zipCode", "state"]


def test_a_column_given_twice_under_two_of_its_names_is_a_duplicate_column():
    with pytest.raises(FileRejected) as raised:
        parse_header(f"{REQUIRED},cep,zipCode")
    assert raised.value.code == RejectCode.DUPLICATE_COLUMNS
    assert "zipCode (as cep, zipCode)" in str(raised.value)


# --- validation, without a store ---------------------------------------------------------------------------------


def test_addresses_are_normalised_and_empty_values_are_missing_not_rejected(tmp_path):
    content = (HEADER + f"{ANA},{ANA_ADDRESS}\n"
               + f"{BRUNO},Rua XV de Novembro 10,Centro,80.020-310,Curitiba,PR\n"
               + f"{CAIO},,,01310100,,\n"  # a partial address is the remessa's to report
               + f"{DORA},,,,,\n")
    result = _validate(_write(tmp_path, content))

    assert result.rejects.empty
    accepted = result.accepted
    assert list(accepted.columns) == DEBT_COLUMNS + PAYER
    assert accepted["payer_zip_code"].tolist()[:3] == ["01310200", "80020310", "01310100"]
    assert accepted["payer_state"].tolist()[:2] == ["SP", "PR"]
    assert accepted.loc[0, "payer_city"] == "São Paulo"
    assert accepted.loc[2:, ["payer_address", "payer_state"]].isna().all().all()
    assert accepted.loc[3, PAYER].isna().all()


@pytest.mark.parametrize(
    ("column", "value", "code"),
    [
        ("zipCode", "1310-100", RejectCode.INVALID_ZIP_CODE),
        ("zipCode", "01310-1000", RejectCode.INVALID_ZIP_CODE),
        ("zipCode", "0131O-100", RejectCode.INVALID_ZIP_CODE),
        ("zipCode", "01310 100", RejectCode.INVALID_ZIP_CODE),
        ("state", "XX", RejectCode.INVALID_STATE),
        ("state", "São Paulo", RejectCode.INVALID_STATE),
        ("address", "R" * 201, RejectCode.FIELD_TOO_LONG),
        ("district", "B" * 101, RejectCode.FIELD_TOO_LONG),
        ("city", "C" * 101, RejectCode.FIELD_TOO_LONG),
    ],
)
def test_each_address_rule_gives_its_code_and_only_that_code(tmp_path, column, value, code):
    fields = dict(zip(ADDRESS_COLUMNS, ANA_ADDRESS.split(","), strict=True)) | {column: value}
    result = _validate(_write(tmp_path, HEADER + f"{ANA},{','.join(fields.values())}\n"))

    assert result.accepted.empty
    assert result.rejects[["line_number", "column", "code"]].values.tolist() == [[2, column, code.value]]
    assert result.rejects["message"].iloc[0].startswith(MESSAGES[code])


def test_the_longest_values_allowed_are_accepted(tmp_path):
    content = HEADER + f"{ANA},{'R' * 200},{'B' * 100},01310-100,{'C' * 100},DF\n"
    result = _validate(_write(tmp_path, content))
    assert result.rejects.empty and len(result.accepted) == 1


def test_quoted_records_read_the_address_as_the_plain_ones_do(tmp_path):
    plain = _validate(_write(tmp_path, HEADER + f"{ANA},{ANA_ADDRESS}\n", "plain.csv")).accepted
    quoted = _validate(_write(tmp_path, HEADER + f'{ANA},"Avenida Paulista 1578 apto 42",Bela Vista,'
                              '"01310-200",São Paulo,sp\n', "quoted.csv")).accepted
    pd.testing.assert_frame_equal(plain.drop(columns="raw_line"), quoted.drop(columns="raw_line"))
    commas = _validate(_write(tmp_path, HEADER + f'{ANA},"Avenida Paulista, 1578",,01310-200,,\n', "c.csv"))
    assert commas.accepted["payer_address"].tolist() == ["Avenida Paulista, 1578"]


def test_a_file_without_the_columns_gives_the_frames_it_always_gave(tmp_path):
    result = _validate(_write(tmp_path, f"{REQUIRED},notes\n{ANA},whatever\n"))
    assert list(result.accepted.columns) == DEBT_COLUMNS
    fields = read_chunk(tmp_path / "input.csv", split_file(tmp_path / "input.csv", 10).chunks[0],
                        parse_header(f"{REQUIRED},notes"))
    assert list(fields.fields.columns) == ["line_number", "raw_line", *REQUIRED.split(",")]


# --- loaded into the store (SQLite and PostgreSQL) ------------------------------------------------------------------


def test_a_file_with_addresses_loads_them(billing_env, engine, tmp_path, cli):
    content = (HEADER + f"{ANA},{ANA_ADDRESS}\n"
               + f"{BRUNO},Rua XV de Novembro 10,Centro,80.020-310,Curitiba,PR\n"
               + f"{CAIO},,,,Recife,\n")
    summary = cli("process", _write(tmp_path, content)).json

    assert (summary["rows"], summary["accepted"], summary["rejected"]) == (3, 3, 0)
    assert _stored(engine) == {
        "Ana Silva": ("Avenida Paulista 1578 apto 42", "Bela Vista", "01310200", "São Paulo", "SP"),
        "Bruno Lima": ("Rua XV de Novembro 10", "Centro", "80020310", "Curitiba", "PR"),
        "Caio Dias": (None, None, None, "Recife", None),
    }


def test_aliases_in_any_order_load_the_same(billing_env, engine, tmp_path, cli):
    fields = REQUIRED.split(",")
    header = ["UF", fields[5], "Neighborhood", fields[0], "postalCode", *fields[1:5], "city", "address"]
    values = ANA.split(",")
    row = ["rj", values[5], "Copacabana", values[0], "22041-001", *values[1:5], "Rio de Janeiro",
           "Rua Barata Ribeiro 200"]
    summary = cli("process", _write(tmp_path, ",".join(header) + "\n" + ",".join(row) + "\n")).json

    assert summary["accepted"] == 1
    assert _stored(engine) == {
        "Ana Silva": ("Rua Barata Ribeiro 200", "Copacabana", "22041001", "Rio de Janeiro", "RJ")}


def test_bad_zip_codes_and_states_are_reported_on_their_lines_and_nothing_is_lost(billing_env, engine, tmp_path,
                                                                                  cli):
    content = (HEADER + f"{ANA},{ANA_ADDRESS}\n"
               + f"{BRUNO},Rua XV de Novembro 10,Centro,8002-310,Curitiba,PR\n"
               + f"{CAIO},Rua A 1,Centro,01310-100,Recife,PX\n"
               + f"{DORA},Rua B 2,Centro,ABCDEFGH,Recife,ZZ\n")
    summary = cli("process", _write(tmp_path, content)).json

    assert (summary["rows"], summary["accepted"], summary["rejected"]) == (4, 1, 3)
    report = _report(summary)
    assert report[["line_number", "column", "code"]].values.tolist() == [
        [3, "zipCode", "INVALID_ZIP_CODE"],
        [4, "state", "INVALID_STATE"],
        [5, "state", "INVALID_STATE"],
        [5, "zipCode", "INVALID_ZIP_CODE"],
    ]
    assert report["raw_line"].tolist()[0] == f"{BRUNO},Rua XV de Novembro 10,Centro,8002-310,Curitiba,PR"
    assert "(got '8002-310')" in report["message"].iloc[0]
    assert list(_stored(engine)) == ["Ana Silva"]


def test_a_file_without_the_columns_loads_as_before_with_no_address(billing_env, engine, tmp_path, cli):
    summary = cli("process", _write(tmp_path, f"{REQUIRED}\n{ANA}\n{BRUNO}\n")).json

    assert (summary["rows"], summary["accepted"], summary["rejected"]) == (2, 2, 0)
    assert _stored(engine) == {"Ana Silva": (None,) * 5, "Bruno Lima": (None,) * 5}


def test_the_address_is_part_of_a_debts_content_when_it_is_sent_again(billing_env, engine, tmp_path, cli):
    cli("process", _write(tmp_path, HEADER + f"{ANA},{ANA_ADDRESS}\n{BRUNO},,,,,\n", "first.csv"))
    again = cli("process", _write(tmp_path, HEADER + f"{ANA},{ANA_ADDRESS.replace('sp', 'SP')}\n"
                                  f"{BRUNO},,,,,\n", "again.csv")).json
    assert (again["accepted"], again["duplicates"], again["rejected"]) == (0, 2, 0)  # same values once normalised

    moved = cli("process", _write(tmp_path, HEADER + f"{ANA},Rua Augusta 10,Consolação,01305-000,São Paulo,SP\n",
                                  "moved.csv")).json
    assert (moved["accepted"], moved["duplicates"], moved["rejected"]) == (0, 0, 1)
    assert _report(moved)[["line_number", "code"]].values.tolist() == [[2, "DUPLICATE_CONFLICT"]]

    # A file without the columns has no address: a debt stored without one is the same debt.
    without = cli("process", _write(tmp_path, f"{REQUIRED}\n{BRUNO}\n", "without.csv")).json
    assert (without["accepted"], without["duplicates"]) == (0, 1)


def test_a_debt_repeated_in_one_file_with_another_address_is_a_conflict(billing_env, tmp_path, cli):
    content = HEADER + f"{ANA},{ANA_ADDRESS}\n{ANA},{ANA_ADDRESS.replace('1578', '1579')}\n{ANA},{ANA_ADDRESS}\n"
    summary = cli("process", _write(tmp_path, content)).json
    assert (summary["rows"], summary["accepted"], summary["rejected"]) == (3, 0, 3)
    assert set(_report(summary)["code"]) == {"DUPLICATE_CONFLICT"}


# --- the sample generator ------------------------------------------------------------------------------------------


def test_the_sample_has_no_address_unless_asked_and_the_same_debts_when_asked():
    plain, plain_errors = generate(200, seed=9, invalid_rate=0.0)
    with_address, _ = generate(200, seed=9, invalid_rate=0.0, with_address=True)

    assert list(plain.columns) == REQUIRED.split(",")
    assert list(with_address.columns) == [*REQUIRED.split(","), *ADDRESS_COLUMNS]
    pd.testing.assert_frame_equal(with_address[list(plain.columns)], plain)
    empty = (with_address[list(ADDRESS_COLUMNS)] == "").all(axis=1)
    assert 0 < empty.sum() < 60  # about one in ten without an address
    given = with_address[~empty]
    assert given["zipCode"].str.fullmatch(r"[0-9]{5}-?[0-9]{3}").all()
    assert given["state"].nunique() > 10


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_sample_with_addresses_is_loaded_with_exactly_its_injected_errors(billing_env, engine, tmp_path, cli):
    source = tmp_path / "sample.csv"
    injected = write_sample(source, rows=400, seed=3, invalid_rate=0.1, with_address=True)
    summary = cli("process", source).json

    report = _report(summary)
    assert set(zip(report["line_number"], report["code"], strict=True)) == {(e.line_number, e.code.value)
                                                                             for e in injected}
    assert {RejectCode.INVALID_ZIP_CODE, RejectCode.INVALID_STATE} <= {e.code for e in injected}
    with engine.connect() as connection:
        stored = pd.DataFrame(connection.execute(select(*(debts.c[c] for c in PAYER))).all(), columns=PAYER)
    assert len(stored) == summary["accepted"] == 400 - report["line_number"].nunique()
    assert stored["payer_zip_code"].dropna().str.fullmatch(r"[0-9]{8}").all()
    assert stored["payer_state"].notna().sum() > 300
    assert set(PAYER_ADDRESS_COLUMNS.values()) == set(PAYER)
