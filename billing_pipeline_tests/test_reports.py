"""The file report: totals after every chunk is done, requested by its sensor exactly when a file is finished."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import pytest
from sqlalchemy import text

from billing_pipeline.cli import main
from billing_pipeline.defs.ingest.sensors import file_report_sensor
from billing_pipeline.defs.partitions import source_file_partitions
from billing_pipeline.defs.reports.assets import file_report
from billing_pipeline.defs.resources import BillingResource
from billing_pipeline.sample import write_sample
from billing_pipeline.store.files import finished_files
from billing_pipeline.store.migrate import upgrade

pytestmark = pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)


def _process(path, capsys) -> dict:
    main(["process", str(path), "--json"])
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_report_totals_match_the_file(billing_env, tmp_path, capsys):
    source = tmp_path / "debts.csv"
    injected = write_sample(source, rows=60, seed=13, invalid_rate=0.1)
    summary = _process(source, capsys)

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


def test_rejected_file_gets_a_report_with_its_error(billing_env, tmp_path, capsys):
    source = tmp_path / "bad.csv"
    source.write_text("name;governmentId\n")
    summary = _process(source, capsys)
    report = json.loads(Path(summary["report"]).read_text(encoding="utf-8"))
    assert report["status"] == "rejected"
    assert report["error"].startswith("MISSING_COLUMNS")


def test_sensor_requests_a_report_only_for_finished_files_without_one(billing_env, engine, tmp_path, capsys):
    source = tmp_path / "debts.csv"
    write_sample(source, rows=10, seed=2)
    summary = _process(source, capsys)
    file_id = summary["file_id"]

    def tick():
        with dg.instance_for_test() as instance, dg.build_sensor_context(
            instance=instance,
            resources={"billing": BillingResource(data_dir=str(billing_env.data_dir),
                                                  database_url=billing_env.database_url)},
        ) as context:
            return file_report_sensor(context)

    assert tick().run_requests == []  # `billing process` wrote the report, and the store records it
    assert file_id not in finished_files(engine)
    with engine.begin() as connection:  # as before the report run ended
        connection.execute(text("UPDATE source_files SET reported_at = NULL"))
    [request] = tick().run_requests
    assert (request.partition_key, request.run_key) == (file_id, f"report:{file_id}")

    with engine.begin() as connection:  # a notice still pending: the file is not finished
        connection.execute(text("UPDATE outbox SET status = 'pending' WHERE id = (SELECT MIN(id) FROM outbox)"))
    assert file_id not in finished_files(engine)
    assert tick().run_requests == []


def test_a_file_is_not_finished_before_every_debt_has_a_settled_notice(billing_env, engine, tmp_path, capsys):
    source = tmp_path / "debts.csv"
    write_sample(source, rows=10, seed=3)
    main(["process", str(source), "--json", "--until", "debts"])
    file_id = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["file_id"]
    assert file_id not in finished_files(engine)  # processed, but no boleto and so no notice yet

    main(["process", str(source), "--json", "--until", "boletos"])
    capsys.readouterr()
    assert file_id not in finished_files(engine)  # boletos, but no notice yet

    main(["process", str(source), "--json"])  # notices, then the report
    capsys.readouterr()
    assert (billing_env.reports_dir / f"{file_id}.json").exists()
    assert file_id not in finished_files(engine)  # reported
    with engine.begin() as connection:
        connection.execute(text("UPDATE source_files SET reported_at = NULL"))
    assert file_id in finished_files(engine)  # finished: every notice settled


def test_a_report_asked_for_early_does_not_stand_in_for_the_final_one(billing_env, engine, tmp_path, capsys):
    source = tmp_path / "debts.csv"
    write_sample(source, rows=30, seed=4)
    main(["process", str(source), "--json", "--until", "boletos"])
    file_id = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["file_id"]
    staged = list((billing_env.staging_dir / "validated_chunk").glob("*.parquet"))
    assert staged

    # An operator materializes the report from the UI before any notice went out.
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(source_file_partitions.name, [file_id])
    result = dg.materialize([file_report], partition_key=file_id, instance=instance, resources={
        "billing": BillingResource(data_dir=str(billing_env.data_dir), database_url=billing_env.database_url)})
    [materialization] = result.asset_materializations_for_node("file_report")
    assert materialization.metadata["file_finished"].value is False
    assert materialization.metadata["staged_frames_removed"].value == 0
    assert all(path.exists() for path in staged)  # a chunk re-run may still need its frame
    early = json.loads((billing_env.reports_dir / f"{file_id}.json").read_text(encoding="utf-8"))
    assert early["notifications"]["sent"] == 0

    main(["process", str(source), "--json"])  # the notices, then the final report
    capsys.readouterr()
    final = json.loads((billing_env.reports_dir / f"{file_id}.json").read_text(encoding="utf-8"))
    assert final["notifications"]["sent"] == final["accepted"] > 0
    assert file_id not in finished_files(engine)
    assert not any(path.exists() for path in staged)  # the finished file's frames are cleaned


def test_files_finished_before_reports_were_recorded_count_as_reported(billing_env, engine, tmp_path, capsys):
    finished, in_flight = tmp_path / "finished.csv", tmp_path / "in-flight.csv"
    write_sample(finished, rows=20, seed=5)
    write_sample(in_flight, rows=20, seed=6)
    main(["process", str(finished), "--json"])
    main(["process", str(in_flight), "--json", "--until", "boletos"])
    finished_id, in_flight_id = (json.loads(line)["file_id"] for line in capsys.readouterr().out.strip().splitlines())
    with engine.begin() as connection:  # the store as it was before migration 0006
        connection.execute(text("ALTER TABLE source_files DROP COLUMN reported_at"))
        connection.execute(text("DELETE FROM schema_version WHERE version = 6"))

    assert [migration.version for migration in upgrade(engine)] == [6]

    with engine.connect() as connection:
        reported = dict(connection.execute(text("SELECT file_id, reported_at IS NOT NULL FROM source_files")).all())
    assert {file_id.strip(): bool(flag) for file_id, flag in reported.items()} == {
        finished_id: True, in_flight_id: False}
    assert finished_files(engine) == []
