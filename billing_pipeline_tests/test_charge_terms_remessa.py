"""Charge terms in the remessa: juros and discount 1 in segment P, the multa in an R written only for a title that
has one; every count includes the R lines, a file of three-segment titles holds fewer titles, and a title without
terms is written exactly as before."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import text

from billing_pipeline import stages
from billing_pipeline.charge_terms import ChargeTerms
from billing_pipeline.cnab import remessa as remessa_module
from billing_pipeline.cnab.identifiers import debt_ids_from_company_use
from billing_pipeline.cnab.reader import read_cnab
from billing_pipeline.cnab.remessa import segments_per_title, titles_per_file, titles_per_lote
from billing_pipeline.ingest.inbox import sha256_of
from billing_pipeline.settings import Settings
from billing_pipeline.store.boletos import boleto_rows
from billing_pipeline_tests.support.files import SampleFile, store_sample
from billing_pipeline_tests.test_cnab_remessa import ACCOUNTS, make_titles, write

HEADER = "name,governmentId,email,debtAmount,debtDueDate,debtId,finePercent,interestMonthlyPercent,discountPercent," \
         "discountUntil\n"


def with_terms(titles: pd.DataFrame) -> pd.DataFrame:
    """Every third title a 2% fine, every second 1% a month, every fourth a 5% discount five days before the due."""
    n = np.arange(len(titles))
    due = titles["due_date"].to_numpy(dtype="datetime64[D]")
    discount = np.where(n % 4 == 0, 500, 0)
    return titles.assign(
        fine_basis_points=np.where(n % 3 == 0, 200, 0),
        interest_monthly_basis_points=np.where(n % 2 == 0, 100, 0),
        discount_basis_points=discount,
        discount_until=np.where(discount > 0, due - np.timedelta64(5, "D"), np.datetime64("NaT", "D")),
    )


def _days(values: object) -> list[date | None]:
    return [None if pd.isna(value) else pd.Timestamp(value).date() for value in values]  # type: ignore[attr-defined]


def _lines(data: bytes) -> list[bytes]:
    return data.split(b"\r\n")[:-1]


@pytest.mark.parametrize("bank_code", sorted(ACCOUNTS))
def test_titles_without_terms_are_written_exactly_as_before(bank_code):
    titles = make_titles(40)
    none = titles.assign(fine_basis_points=0, interest_monthly_basis_points=0, discount_basis_points=0,
                         discount_until=np.datetime64("NaT", "D"))
    assert write(ACCOUNTS[bank_code], none)[0] == write(ACCOUNTS[bank_code], titles)[0]
    # Terms on baixas only change nothing either: a baixa's title is registered already.
    baixas_with_terms = with_terms(titles)
    entrada = baixas_with_terms["movement"] == "01"
    for column in ("fine_basis_points", "interest_monthly_basis_points", "discount_basis_points"):
        baixas_with_terms.loc[entrada, column] = 0
    baixas_with_terms.loc[entrada, "discount_until"] = np.datetime64("NaT")
    assert write(ACCOUNTS[bank_code], baixas_with_terms)[0] == write(ACCOUNTS[bank_code], titles)[0]


@pytest.mark.parametrize("bank_code", sorted(ACCOUNTS))
def test_terms_are_read_back_from_the_remessa_we_write(bank_code):
    titles = with_terms(make_titles(60))
    data, written = write(ACCOUNTS[bank_code], titles)
    cnab = read_cnab(data)

    assert cnab.warnings == [] and len(cnab.titles) == 60
    read = cnab.titles
    entrada = (titles["movement"] == "01").to_numpy()
    fine = entrada & (titles["fine_basis_points"].to_numpy() > 0)
    interest = entrada & (titles["interest_monthly_basis_points"].to_numpy() > 0)
    discount = entrada & (titles["discount_basis_points"].to_numpy() > 0)
    due = titles["due_date"].dt.date
    after_due = [day + timedelta(days=1) for day in due]

    assert list(read["fine_code"]) == ["2" if f else "" for f in fine]
    assert _days(read["fine_date"]) == [a if f else None for a, f in zip(after_due, fine, strict=True)]
    assert list(read["fine_value"]) == [200 if f else 0 for f in fine]
    assert (read["r_line_number"] > 0).tolist() == fine.tolist()
    assert (read.loc[fine, "r_line_number"] == read.loc[fine, "line_number"] + 2).all()
    assert _days(read["interest_date"]) == [a if i else None for a, i in zip(after_due, interest, strict=True)]
    assert _days(read["discount_date"]) == [d - timedelta(days=5) if x else None
                                           for d, x in zip(due, discount, strict=True)]
    amounts = titles["amount_cents"].to_numpy()
    if bank_code == "341":  # Itaú: no códigos, values in reais
        assert set(read["interest_code"]) == {"0"} and set(read["discount_code"]) == {"0"}
        assert list(read["interest_value"]) == [(2 * a * 100 + 300_000) // 600_000 if i else 0
                                                for a, i in zip(amounts, interest, strict=True)]
        assert list(read["discount_value"]) == [(2 * a * 500 + 10_000) // 20_000 if x else 0
                                                for a, x in zip(amounts, discount, strict=True)]
    else:
        none = "0" if bank_code == "341" else "3"
        assert list(read["interest_code"]) == ["2" if i else none for i in interest]
        rate = 100_000 if bank_code == "033" else 100  # Santander: the rate with 5 decimals
        assert list(read["interest_value"]) == [rate if i else 0 for i in interest]
        assert list(read["discount_code"]) == ["2" if x else "0" for x in discount]
        assert list(read["discount_value"]) == [500 if x else 0 for x in discount]

    lines = _lines(data)
    details = lines[2:-2]
    segments = b"".join(line[13:14] for line in details).decode()
    assert segments == "".join("P" if not e else "PQR" if f else "PQ" for e, f in zip(entrada, fine, strict=True))
    assert [int(line[8:13]) for line in details] == list(range(1, len(details) + 1))
    assert int(lines[-1][23:29]) == len(lines) == written.lines
    assert int(lines[-2][17:23]) == len(lines) - 2


# --- by FEBRABAN's positions, without our layout ------------------------------------------------------------------

def _segment(data: bytes, letter: bytes) -> list[str]:
    return [line.decode("latin-1") for line in _lines(data) if line[7:8] == b"3" and line[13:14] == letter]


@pytest.mark.parametrize("bank_code", ["001", "104", "237"])
def test_the_fields_stand_at_febrabans_positions(bank_code):
    """FEBRABAN 240 v10.x, segmento P: 118 código de juros, 119-126 data, 127-141 juros/taxa (13 + 2 decimais),
    142 código do desconto 1, 143-150 data, 151-165 valor/percentual; segmento R: 16-17 movimento, 66 código da
    multa, 67-74 data, 75-89 valor/percentual (13 + 2 decimais), 90-240 blanks and zeros as the form leaves them."""
    titles = make_titles(4).assign(movement="01", amount_cents=123_456, due_date=np.datetime64("2025-05-31"),
                                   fine_basis_points=[250, 0, 0, 250], interest_monthly_basis_points=[99, 0, 99, 0],
                                   discount_basis_points=[1_000, 0, 0, 0],
                                   discount_until=np.array(["2025-05-20", "NaT", "NaT", "NaT"], "M8[D]"))
    data, _ = write(ACCOUNTS[bank_code], titles)
    p, r = _segment(data, b"P"), _segment(data, b"R")

    assert (p[0][117], p[0][118:126], p[0][126:141]) == ("2", "01062025", "000000000000099")
    assert (p[0][141], p[0][142:150], p[0][150:165]) == ("2", "20052025", "000000000001000")
    assert (p[1][117], p[1][118:141], p[1][141:165]) == ("3", "0" * 23, "0" * 24)  # isento, no discount
    assert len(r) == 2 and [int(line[8:13]) for line in r] == [3, 10]  # after each fined title's P and Q
    for line in r:
        assert (line[0:3], line[7], line[13], line[15:17]) == (bank_code, "3", "R", "01")
        assert (line[65], line[66:74], line[74:89]) == ("2", "01062025", "000000000000250")
        assert line[17:65] == "0" * 48 and line[89:179].strip() == ""


def test_santander_carries_the_monthly_rate_with_five_decimals_and_blanks_its_r_reserve():
    titles = make_titles(1).assign(movement="01", due_date=np.datetime64("2025-05-31"), fine_basis_points=200,
                                   interest_monthly_basis_points=150, discount_basis_points=0,
                                   discount_until=np.datetime64("NaT"))
    data, _ = write(ACCOUNTS["033"], titles)
    [p], [r] = _segment(data, b"P"), _segment(data, b"R")
    assert (p[117], p[118:126], p[126:141]) == ("2", "01062025", "000000000150000")
    assert (r[65], r[66:74], r[74:89]) == ("2", "01062025", "000000000000200")
    assert r[41:65].strip() == "" and r[179:240].strip() == ""


def test_itau_carries_values_in_reais_where_febraban_has_codes():
    titles = make_titles(1).assign(movement="01", amount_cents=300_000, due_date=np.datetime64("2025-05-31"),
                                   fine_basis_points=0, interest_monthly_basis_points=100, discount_basis_points=500,
                                   discount_until=np.datetime64("2025-05-25"))
    data, _ = write(ACCOUNTS["341"], titles)
    [p] = _segment(data, b"P")
    assert (p[117], p[118:126], p[126:141]) == ("0", "01062025", "000000000000100")  # R$ 1,00 a day
    assert (p[141], p[142:150], p[150:165]) == ("0", "25052025", "000000000015000")  # R$ 150,00
    assert _segment(data, b"R") == []


def test_the_writer_refuses_terms_a_bank_refuses():
    titles = with_terms(make_titles(4)).assign(movement="01")
    for column, value in (("fine_basis_points", 10_001), ("interest_monthly_basis_points", -1),
                          ("discount_basis_points", 10_000)):
        with pytest.raises(ValueError, match="titles with"):
            write(ACCOUNTS["001"], titles.assign(**{column: value}))
    late = titles.assign(discount_until=titles["due_date"] + pd.Timedelta(days=1))
    with pytest.raises(ValueError, match="on or before the due date"):
        write(ACCOUNTS["001"], late)


# --- how many titles a file holds -------------------------------------------------------------------------------

def test_a_file_of_three_segment_titles_holds_fewer_titles_and_its_counts_fit():
    assert (titles_per_lote(2), titles_per_file(2)) == (remessa_module.MAX_TITLES_PER_LOTE,
                                                        remessa_module.MAX_TITLES_PER_FILE)
    assert (titles_per_lote(3), titles_per_file(3)) == (33_333, 300_000)
    # The old cap of 450,000 overflows the trailer's six digits once every title has an R: refused, not cut.
    many = make_titles(titles_per_file(2)).assign(movement="01", fine_basis_points=200,
                                                  interest_monthly_basis_points=0, discount_basis_points=0,
                                                  discount_until=np.datetime64("NaT", "D"))
    assert segments_per_title(many) == 3
    with pytest.raises(ValueError, match="exceed 300000"):
        write(ACCOUNTS["001"], many)

    data, written = write(ACCOUNTS["001"], many.iloc[:titles_per_file(3)])
    lines = _lines(data)
    assert written.lines == len(lines) == 300_000 * 3 + 2 * 10 + 2 <= 999_999
    assert int(lines[-1][17:23]) == 10 and int(lines[-1][23:29]) == len(lines)
    lote_trailers = [line for line in lines if line[7:8] == b"5"]
    assert [int(line[17:23]) for line in lote_trailers] == [33_333 * 3 + 2] * 9 + [3 * 3 + 2]


# --- through the store: the remessa registers what every other reader prints --------------------------------------

def _policy(settings: Settings) -> Settings:
    return Settings.from_env({}, data_dir=settings.data_dir, database_url=settings.database_url,
                             fine_percent=Decimal("2"), interest_monthly_percent=Decimal("1"),
                             discount_percent=Decimal("0"), discount_days_before_due=0)


def _interest_field(bank: str, amount_cents: int, points: int) -> int:
    """P 127-141 as each bank reads it: the monthly rate (2 decimals; Santander 5), or Itaú's cents a day."""
    if bank == "341":
        return (2 * amount_cents * points + 300_000) // 600_000
    return points * (1_000 if bank == "033" else 1)


