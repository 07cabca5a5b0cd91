"""Fines, interest and discounts: the beneficiary's policy, a row's own columns validated with stable codes, the
terms stored and resolved once for every reader, and the pt-BR lines the boleto and the reminders print."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select, text

from billing_pipeline import stages
from billing_pipeline.charge_terms import (
    ChargePolicy,
    ChargeTerms,
    bank_problems,
    instruction_lines,
    resolve_terms,
)
from billing_pipeline.ingest.header import TERMS_COLUMNS, parse_header
from billing_pipeline.ingest.inbox import sha256_of
from billing_pipeline.ingest.records import read_chunk
from billing_pipeline.ingest.split import split_file
from billing_pipeline.rejects import MESSAGES, RejectCode
from billing_pipeline.sample import generate, write_sample
from billing_pipeline.settings import Settings
from billing_pipeline.store import migrate
from billing_pipeline.store.boletos import boleto_rows
from billing_pipeline.store.engine import create_store_engine
from billing_pipeline.store.tables import debts
from billing_pipeline.validation.validate import CHARGE_TERMS_COLUMNS, DEBT_COLUMNS, validate_chunk
from billing_pipeline_tests.support.files import SampleFile, store_sample

REQUIRED = "name,governmentId,email,debtAmount,debtDueDate,debtId"
HEADER = f"{REQUIRED},finePercent,interestMonthlyPercent,discountPercent,discountUntil\n"
ANA = "Ana Silva,529.982.247-25,ana@example.com,1000,2027-03-20,ea23f2ca-663a-4266-a742-9da4c9f4fcb3"
BRUNO = "Bruno Lima,11.222.333/0001-81,bruno@example.com.br,100,2027-03-21,acc1794e-b264-4fab-8bb7-3400d4c4734d"
CAIO = "Caio Dias,52998224725,caio@example.com,5,2027-03-22,bcc1794e-b264-4fab-8bb7-3400d4c4734d"
TERMS = ["fine_basis_points", "interest_monthly_basis_points", "discount_basis_points", "discount_until"]
TODAY = date(2026, 12, 1)


def _write(tmp_path: Path, content: str, name: str = "input.csv") -> Path:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path


def _validate(path: Path):
    layout = split_file(path, 1000)
    return validate_chunk(read_chunk(path, layout.chunks[0], layout.columns), layout.verdicts, "strict")


def _with_policy(settings: Settings, **policy: object) -> Settings:
    return Settings.from_env({}, data_dir=settings.data_dir, database_url=settings.database_url, **policy)


def _store(engine, settings: Settings, path: Path) -> str:
    stored = store_sample(engine, settings, SampleFile(path, 0, [], sha256_of(path)), through="boletos", today=TODAY)
    return stored.file_id


# --- the domain ----------------------------------------------------------------------------------------------------


def test_the_lines_state_the_rules_and_never_a_total():
    terms = ChargeTerms(200, 100, 500, date(2026, 12, 10))
    lines = instruction_lines(terms, date(2026, 12, 20), 100_000)

    assert lines == (
        "Após o vencimento, multa de 2,00%.",
        "Após o vencimento, juros de mora de 1,00% ao mês (R$ 0,33 por dia).",
        "Até 10/12/2026, desconto de 5,00% (R$ 50,00).",
    )
    assert not any("total" in line.lower() or "R$ 1.0" in line for line in lines)
    assert instruction_lines(ChargeTerms(discount_basis_points=500, discount_until=date(2026, 12, 10)),
                             date(2026, 12, 20), 10_000) == ("Até 10/12/2026, desconto de 5,00% (R$ 5,00).",)


def test_a_rows_own_terms_win_each_on_its_own_over_the_policy():
    policy = ChargePolicy(fine_basis_points=200, interest_monthly_basis_points=100, discount_basis_points=500,
                          discount_days_before_due=5)
    due, issued = date(2027, 3, 20), date(2027, 3, 1)

    assert resolve_terms(policy, due, issued) == ChargeTerms(200, 100, 500, date(2027, 3, 15))
    assert resolve_terms(policy, due, issued, fine=0, interest_monthly=250) == ChargeTerms(0, 250, 500,
                                                                                           date(2027, 3, 15))
    assert resolve_terms(policy, due, issued, discount_until=date(2027, 3, 20)).discount_until == due
    assert resolve_terms(policy, due, issued, discount=0) == ChargeTerms(200, 100, 0, None)
    # A discount whose date has passed when the boleto is issued offers nothing: the bank would refuse it.
    assert resolve_terms(policy, due, date(2027, 3, 16)).discount_basis_points == 0
    assert resolve_terms(None, due, issued) == ChargeTerms()


def test_what_banks_refuse_is_named():
    due = date(2027, 3, 20)
    assert bank_problems(ChargeTerms(200, 100, 500, due), due) == []
    assert bank_problems(ChargeTerms(interest_monthly_basis_points=10_001), due) == [
        "interest of 100,01% a month is above 100%"]
    assert bank_problems(ChargeTerms(discount_basis_points=500), due) == ["a discount without its limit date"]


def test_the_policy_comes_from_the_settings(settings):
    configured = _with_policy(settings, fine_percent=Decimal("2"), interest_monthly_percent=Decimal("0.99"),
                              discount_percent=Decimal("5.5"), discount_days_before_due=3)
    assert ChargePolicy.from_settings(configured) == ChargePolicy(200, 99, 550, 3)
    assert ChargePolicy.from_settings(settings) == ChargePolicy()


# --- the CSV columns -----------------------------------------------------------------------------------------------


def test_the_header_takes_the_terms_columns_in_any_case_and_no_aliases():
    assert parse_header(f"{REQUIRED},FINEPERCENT,discountuntil")[-2:] == ["finePercent", "discountUntil"]
    assert parse_header(f"{REQUIRED},juros,multa")[-2:] == ["juros", "multa"]  # extra columns, ignored as before
    assert set(TERMS_COLUMNS) == set(CHARGE_TERMS_COLUMNS)


def test_terms_are_read_as_basis_points_and_empty_values_leave_the_policy(tmp_path):
    content = (HEADER + f"{ANA},2,1,5,2027-03-10\n" + f"{BRUNO},2.5,0.99,10.00,\n" + f"{CAIO},0,,,\n")
    result = _validate(_write(tmp_path, content))

    assert result.rejects.empty
    accepted = result.accepted
    assert list(accepted.columns) == DEBT_COLUMNS + TERMS
    assert accepted["fine_basis_points"].tolist() == [200, 250, 0]
    assert accepted["interest_monthly_basis_points"].tolist()[:2] == [100, 99]
    assert accepted["discount_basis_points"].tolist()[:2] == [500, 1000]
    assert accepted.loc[2, ["interest_monthly_basis_points", "discount_basis_points", "discount_until"]].isna().all()
    assert accepted.loc[0, "discount_until"] == "2027-03-10"


@pytest.mark.parametrize(
    ("column", "value", "code"),
    [
        ("finePercent", "100.01", RejectCode.INVALID_FINE),
        ("finePercent", "2.505", RejectCode.INVALID_FINE),
        ("finePercent", "-2", RejectCode.INVALID_FINE),
        ("finePercent", "2%", RejectCode.INVALID_FINE),
        ("finePercent", "1e2", RejectCode.INVALID_FINE),
        ("interestMonthlyPercent", "101", RejectCode.INVALID_INTEREST),
        ("interestMonthlyPercent", "abc", RejectCode.INVALID_INTEREST),
        ("interestMonthlyPercent", "0.001", RejectCode.INVALID_INTEREST),
        ("discountPercent", "100", RejectCode.INVALID_DISCOUNT),
        ("discountPercent", "5.123", RejectCode.INVALID_DISCOUNT),
        ("discountUntil", "2027-02-30", RejectCode.INVALID_DISCOUNT),
        ("discountUntil", "10/03/2027", RejectCode.INVALID_DISCOUNT),
        ("discountUntil", "2027-03-21", RejectCode.INVALID_DISCOUNT),  # after the debt's due date
    ],
)
def test_each_terms_rule_gives_its_code_and_only_that_code(tmp_path, column, value, code):
    fields = {"finePercent": "2", "interestMonthlyPercent": "1", "discountPercent": "5",
              "discountUntil": "2027-03-10"} | {column: value}
    result = _validate(_write(tmp_path, HEADER + ANA + "," + ",".join(fields.values()) + "\n"))

    assert result.accepted.empty
    assert result.rejects[["column", "code"]].values.tolist() == [[column, code.value]]
    assert result.rejects["message"].iloc[0].startswith(MESSAGES[code])


def test_malformed_terms_are_rejects_with_their_lines_never_a_traceback(tmp_path):
    rows = [f"{ANA},\x00,\"1,5\",5,2027-03-10", f"{BRUNO},２,1,5,２０２７-03-10", f"{CAIO},,,,", f"{CAIO[:-1]}e,2,1,5"]
    result = _validate(_write(tmp_path, HEADER + "\n".join(rows) + "\n"))

    assert result.accepted["name"].tolist() == ["Caio Dias"]
    assert sorted(set(result.rejects["line_number"])) == [2, 3, 5]
    assert {"INVALID_FINE", "INVALID_INTEREST", "INVALID_DISCOUNT", "WRONG_FIELD_COUNT"} >= \
        set(result.rejects["code"]) >= {"INVALID_FINE", "INVALID_INTEREST", "INVALID_DISCOUNT"}


def test_a_file_without_the_columns_gives_the_frames_it_always_gave(tmp_path):
    result = _validate(_write(tmp_path, f"{REQUIRED}\n{ANA}\n{BRUNO}\n"))
    assert list(result.accepted.columns) == DEBT_COLUMNS and result.rejects.empty


def test_the_sample_has_no_terms_unless_asked_and_the_same_debts_when_asked():
    plain, _ = generate(300, seed=4)
    with_terms, _ = generate(300, seed=4, with_terms=True)
    assert list(with_terms.columns) == [*plain.columns, *TERMS_COLUMNS]
    pd.testing.assert_frame_equal(with_terms[list(plain.columns)], plain)
    own = (with_terms[list(TERMS_COLUMNS)] != "").any(axis=1)
    assert 60 < own.sum() < 160
    dated = with_terms[with_terms["discountUntil"] != ""]
    assert (dated["discountUntil"] <= dated["debtDueDate"]).all() and len(dated) > 10


# --- stored and resolved -------------------------------------------------------------------------------------------


def test_terms_are_stored_on_the_debt_and_null_is_the_policy(engine, settings, tmp_path):
    _store(engine, settings, _write(tmp_path, HEADER + f"{ANA},2,1,5,2027-03-10\n{BRUNO},,,,\n"))

    with engine.connect() as connection:
        stored = connection.execute(select(debts.c.name, *(debts.c[c] for c in TERMS))
                                    .order_by(debts.c.line_number)).all()
    assert [tuple(row) for row in stored] == [("Ana Silva", 200, 100, 500, date(2027, 3, 10)),
                                              ("Bruno Lima", None, None, None, None)]


def test_every_reader_gets_the_terms_resolved_against_the_policy_the_file_was_registered_under(
        engine, settings, tmp_path):
    policy = _with_policy(settings, fine_percent=Decimal("2"), interest_monthly_percent=Decimal("1"),
                          discount_percent=Decimal("3"), discount_days_before_due=10)
    _store(engine, policy, _write(tmp_path, HEADER + f"{ANA},0,2.5,,\n{BRUNO},,,5,2027-03-18\n{CAIO},,,,\n"))

    terms = {boleto.payer_name: boleto.terms for boleto in boleto_rows(engine, debt_id=None, chunk_key=_chunk(engine))}
    assert terms == {
        "Ana Silva": ChargeTerms(0, 250, 300, date(2027, 3, 10)),
        "Bruno Lima": ChargeTerms(200, 100, 500, date(2027, 3, 18)),
        "Caio Dias": ChargeTerms(200, 100, 300, date(2027, 3, 12)),
    }
    # The settings change: boletos already issued keep what they were printed and registered with.
    later = _with_policy(settings, fine_percent=Decimal("10"))
    stages.register_stage(engine, later, _write(tmp_path, HEADER + f"{ANA},0,2.5,,\n{BRUNO},,,5,2027-03-18\n"
                                                f"{CAIO},,,,\n", "again.csv"), keep_original=True)
    assert {b.payer_name: b.terms for b in boleto_rows(engine, chunk_key=_chunk(engine))} == terms
    [ana] = boleto_rows(engine, debt_id="ea23f2ca-663a-4266-a742-9da4c9f4fcb3")
    assert ana.terms == terms["Ana Silva"]


def test_a_file_without_the_columns_and_no_policy_has_no_terms(engine, settings, tmp_path):
    _store(engine, settings, _write(tmp_path, f"{REQUIRED}\n{ANA}\n{BRUNO}\n"))
    boletos = boleto_rows(engine, chunk_key=_chunk(engine))
    assert [b.terms for b in boletos] == [ChargeTerms(), ChargeTerms()]
    assert all(not b.terms.any for b in boletos)


def test_a_terms_sample_is_loaded_with_exactly_its_injected_errors(engine, settings, tmp_path):
    source = tmp_path / "sample.csv"
    injected = write_sample(source, rows=400, seed=3, invalid_rate=0.1, with_address=True, with_terms=True)
    stored = store_sample(engine, settings, SampleFile(source, 400, injected, sha256_of(source)), through="debts")

    with engine.connect() as connection:
        found = {(int(line), code) for line, code in connection.execute(
            text("SELECT line_number, code FROM rejects WHERE file_id = :f"), {"f": stored.file_id})}
        loaded = connection.execute(text("SELECT COUNT(*), COUNT(fine_basis_points) FROM debts")).one()
    assert found == {(e.line_number, e.code.value) for e in injected}
    assert {RejectCode.INVALID_FINE, RejectCode.INVALID_INTEREST, RejectCode.INVALID_DISCOUNT} <= \
        {e.code for e in injected}
    assert loaded[0] == 400 - len({e.line_number for e in injected}) and loaded[1] > 50


# --- migration on an existing store ---------------------------------------------------------------------------------


def test_migration_0012_applies_on_a_store_with_files_and_leaves_them_without_a_policy(settings):
    store = create_store_engine(settings.database_url)
    try:
        with store.begin() as connection:
            applied = [m for m in migrate.migrations(store.dialect.name) if m.version < 12]
            for migration in applied:
                for statement in migrate._statements(migration.path.read_text(encoding="utf-8")):
                    connection.exec_driver_sql(statement)
            connection.exec_driver_sql("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY,"
                                       " name TEXT NOT NULL, applied_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)")
            for migration in applied:
                connection.execute(text("INSERT INTO schema_version (version, name) VALUES (:v, :n)"),
                                   {"v": migration.version, "n": migration.name})
            connection.execute(text(
                "INSERT INTO source_files (file_id, original_name, size_bytes, status, received_via)"
                " VALUES ('f' , 'old.csv', 1, 'registered', 'inbox')"))

        assert 12 in [m.version for m in migrate.upgrade(store)]

        with store.connect() as connection:
            policy = connection.execute(text("SELECT original_name, policy_fine_basis_points,"
                                             " policy_discount_days_before_due FROM source_files")).one()
            connection.execute(text("SELECT fine_basis_points, interest_monthly_basis_points, discount_basis_points,"
                                    " discount_until FROM debts")).all()
        assert tuple(policy) == ("old.csv", None, None)  # registered before: its boletos carry no terms
    finally:
        store.dispose()


def _chunk(engine) -> str:
    with engine.connect() as connection:
        return connection.execute(text("SELECT chunk_key FROM boletos ORDER BY chunk_key LIMIT 1")).scalar_one()
