"""billing_pipeline.runner (`billing process`) end to end on SQLite and PostgreSQL: accounting, rejects report,
idempotency, worker processes, a kill mid-file."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select

from billing_pipeline.sample import write_sample
from billing_pipeline.store.outbox import counts as outbox_counts
from billing_pipeline.store.tables import debts, outbox, rejects
from billing_pipeline_tests.support.cli import billing_command, run_billing


def _debt_count(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(debts)).scalar_one()


def test_100k_rows_with_one_percent_errors_are_accounted_exactly_and_rerun_adds_nothing(
    billing_env, engine, tmp_path, cli, monkeypatch
):
    monkeypatch.setenv("BILLING_CHUNK_ROWS", "50000")  # two chunks
    source = tmp_path / "debts.csv"
    injected = write_sample(source, rows=100_000, seed=11, invalid_rate=0.01)
    error_lines = {e.line_number for e in injected}

    summary = cli("process", source, "--until", "debts").json  # boletos, PDFs, e-mail are tested elsewhere

    assert summary["status"] == "processed"
    assert summary["rows"] == 100_000
    assert summary["rejected"] == len(error_lines)
    assert summary["duplicates"] == 0
    assert summary["accepted"] + summary["rejected"] + summary["duplicates"] == summary["rows"]
    assert summary["chunks"] == 2
    assert _debt_count(engine) == summary["accepted"]

    report = pd.read_csv(summary["rejects_report"], keep_default_na=False)
    assert set(zip(report["line_number"], report["code"], strict=True)) == {
        (e.line_number, str(e.code)) for e in injected
    }
    lines = source.read_text(encoding="utf-8").splitlines()
    for line_number, raw in zip(report["line_number"].head(50), report["raw_line"].head(50), strict=True):
        assert raw == lines[line_number - 1]

    again = cli("process", source, "--until", "debts").json
    assert _debt_count(engine) == summary["accepted"]
    assert {k: again[k] for k in ("accepted", "rejected", "duplicates", "rows")} == {
        k: summary[k] for k in ("accepted", "rejected", "duplicates", "rows")
    }
    with engine.connect() as connection:
        stored_rejects = connection.execute(select(func.count()).select_from(rejects)).scalar_one()
    assert stored_rejects == len(report)


def test_second_file_repeating_stored_debts_counts_duplicates_and_conflicts(billing_env, engine, tmp_path, cli):
    first = tmp_path / "first.csv"
    write_sample(first, rows=300, seed=5)
    assert cli("process", first).json["accepted"] == 300

    frame = pd.read_csv(first, dtype=str, keep_default_na=False)
    later = pd.concat([frame.head(10), frame.iloc[10:15].assign(debtAmount="1.23")])
    second = tmp_path / "second.csv"
    later.to_csv(second, index=False)

    summary = cli("process", second).json

    assert summary["rows"] == 15
    assert summary["duplicates"] == 10
    assert summary["rejected"] == 5
    assert summary["accepted"] == 0
    report = pd.read_csv(summary["rejects_report"])
    assert set(report["code"]) == {"DUPLICATE_CONFLICT"}
    assert _debt_count(engine) == 300


def test_repeated_debt_ids_inside_one_file_across_chunks(billing_env, engine, tmp_path, cli, monkeypatch):
    monkeypatch.setenv("BILLING_CHUNK_ROWS", "4")
    source = tmp_path / "repeats.csv"
    write_sample(source, rows=12, seed=9)
    frame = pd.read_csv(source, dtype=str, keep_default_na=False)
    identical = frame.iloc[[1]]
    conflicting = frame.iloc[[2]].assign(name="Someone Else")
    pd.concat([frame, identical, conflicting]).to_csv(source, index=False)  # lines 14 and 15 repeat 3 and 4

    summary = cli("process", source).json

    assert summary["chunks"] == 4
    assert summary["rows"] == 14
    assert summary["duplicates"] == 1
    assert summary["rejected"] == 2
    assert summary["accepted"] == 11
    report = pd.read_csv(summary["rejects_report"])
    assert list(zip(report["line_number"], report["code"], strict=True)) == [
        (4, "DUPLICATE_CONFLICT"),
        (15, "DUPLICATE_CONFLICT"),
    ]
    assert _debt_count(engine) == 11


def test_until_validated_chunk_stores_no_debts(billing_env, engine, tmp_path, cli):
    source = tmp_path / "debts.csv"
    write_sample(source, rows=50, seed=2, invalid_rate=0.1)

    summary = cli("process", source, "--until", "validated_chunk").json

    assert summary["stage"] == "validated_chunk"
    assert summary["rejected"] == 5
    assert summary["accepted"] is None
    assert _debt_count(engine) == 0


def test_chunks_on_two_worker_processes_give_the_same_numbers_as_one(billing_env, engine, tmp_path, cli,
                                                                      monkeypatch):
    monkeypatch.setenv("BILLING_CHUNK_ROWS", "250")
    source = tmp_path / "debts.csv"
    injected = write_sample(source, rows=1_000, seed=17, invalid_rate=0.02)
    frame = pd.read_csv(source, dtype=str, keep_default_na=False)
    pd.concat([frame, frame.iloc[[5, 700]]]).to_csv(source, index=False)  # two repeats, in other chunks

    summary = cli("process", source, "--until", "boletos", "--workers", "2").json

    assert (summary["status"], summary["chunks"], summary["rows"]) == ("processed", 5, 1_002)
    assert summary["rejected"] == len({e.line_number for e in injected})
    assert summary["duplicates"] == 2
    assert summary["accepted"] + summary["rejected"] + summary["duplicates"] == summary["rows"]
    assert _debt_count(engine) == summary["accepted"] == summary["boletos"]

    again = cli("process", source, "--until", "boletos", "--workers", "1").json
    assert {k: again[k] for k in ("accepted", "rejected", "duplicates", "boletos")} == {
        k: summary[k] for k in ("accepted", "rejected", "duplicates", "boletos")}
    assert _debt_count(engine) == summary["accepted"]


def test_workers_must_be_a_positive_whole_number(billing_env, cli, tmp_path):
    refused = cli("process", tmp_path / "any.csv", "--workers", "0", json=False, check=False)
    assert refused.status == 2
    assert "must be a whole number of at least 1, got '0'" in refused.err


@pytest.mark.parametrize("moment", ["storing", "delivering"])
def test_billing_process_killed_mid_file_and_run_again_finishes_it_exactly(billing_env, engine, tmp_path, moment):
    settings = billing_env
    source = tmp_path / "debts.csv"
    injected = write_sample(source, rows=6_000, seed=17, invalid_rate=0.01)
    accepted = 6_000 - len({e.line_number for e in injected})
    env = {**os.environ, "BILLING_CHUNK_ROWS": "1500"}

    def mid_file() -> bool:
        with engine.connect() as connection:
            stored = connection.execute(select(func.count()).select_from(debts)).scalar_one()
            sent = connection.execute(select(func.count()).select_from(outbox).where(outbox.c.status == "sent")
                                      ).scalar_one()
        return 0 < stored < accepted if moment == "storing" else 0 < sent < accepted

    first = subprocess.Popen(billing_command("process", str(source), json=True), env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 300
    while not mid_file():
        assert first.poll() is None and time.monotonic() < deadline, "the first run ended before the kill"
        time.sleep(0.05)
    os.killpg(first.pid, signal.SIGKILL)  # the CLI and its worker processes
    first.wait()

    summary = run_billing("process", source, env=env).json
    assert (summary["status"], summary["rows"], summary["accepted"], summary["rejected"]) == (
        "processed", 6_000, accepted, 6_000 - accepted)
    assert summary["boletos"] == summary["pdfs"] == summary["notified"] == accepted
    assert _debt_count(engine) == accepted
    assert outbox_counts(engine) == {"pending": 0, "sent": accepted, "failed": 0, "suppressed": 0}
    assert len(list(settings.outbox_dir.glob("*.eml"))) == accepted
    assert summary["report"] and json.loads(Path(summary["report"]).read_text())["accepted"] == accepted


def test_every_step_uses_the_settings_it_is_handed_not_the_environment(settings, engine, tmp_path, monkeypatch):
    """A chunk size and an id policy given only in Settings reach the split and the validation, in this process
    and in spawned workers alike, though the environment says otherwise."""
    from billing_pipeline.runner import process_file

    monkeypatch.setenv("BILLING_CHUNK_ROWS", "100000")
    monkeypatch.setenv("BILLING_GOVERNMENT_ID_POLICY", "strict")
    source = tmp_path / "debts.csv"
    rows = 30
    write_sample(source, rows=rows, seed=5)
    text = source.read_text(encoding="utf-8").splitlines()
    header = text[0].split(",")
    column = header.index("governmentId")
    fields = text[1].split(",")
    fields[column] = "123"  # not a CPF: rejected under `strict`, accepted under `lenient`
    source.write_text("\n".join([text[0], ",".join(fields), *text[2:]]) + "\n", encoding="utf-8")
    handed = settings.replace(chunk_rows=10, government_id_policy="lenient")
    workers = 2 if engine.dialect.name == "postgresql" else 1

    summary = process_file(source, handed, until="debts", workers=workers)

    assert summary.chunks == 3
    assert (summary.accepted, summary.rejected) == (rows, 0)
    assert _debt_count(engine) == rows


PROGRESS_LINE = re.compile(r"(Rows validated|Debts stored|Boletos|PDFs|Notices) of file [0-9a-f]{12}: "
                           r"[\d,]+/[\d,]+ \(\d+%\), [\d,.]+/s, (ETA .+|done in \d+ s)")


def test_billing_process_off_a_terminal_prints_progress_on_stderr_and_only_its_summary_on_stdout(
        billing_env, tmp_path):
    source = tmp_path / "debts.csv"
    write_sample(source, rows=1_000, seed=23)
    env = {**{name: value for name, value in os.environ.items() if name != "BILLING_SMTP_URL"},
           "BILLING_CHUNK_ROWS": "250", "BILLING_SMTP_RATE": "0"}

    run = run_billing("process", source, env=env)

    [printed] = run.out.splitlines()  # --json: one object, nothing else
    summary = json.loads(printed)
    assert (summary["status"], summary["chunks"], summary["notified"]) == ("processed", 4, 1_000)
    lines = run.err.splitlines()
    assert [line for line in lines if not PROGRESS_LINE.fullmatch(line)] == [], run.err
    # Each chunk's notices are a quarter of the file's: the 10% marks they cross are reported, and the end.
    assert len(lines) >= 2, run.err
    assert re.fullmatch(rf"Notices of file {summary['file_id'][:12]}: 1,000/1,000 \(100%\), .+, done in \d+ s",
                        lines[-1])

