"""The same bytes received again, under any name and by any door: nothing new is done, each arrival is on record,
and the person who sent it is told when the bytes first came in."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from billing_pipeline import stages
from billing_pipeline.sample import write_sample
from billing_pipeline.store.engine import create_store_engine
from billing_pipeline.store.migrate import upgrade
from billing_pipeline.store.outbox import counts as outbox_counts
from billing_pipeline.store.tables import file_receipts, source_files


def _receipts(engine) -> list[tuple[str, str]]:
    with engine.connect() as connection:
        return [(r.original_name, r.received_via) for r in connection.execute(
            select(file_receipts.c.original_name, file_receipts.c.received_via).order_by(file_receipts.c.id))]


def test_known_bytes_given_to_process_again_say_already_received_and_send_nothing(billing_env, engine, tmp_path, cli):
    first = tmp_path / "debts.csv"
    write_sample(first, rows=30, seed=21)
    file_id = cli("process", first).json["file_id"]
    sent = outbox_counts(engine, file_id=file_id)
    again = tmp_path / "same-bytes.csv"
    shutil.copyfile(first, again)

    shown = cli("process", again, json=False)

    assert shown.out.strip().splitlines() == [
        f"{again}: already received as debts.csv on {_first_received(engine, file_id)} UTC (file {file_id}); "
        "nothing new to do"]
    assert "notified" not in shown.out
    assert outbox_counts(engine, file_id=file_id) == sent
    summary = cli("process", again).json
    assert summary["already_received"].startswith("already received as debts.csv on ")
    assert summary["notified"] is None
    assert _receipts(engine) == [("debts.csv", "process"), ("same-bytes.csv", "process"),
                                 ("same-bytes.csv", "process")]


def test_a_rejected_file_given_again_says_already_received_and_exits_0(billing_env, engine, tmp_path, cli):
    bad = tmp_path / "bad.csv"
    bad.write_text("name;governmentId\nAna;1\n")
    assert cli("process", bad, check=False).status == 2
    again = cli("process", bad, json=False)
    assert "already received as bad.csv on " in again.out
    assert "nothing new to do" in again.out


def test_a_file_stopped_early_by_process_carries_on_when_given_again(billing_env, engine, tmp_path, cli):
    source = tmp_path / "debts.csv"
    write_sample(source, rows=20, seed=22)
    cli("process", source, "--until", "debts")
    summary = cli("process", source).json
    assert summary["already_received"] is None
    assert summary["notified"] == 20


def test_process_leaves_a_file_received_through_the_inbox_to_the_daemon(billing_env, engine, tmp_path, cli):
    source = tmp_path / "debts.csv"
    write_sample(source, rows=20, seed=23)
    submitted = stages.submit_stage(engine, billing_env, source).target
    registration = stages.register_stage(engine, billing_env, submitted)  # as the inbox sensor does

    summary = cli("process", source).json

    assert summary["already_received"] == (
        f"{registration.already_received()}; it came through the inbox and the daemon's runs are processing it "
        "(status registered); nothing new to do here")
    with engine.connect() as connection:  # not split, nor anything after: the daemon's runs do that
        assert connection.execute(select(source_files.c.status)).scalar_one() == "registered"


def test_submit_of_known_bytes_copies_nothing_into_the_inbox_and_says_so(billing_env, engine, tmp_path, cli):
    source = tmp_path / "debts.csv"
    write_sample(source, rows=10, seed=24)
    file_id = cli("process", source).json["file_id"]
    renamed = tmp_path / "renamed.csv"
    shutil.copyfile(source, renamed)

    said = cli("submit", renamed, json=False)

    assert said.out.strip() == (f"{renamed}: already received as debts.csv on {_first_received(engine, file_id)} "
                                f"UTC (file {file_id}); nothing new to do")
    assert not any(billing_env.inbox_dir.iterdir())
    assert _receipts(engine)[-1] == ("renamed.csv", "inbox")


def _first_received(engine, file_id: str) -> str:
    return f"{stages.file_receipts_of(engine, file_id)[0].received_at:%Y-%m-%d %H:%M:%S}"


def test_a_finished_file_of_process_without_its_report_gets_it_when_given_again(billing_env, engine, tmp_path, cli):
    source = tmp_path / "debts.csv"
    write_sample(source, rows=15, seed=25)
    file_id = cli("process", source, "--until", "boleto_pdfs").json["file_id"]
    cli("notify", "--file", file_id, json=False)  # every notice settled: finished, but no report was written
    assert not billing_env.report_path(file_id).exists()

    summary = cli("process", source).json

    assert summary["already_received"] is None
    assert billing_env.report_path(file_id).exists()
    assert cli("process", source).json["already_received"].endswith("; nothing new to do")


def test_submit_of_a_file_process_left_unfinished_says_how_to_finish_it(billing_env, engine, tmp_path, cli):
    source = tmp_path / "debts.csv"
    write_sample(source, rows=10, seed=26)
    cli("process", source, "--until", "debts")
    said = cli("submit", source, json=False).out
    assert said.strip().endswith("`billing process` left it unfinished: run `billing process` on it again to finish it")
    assert not any(billing_env.inbox_dir.iterdir())


def test_a_registration_cut_short_before_its_archive_is_completed_not_counted_as_a_redrop(settings, engine, tmp_path):
    source = tmp_path / "debts.csv"
    write_sample(source, rows=10, seed=27)
    first = stages.register_stage(engine, settings, stages.submit_stage(engine, settings, source).target)
    settings.archive_path(first.file_id).replace(settings.inbox_dir / "debts.csv")  # as if the move never happened

    again = stages.register_stage(engine, settings, settings.inbox_dir / "debts.csv")

    assert again.new
    assert len(stages.file_receipts_of(engine, first.file_id)) == 1
    assert settings.archive_path(first.file_id).exists()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_arrival_times_are_told_in_utc_whatever_the_store_sessions_time_zone(settings, tmp_path):
    in_sao_paulo = create_store_engine(f"{settings.database_url}?options=-c%20timezone%3DAmerica/Sao_Paulo")
    upgrade(in_sao_paulo)
    source = tmp_path / "debts.csv"
    write_sample(source, rows=5, seed=28)
    before = datetime.now(UTC).replace(microsecond=0)
    registration = stages.register_stage(in_sao_paulo, settings, source, keep_original=True)
    in_sao_paulo.dispose()

    assert registration.first.received_at.utcoffset() == timedelta(0)
    assert before <= registration.first.received_at <= before + timedelta(minutes=1)