def _discount_field(bank: str, amount_cents: int, points: int) -> int:
    return (2 * amount_cents * points + 10_000) // 20_000 if bank == "341" else points


def _rows(count: int) -> str:
    rows = []
    for i in range(count):
        own = "0,,5,2027-03-10" if i % 4 == 1 else ",,," if i % 4 else ",2.5,,"
        rows.append(f"Payer {i},52998224725,p{i}@example.com,{100 + i},2027-03-{20 + i % 5:02d},"
                    f"{i:08x}-0000-4000-8000-{i:012x},{own}")
    return HEADER + "\n".join(rows) + "\n"


def test_the_remessa_registers_the_terms_every_reader_gets_and_splits_by_segments(engine, settings, tmp_path,
                                                                                monkeypatch):
    policy = _policy(settings)
    path = tmp_path / "terms.csv"
    path.write_text(_rows(12), encoding="utf-8")
    stored = store_sample(engine, policy, SampleFile(path, 12, [], sha256_of(path)), through="boletos",
                          today=date(2026, 12, 1))
    terms = {b.debt_id: b for key in stored.chunk_keys for b in boleto_rows(engine, chunk_key=key)}
    fined = sum(1 for b in terms.values() if b.terms.fine_basis_points)
    assert fined == 9 and terms["00000001-0000-4000-8000-000000000001"].terms == ChargeTerms(
        0, 100, 500, date(2027, 3, 10))
    monkeypatch.setattr(remessa_module, "MAX_TITLES_PER_FILE", 10)  # 10 of P + Q a file, 6 of P + Q + R

    outcome = stages.remessa_stage(engine, policy)
    bank = policy.account.bank_code

    assert [f.entradas for f in outcome.files] == [6, 6]
    for part in outcome.files:
        cnab = read_cnab(Path(part.path).read_bytes())
        assert cnab.warnings == [] and cnab.lines == part.lines
        for title, debt_id in zip(cnab.titles.itertuples(), debt_ids_from_company_use(cnab.titles["company_use"]),
                                  strict=True):
            boleto = terms[str(debt_id)]
            expected = boleto.terms
            after_due = boleto.due_date + timedelta(days=1)
            assert (title.fine_value, *_days([title.fine_date])) == (
                (expected.fine_basis_points, after_due) if expected.fine_basis_points else (0, None))
            assert (title.interest_value, *_days([title.interest_date])) == (
                (_interest_field(bank, boleto.amount_cents, expected.interest_monthly_basis_points), after_due)
                if expected.interest_monthly_basis_points else (0, None))
            assert (title.discount_value, *_days([title.discount_date])) == (
                _discount_field(bank, boleto.amount_cents, expected.discount_basis_points), expected.discount_until)
    with engine.connect() as connection:
        lines = dict(connection.execute(text("SELECT CAST(debt_id AS TEXT), entrada_line FROM boleto_states")).all())
    for part in outcome.files:
        cnab = read_cnab(Path(part.path).read_bytes())
        ids = [str(d) for d in debt_ids_from_company_use(cnab.titles["company_use"])]
        assert [lines[d] for d in ids] == cnab.titles["line_number"].tolist()  # each registration_sent's P line
