"""Malformed input never produces a traceback: a whole-file error with a stable code, or rejects rows."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select

from billing_pipeline.sample import write_sample
from billing_pipeline.store.tables import debts
from billing_pipeline_tests.support.cli import run_billing

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

HEADER = "name,governmentId,email,debtAmount,debtDueDate,debtId\n"
GOOD = "Ana Silva,529.982.247-25,ana@example.com,10.50,2026-03-01,ea23f2ca-663a-4266-a742-9da4c9f4fcb3\n"
GOOD_2 = "Bruno Lima,11.222.333/0001-81,bruno@example.com.br,99,2026-03-02,acc1794e-b264-4fab-8bb7-3400d4c4734d\n"


def _process(path: Path, cli) -> tuple[int, dict, str]:
    run = cli("process", path, check=False)
    return run.status, run.json, run.err


def _report(summary: dict) -> pd.DataFrame:
    return pd.read_csv(summary["rejects_report"], keep_default_na=False)


def _write(tmp_path: Path, content: bytes | str, name: str = "input.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


@pytest.mark.parametrize(
    ("content", "code", "hint"),
    [
        (b"", "EMPTY_FILE", "empty"),
        ("name,governmentId,email,debtAmount,debtId\n" + GOOD, "MISSING_COLUMNS", "debtDueDate"),
        (HEADER.replace(",", ";") + GOOD.replace(",", ";"), "MISSING_COLUMNS", "';'-separated"),
        ((HEADER + "José Conceição,52998224725,j@example.com,1,2026-01-01,"
          "ea23f2ca-663a-4266-a742-9da4c9f4fcb3\n").encode("latin-1"), "NOT_UTF8", "line 2"),
        ("\ufeff".encode("utf-16-le") + HEADER.encode("utf-16-le"), "NOT_UTF8", "UTF-16"),
        ("name,name,governmentId,email,debtAmount,debtDueDate,debtId\n", "DUPLICATE_COLUMNS", "name"),
    ],
    ids=["empty", "missing-column", "semicolons", "latin-1", "utf-16", "repeated-column"],
)
def test_unreadable_file_is_rejected_whole_with_a_clear_error(billing_env, tmp_path, cli, content, code, hint):
    status, summary, stderr = _process(_write(tmp_path, content), cli)

    assert status == 2
    assert summary["status"] == "rejected"
    assert summary["error"].startswith(code)
    assert hint in summary["error"]
    assert stderr.strip().splitlines() == [f"error: file rejected: {summary['error']}"]
    assert list(_report(summary)["code"]) == [code]


def test_header_only_file_is_processed_with_no_rows(billing_env, tmp_path, cli):
    status, summary, _ = _process(_write(tmp_path, HEADER), cli)

    assert status == 0
    assert summary["status"] == "processed"
    assert (summary["rows"], summary["accepted"], summary["rejected"]) == (0, 0, 0)


def test_ragged_rows_are_rejected_and_the_rest_loaded(billing_env, tmp_path, cli):
    content = HEADER + GOOD + "Too,Few,Fields\n" + "A,1,b@example.com,1,2026-01-01,x,extra\n" + GOOD_2
    _, summary, _ = _process(_write(tmp_path, content), cli)

    assert (summary["rows"], summary["accepted"], summary["rejected"]) == (4, 2, 2)
    report = _report(summary)
    assert list(zip(report["line_number"], report["code"], strict=True)) == [
        (3, "WRONG_FIELD_COUNT"), (4, "WRONG_FIELD_COUNT")]
    assert report["raw_line"].iloc[0] == "Too,Few,Fields"


def test_one_megabyte_line_is_a_reject_not_a_crash(billing_env, tmp_path, cli):
    huge = "X" * 1_048_576
    content = HEADER + GOOD + f"{huge},52998224725,a@example.com,1,2026-01-01,11111111-663a-4266-a742-9da4c9f4fcb3\n"
    status, summary, stderr = _process(_write(tmp_path, content + GOOD_2), cli)

    assert status == 0
    assert (summary["accepted"], summary["rejected"]) == (2, 1)
    report = _report(summary)
    assert list(report["code"]) == ["FIELD_TOO_LONG"]
    assert report["line_number"].tolist() == [3]
    assert len(report["raw_line"].iloc[0]) < 10_000  # clipped, and says so
    assert "more characters" in report["raw_line"].iloc[0]


def test_quoted_fields_with_commas_quotes_and_newlines_survive_intact(billing_env, engine, tmp_path, cli):
    content = (
        HEADER
        + '"Silva, Ana ""Aninha""",52998224725,ana@example.com,10.50,2026-03-01,ea23f2ca-663a-4266-a742-9da4c9f4fcb3\r\n'
        + '"Bruno\nLima",11222333000181,bruno@example.com,"1,5",2026-03-02,acc1794e-b264-4fab-8bb7-3400d4c4734d\r\n'
        + GOOD_2.replace("acc1794e", "bcc1794e")
    )
    _, summary, _ = _process(_write(tmp_path, content), cli)

    assert (summary["rows"], summary["accepted"], summary["rejected"]) == (3, 2, 1)
    report = _report(summary)
    assert report[["line_number", "code"]].values.tolist() == [[3, "INVALID_AMOUNT"]]
    assert report["raw_line"].iloc[0].startswith('"Bruno\nLima"')
    with engine.connect() as connection:
        names = set(connection.execute(select(debts.c.name)).scalars())
    assert names == {'Silva, Ana "Aninha"', "Bruno Lima"}


def test_unterminated_quote_rejects_the_rest_of_the_file_as_one_record(billing_env, tmp_path, cli):
    content = HEADER + GOOD + '"Open quote,52998224725,a@example.com,1,2026-01-01,x\n' + GOOD_2
    _, summary, _ = _process(_write(tmp_path, content), cli)

    assert (summary["rows"], summary["accepted"], summary["rejected"]) == (2, 1, 1)
    assert _report(summary)[["line_number", "code"]].values.tolist() == [[3, "UNTERMINATED_QUOTE"]]


def test_bom_and_crlf_are_accepted(billing_env, tmp_path, cli):
    content = ("\ufeff" + HEADER + GOOD + GOOD_2).replace("\n", "\r\n")
    status, summary, _ = _process(_write(tmp_path, content), cli)

    assert status == 0
    assert (summary["rows"], summary["accepted"], summary["rejected"]) == (2, 2, 0)


def test_columns_in_any_order_and_blank_lines_are_fine(billing_env, tmp_path, cli):
    source = tmp_path / "sample.csv"
    write_sample(source, rows=20, seed=4)
    frame = pd.read_csv(source, dtype=str, keep_default_na=False)
    reordered = frame[list(reversed(frame.columns))]
    text = reordered.to_csv(index=False).replace("\n", "\n\n", 3)
    _, summary, _ = _process(_write(tmp_path, text, "reordered.csv"), cli)

    assert (summary["rows"], summary["accepted"], summary["rejected"]) == (20, 20, 0)


def test_cli_errors_are_one_line_without_traceback(billing_env, tmp_path):
    result = run_billing("process", tmp_path / "missing.csv", json=False, check=False, timeout=120)
    assert result.status == 2
    assert result.err.strip() == f"error: {tmp_path / 'missing.csv'} is not a file"

    bad_setting = run_billing("process", _write(tmp_path, HEADER + GOOD), json=False, check=False, timeout=120,
                              env={**os.environ, "BILLING_CHUNK_ROWS": "many"})
    assert bad_setting.status == 2
    assert "BILLING_CHUNK_ROWS must be a whole number" in bad_setting.err
    assert "Traceback" not in bad_setting.err
