"""The file report (store/file_report.py, the file_report asset and its sensor in defs/reports/): totals after every
chunk is done, requested by its sensor exactly when a file is finished."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import pytest
from sqlalchemy import text

from billing_pipeline.defs.ingest.assets import debts, validated_chunk
from billing_pipeline.defs.partitions import chunk_partitions, source_file_partitions
from billing_pipeline.defs.reports.assets import file_report
from billing_pipeline.defs.reports.sensors import file_report_sensor
from billing_pipeline.sample import write_sample
from billing_pipeline.storage.staged_frames import staged_frame
from billing_pipeline.store.files import finished_inbox_files, is_finished, stored_chunks_of_reported_files
from billing_pipeline.store.migrate import upgrade
from billing_pipeline_tests.support.in_process import evaluate_sensor, instance_with_partitions, materialize

pytestmark = pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)


def test_report_totals_match_the_file(billing_env, tmp_path, cli):
    source = tmp_path / "debts.csv"
    injected = write_sample(source, rows=60, seed=13, invalid_rate=0.1)
    summary = cli("process", source).json

    report = json.loads(Path(summary["report"]).read_text(encoding="utf-8"))
    assert (report["rows"], report["accepted"], report["rejected"], report["duplicates"]) == (
        60, summary["accepted"], summary["rejected"], 0)
    assert report["accounting_holds"] is True
    assert sum(report["reject_codes"].values()) >= report["rejected"]
    assert set(report["reject_codes"]) == {str(e.code) for e in injected}
    assert report["boletos"] == report["debts"] == summary["accepted"]
    assert report["boletos_amount"] == report["debts_amount"]
    assert report["notifications"] == {"pending": 0, "sent": summary["accepted"], "failed": 0, "suppressed": 0}
    assert report["rows_per_second"] is None or report["rows_per_second"] > 0


def test_rejected_file_gets_a_report_that_counts_its_rows_and_says_where_and_why_it_stopped(billing_env, tmp_path, cli):
    source = tmp_path / "bad.csv"
    source.write_text("name;governmentId\n" + "".join(f"Ana {n};1\n" for n in range(50)) + "\n")
    summary = cli("process", source, check=False).json
    assert (summary["status"], summary["stage"], summary["rows"], summary["accepted"], summary["rejected"]) == (
        "rejected", "source_file", 50, 0, 50)
    report = json.loads(Path(summary["report"]).read_text(encoding="utf-8"))
    assert report["status"] == "rejected"
    assert report["error"].startswith("MISSING_COLUMNS")
    assert (report["rows"], report["accepted"], report["rejected"], report["duplicates"]) == (50, 0, 50, 0)
    assert report["accounting_holds"]
    assert report["stopped_at"] == "source_file"
    assert report["reason"]["code"] == "MISSING_COLUMNS"
    assert "comma-separated" in report["reason"]["message"]
    assert report["reject_codes"] == {"MISSING_COLUMNS": 50}
    assert report["rows_per_second"] is None


def test_sensor_requests_a_report_only_for_finished_files_without_one(billing_env, engine, tmp_path, cli):
    source = tmp_path / "debts.csv"
    write_sample(source, rows=10, seed=2)
    summary = cli("process", source).json
    file_id = summary["file_id"]

    def tick():
        with dg.instance_for_test() as instance:
            return evaluate_sensor(file_report_sensor, instance, billing_env)

    assert tick().run_requests == []  # `billing process` wrote the report, and the store records it
    assert file_id not in finished_inbox_files(engine)
    with engine.begin() as connection:  # as before the report run ended
        connection.execute(text("UPDATE source_files SET reported_at = NULL"))
    assert tick().run_requests == []  # and a file of `billing process` is that process's to report
    with engine.begin() as connection:  # as if it had come through the inbox
        connection.execute(text("UPDATE source_files SET received_via = 'inbox'"))
    [request] = tick().run_requests
    assert (request.partition_key, request.run_key) == (file_id, f"report:{file_id}")

    with engine.begin() as connection:  # a notice still pending: the file is not finished
        connection.execute(text("UPDATE outbox SET status = 'pending' WHERE id = (SELECT MIN(id) FROM outbox)"))
    assert file_id not in finished_inbox_files(engine)
    assert tick().run_requests == []


def test_a_file_is_not_finished_before_every_debt_has_a_settled_notice(billing_env, engine, tmp_path, cli):
    source = tmp_path / "debts.csv"
    write_sample(source, rows=10, seed=3)
    file_id = cli("process", source, "--until", "debts").json["file_id"]
    assert file_id not in finished_inbox_files(engine)  # processed, but no boleto and so no notice yet

    cli("process", source, "--until", "boletos")
    assert file_id not in finished_inbox_files(engine)  # boletos, but no notice yet

    cli("process", source)  # notices, then the report
    assert billing_env.report_path(file_id).exists()
    assert file_id not in finished_inbox_files(engine)  # reported
    with engine.begin() as connection:
        connection.execute(text("UPDATE source_files SET reported_at = NULL, received_via = 'inbox'"))
    assert file_id in finished_inbox_files(engine)  # finished: every notice settled


def test_a_report_asked_for_early_does_not_stand_in_for_the_final_one(billing_env, engine, tmp_path, cli):
    source = tmp_path / "debts.csv"
    write_sample(source, rows=30, seed=4)
    file_id = cli("process", source, "--until", "boletos").json["file_id"]
    # `billing process` hands validated rows over in memory; an operator's run of the chunk from the UI stages its
    # frame, which a re-run of `debts` would read.
    chunk_key = f"{file_id[:12]}-0000"
    assert materialize([validated_chunk], billing_env, chunk_key,
                       instance_with_partitions(chunk_partitions, [chunk_key])).success
    staged = list((billing_env.staging_dir / "validated_chunk").glob("*.parquet"))
    assert staged

    # An operator materializes the report from the UI before any notice went out.
    result = materialize([file_report], billing_env, file_id,
                         instance_with_partitions(source_file_partitions, [file_id]))
    [materialization] = result.asset_materializations_for_node("file_report")
    assert materialization.metadata["file_finished"].value is False
    assert materialization.metadata["staged_frames_removed"].value == 0
    assert all(path.exists() for path in staged)  # a chunk re-run may still need its frame
    early = json.loads(billing_env.report_path(file_id).read_text(encoding="utf-8"))
    assert early["notifications"]["sent"] == 0

    cli("process", source)  # the notices, then the final report
    final = json.loads(billing_env.report_path(file_id).read_text(encoding="utf-8"))
    assert final["notifications"]["sent"] == final["accepted"] > 0
    assert file_id not in finished_inbox_files(engine)
    assert not any(path.exists() for path in staged)  # the finished file's frames are cleaned


def test_files_finished_before_reports_were_recorded_count_as_reported(billing_env, engine, tmp_path, cli):
    finished, in_flight = tmp_path / "finished.csv", tmp_path / "in-flight.csv"
    rejected_file, all_rows_rejected = tmp_path / "rejected.csv", tmp_path / "all-rows-rejected.csv"
    write_sample(finished, rows=20, seed=5)
    write_sample(in_flight, rows=20, seed=6)
    rejected_file.write_text("name;governmentId\n")
    all_rows_rejected.write_text("name,governmentId,email,debtAmount,debtDueDate,debtId\n"
                                 "Ana,not-a-cpf,ana@example.com,10.00,2026-12-01,not-a-uuid\n")
    ids = {}
    for source, until in ((finished, "notifications"), (in_flight, "boletos"), (rejected_file, "notifications"),
                          (all_rows_rejected, "notifications")):
        ids[source.name] = cli("process", source, "--until", until, check=False).json["file_id"]  # one rejected
    with engine.begin() as connection:  # the store as it was before migration 0006
        connection.execute(text("ALTER TABLE source_files DROP COLUMN reported_at"))
        connection.execute(text("DELETE FROM schema_version WHERE version IN (6, 7)"))

    assert [migration.version for migration in upgrade(engine)] == [6, 7]

    with engine.connect() as connection:
        rows = connection.execute(text("SELECT file_id, status, accepted, reported_at IS NOT NULL FROM source_files"))
        reported = {file_id.strip(): (status, accepted, bool(flag)) for file_id, status, accepted, flag in rows}
    assert reported == {
        ids["finished.csv"]: ("processed", 20, True),
        ids["in-flight.csv"]: ("processed", 20, False),
        ids["rejected.csv"]: ("rejected", 0, True),
        ids["all-rows-rejected.csv"]: ("processed", 0, True),
    }
    with engine.begin() as connection:  # as if they had come through the inbox, for the report sensor to look at
        connection.execute(text("UPDATE source_files SET received_via = 'inbox'"))
    assert finished_inbox_files(engine) == []


def test_a_chunk_re_run_after_its_files_report_keeps_its_frame_until_its_debts_are_stored_again(
        billing_env, engine, tmp_path, cli):
    source = tmp_path / "first.csv"
    write_sample(source, rows=20, seed=7)
    file_id = cli("process", source).json["file_id"]
    chunk_key = f"{file_id[:12]}-0000"
    frame = staged_frame(billing_env.staging_dir, chunk_key)
    assert not frame.exists()  # cleaned by the file's final report

    # An operator re-runs the chunk from the UI: validated again, then stored again. No report run follows.
    instance = instance_with_partitions(chunk_partitions, [chunk_key])
    assert materialize([validated_chunk], billing_env, chunk_key, instance).success
    assert frame.exists()
    assert not is_finished(engine, file_id)  # the chunk is not stored again yet
    assert stored_chunks_of_reported_files(engine, [chunk_key]) == []  # so its frame is still needed
    assert materialize([debts], billing_env, chunk_key, instance).success
    assert is_finished(engine, file_id)
    assert not frame.exists()
