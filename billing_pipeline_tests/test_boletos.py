"""Boletos in the store: one per debt, unique nosso número under concurrency, due-date policy, checks."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, select

from billing_pipeline import stages
from billing_pipeline.boleto import barcode_from_linha, due_date_factor
from billing_pipeline.boleto.vectorized import boleto_due_dates, verify_many
from billing_pipeline.sample import write_sample
from billing_pipeline.settings import Settings, SettingsError
from billing_pipeline.store.tables import boletos, debts
from billing_pipeline_tests.support.files import store_sample, write_sample_file

TODAY = date(2026, 11, 29)


def _loaded_chunks(engine, settings, tmp_path, rows=600, chunk_rows=200, seed=3):
    settings = settings.replace(chunk_rows=chunk_rows)
    sample = write_sample_file(tmp_path / f"debts-{seed}.csv", rows=rows, seed=seed)
    return settings, store_sample(engine, settings, sample, through="debts").chunk_keys


def _stored(engine) -> pd.DataFrame:
    query = select(boletos, debts.c.amount.label("debt_amount"), debts.c.due_date.label("debt_due")).join(
        debts, debts.c.debt_id == boletos.c.debt_id)
    with engine.connect() as connection:
        return pd.DataFrame(connection.execute(query).mappings().all())


def test_every_debt_gets_one_verifiable_boleto_and_reruns_add_none(settings, engine, tmp_path):
    settings, keys = _loaded_chunks(engine, settings, tmp_path)

    outcomes = [stages.boleto_stage(engine, settings, key, today=TODAY) for key in keys]
    again = [stages.boleto_stage(engine, settings, key, today=TODAY) for key in keys]

    assert [o.created for o in outcomes] == [200, 200, 200]
    assert [o.created for o in again] == [0, 0, 0]
    assert [o.total for o in again] == [200, 200, 200]
    stored = _stored(engine)
    assert len(stored) == 600
    assert stored["barcode"].is_unique and stored["nosso_numero"].is_unique
    assert sorted(stored["sequence"]) == list(range(1, 601))
    assert verify_many(stored["barcode"].to_numpy(dtype=str), stored["linha_digitavel"].to_numpy(dtype=str)).all()
    for row in stored.head(25).itertuples():
        assert barcode_from_linha(row.linha_digitavel) == row.barcode
        assert row.barcode[:3] == "341"
        assert int(row.barcode[9:19]) == round(float(row.debt_amount) * 100)
        assert int(row.barcode[5:9]) == due_date_factor(date.fromisoformat(str(row.due_date)))


def test_due_date_policy_keeps_future_dates_and_moves_near_or_past_ones(settings, engine, tmp_path):
    settings, keys = _loaded_chunks(engine, settings, tmp_path, rows=300, chunk_rows=300)
    stages.boleto_stage(engine, settings, keys[0], today=TODAY)
    stored = _stored(engine)
    debt_due = pd.to_datetime(stored["debt_due"].astype(str)).dt.date
    boleto_due = pd.to_datetime(stored["due_date"].astype(str)).dt.date
    earliest = TODAY + timedelta(days=settings.min_days_to_due)
    far = debt_due >= earliest
    assert far.any() and (~far).any()  # the sample has both
    assert (boleto_due[far] == debt_due[far]).all()
    assert (boleto_due[~far] == earliest).all()
    assert (pd.to_datetime(stored["original_due_date"].astype(str)).dt.date == debt_due).all()


def test_policy_edges():
    original = np.array(["2026-12-01", "2026-12-02", "2026-12-03", "2020-01-01"], dtype="datetime64[D]")
    assert boleto_due_dates(original, np.datetime64("2026-11-29"), 3).astype(str).tolist() == [
        "2026-12-02", "2026-12-02", "2026-12-03", "2026-12-02"]


def test_concurrent_chunks_never_share_a_nosso_numero(settings, engine, tmp_path):
    settings, keys = _loaded_chunks(engine, settings, tmp_path, rows=1000, chunk_rows=100)
    with ThreadPoolExecutor(max_workers=5) as pool:
        list(pool.map(lambda key: stages.boleto_stage(engine, settings, key, today=TODAY), keys))
    stored = _stored(engine)
    assert len(stored) == 1000
    assert stored["sequence"].is_unique
    assert sorted(stored["sequence"]) == list(range(1, 1001))


def test_billing_process_reports_boletos_and_show_prints_one(billing_env, engine, tmp_path, cli):
    source = tmp_path / "debts.csv"
    write_sample(source, rows=50, seed=12, invalid_rate=0.1)
    summary = cli("process", source).json
    assert summary["boletos"] == summary["accepted"] == 45
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(boletos)).scalar_one() == 45
        debt_id, linha = connection.execute(select(boletos.c.debt_id, boletos.c.linha_digitavel)).first()

    shown = cli("boleto", "show", debt_id).json
    assert shown["linha_digitavel"].replace(".", "").replace(" ", "") == linha
    assert shown["bank"] == "341 Itaú"
    assert shown["payer_document"].startswith("***.") or len(shown["payer_document"]) == 18

    refused = cli("boleto", "show", "not-a-uuid", json=False, check=False)
    assert refused.status == 2 and "is not a debtId" in refused.err


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"BILLING_BANK": "999"}, "BILLING_BANK must be one of 001, 033, 104, 237, 341"),
        ({"BILLING_BANK": "001"}, "BILLING_CONVENIO must be 7 digits"),
        ({"BILLING_BANK": "237", "BILLING_CONTA": "123"}, "BILLING_CONTA must be 7 digits"),
        ({"BILLING_BANK": "104", "BILLING_CONVENIO": "12"}, "código do beneficiário) must be 6 digits"),
        ({"BILLING_BENEFICIARY_DOCUMENT": "11.222.333/0001-82"}, "not a valid CNPJ or CPF"),
        ({"BILLING_MIN_DAYS_TO_DUE": "-1"}, "at least 0"),
    ],
)
def test_issuing_account_is_validated_at_start_up(env, message):
    with pytest.raises(SettingsError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Settings.from_env(env)


@pytest.mark.parametrize(
    "env",
    [
        {"BILLING_BANK": "001", "BILLING_CONVENIO": "1234567", "BILLING_CARTEIRA": "18"},
        {"BILLING_BANK": "033", "BILLING_CONVENIO": "1234567", "BILLING_CARTEIRA": "101"},
        {"BILLING_BANK": "104", "BILLING_CONVENIO": "123456"},
        {"BILLING_BANK": "237", "BILLING_CONTA": "0403005", "BILLING_CARTEIRA": "09"},
        {},
    ],
)
def test_each_bank_issues_verifiable_boletos(env, settings, engine, tmp_path):
    configured = Settings.from_env(env, data_dir=settings.data_dir, database_url=settings.database_url)
    configured, keys = _loaded_chunks(engine, configured, tmp_path, rows=50, chunk_rows=50)
    stages.boleto_stage(engine, configured, keys[0], today=TODAY)
    stored = _stored(engine)
    assert len(stored) == 50
    assert set(stored["bank_code"]) == {configured.bank_code}
    assert verify_many(stored["barcode"].to_numpy(dtype=str), stored["linha_digitavel"].to_numpy(dtype=str)).all()
