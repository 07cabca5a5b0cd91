from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from billing_pipeline.ingest.records import read_chunk
from billing_pipeline.ingest.split import split_file
from billing_pipeline.money import format_cents
from billing_pipeline.validation.schema import amount_cents
from billing_pipeline.validation.validate import validate_chunk

HEADER = "name,governmentId,email,debtAmount,debtDueDate,debtId\n"
GOOD = {"name": "Ana", "governmentId": "529.982.247-25", "email": "ana@example.com", "debtAmount": "10.50",
        "debtDueDate": "2026-03-01", "debtId": "EA23F2CA-663A-4266-A742-9DA4C9F4FCB3"}


def _validate(tmp_path: Path, rows: list[dict], policy: str = "strict"):
    path = tmp_path / "f.csv"
    pd.DataFrame(rows, columns=list(GOOD)).to_csv(path, index=False)
    layout = split_file(path, 1000)
    chunk = layout.chunks[0]
    return validate_chunk(read_chunk(path, chunk, layout.columns), layout.verdicts, policy)


@pytest.mark.parametrize(
    ("column", "value", "code"),
    [
        ("name", "   ", "MISSING_VALUE"),
        ("name", "N" * 201, "FIELD_TOO_LONG"),
        ("email", "ana@", "INVALID_EMAIL"),
        ("email", "ana@localhost", "INVALID_EMAIL"),
        ("email", "", "MISSING_VALUE"),
        ("debtId", "ea23f2ca663a4266a7429da4c9f4fcb3x", "INVALID_DEBT_ID"),
        ("debtAmount", "1e3", "INVALID_AMOUNT"),
        ("debtAmount", "R$ 10", "INVALID_AMOUNT"),
        ("debtAmount", "0.00", "AMOUNT_NOT_POSITIVE"),
        ("debtAmount", "-1", "AMOUNT_NOT_POSITIVE"),
        ("debtAmount", "1.001", "AMOUNT_TOO_PRECISE"),
        ("debtAmount", "100000000", "AMOUNT_TOO_LARGE"),
        ("debtDueDate", "2026-02-29", "INVALID_DUE_DATE"),
        ("debtDueDate", "01/03/2026", "INVALID_DUE_DATE"),
        ("debtDueDate", "2026-3-1", "INVALID_DUE_DATE"),
        ("governmentId", "529.982.247-24", "INVALID_GOVERNMENT_ID"),
        ("governmentId", "1234", "INVALID_GOVERNMENT_ID"),
    ],
)
def test_each_rule_gives_its_code_and_only_that_code(tmp_path, column, value, code):
    result = _validate(tmp_path, [GOOD | {column: value}])

    assert result.accepted.empty
    assert result.rejects[["line_number", "column", "code"]].values.tolist() == [[2, column, code]]
    assert repr(value.strip())[:20] in result.rejects["message"].iloc[0] or code == "FIELD_TOO_LONG"


def test_several_problems_in_one_row_are_all_reported_and_the_row_counts_once(tmp_path):
    result = _validate(tmp_path, [GOOD | {"email": "x", "debtAmount": "-3", "debtId": "nope"}])
    assert sorted(result.rejects["code"]) == ["AMOUNT_NOT_POSITIVE", "INVALID_DEBT_ID", "INVALID_EMAIL"]
    assert result.rejected_rows == 1


def test_accepted_rows_are_normalised(tmp_path):
    result = _validate(tmp_path, [GOOD, GOOD | {"debtId": "acc1794e-b264-4fab-8bb7-3400d4c4734d",
                                                "debtAmount": "99999999.99", "governmentId": "12.abc.345/01de-35"}])
    accepted = result.accepted
    assert accepted["debt_id"].tolist() == ["ea23f2ca-663a-4266-a742-9da4c9f4fcb3",
                                            "acc1794e-b264-4fab-8bb7-3400d4c4734d"]
    assert accepted["government_id"].tolist() == ["52998224725", "12ABC34501DE35"]
    assert accepted["amount_cents"].tolist() == [1050, 9_999_999_999]


def test_lenient_policy_accepts_the_challenge_files_fake_ids(tmp_path):
    result = _validate(tmp_path, [GOOD | {"governmentId": "9558"}], policy="lenient")
    assert len(result.accepted) == 1
    strict = _validate(tmp_path, [GOOD | {"governmentId": "9558"}])
    assert strict.rejects["code"].tolist() == ["INVALID_GOVERNMENT_ID"]


def test_amount_cents_are_exact():
    amounts = pd.Series(["10", "10.5", "10.50", "0.01", "+3.10", "99999999.99", "007.70"], dtype="str")
    cents = amount_cents(amounts)
    assert cents.tolist() == [1000, 1050, 1050, 1, 310, 9_999_999_999, 770]
    assert format_cents(cents).tolist() == ["10.00", "10.50", "10.50", "0.01", "3.10", "99999999.99", "7.70"]
