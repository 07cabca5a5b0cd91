"""The sensors' decisions, evaluated directly against a test instance and a real store."""

from __future__ import annotations

import json
import os
import shutil
import time

import dagster as dg
import pytest

from billing_pipeline.defs.ingest.sensors import chunk_sensor, inbox_sensor
from billing_pipeline.defs.resources import BillingResource
from billing_pipeline.ingest.inbox import submit
from billing_pipeline.sample import write_sample
from billing_pipeline.stages import split_stage

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _tick(sensor, instance, settings, cursor=None, poll_interval_passed=True):
    """One evaluation, as the daemon makes it; the inbox sensor's next look comes BILLING_INBOX_POLL_SECONDS
    after its last unless `poll_interval_passed` is False."""
    if cursor and poll_interval_passed and cursor.startswith("{"):
        cursor = json.dumps({**json.loads(cursor), "looked_at_ns": 0})
    with dg.build_sensor_context(
        instance=instance,
        cursor=cursor,
        resources={"billing": BillingResource(data_dir=str(settings.data_dir), database_url=settings.database_url)},
    ) as context:
        return sensor(context), context


def test_a_fresh_file_is_taken_on_the_second_look_and_requested_once(settings, engine, tmp_path):
    source = tmp_path / "debts.csv"
    write_sample(source, rows=10, seed=1)
    dropped = submit(source, settings.inbox_dir)
    os.utime(dropped)  # written just now: only a second look can tell it is finished
    (settings.inbox_dir / "still-copying.csv.part").write_text("name,")
    (settings.inbox_dir / ".hidden.csv").write_text("name,")

    with dg.instance_for_test() as instance:
        first, _ = _tick(inbox_sensor, instance, settings)
        assert first.run_requests == []
        assert dropped.exists()

        second, _ = _tick(inbox_sensor, instance, settings, first.cursor)
        assert not dropped.exists()
        [request] = second.run_requests
        assert request.run_key == request.partition_key
        assert len(request.partition_key) == 64
        assert (settings.archive_dir / f"{request.partition_key}.csv").read_bytes() == source.read_bytes()
        assert second.dynamic_partitions_requests[0].partition_keys == [request.partition_key]

        third, _ = _tick(inbox_sensor, instance, settings, second.cursor)
        assert third.run_requests == []
        assert sorted(p.name for p in settings.inbox_dir.iterdir()) == [".hidden.csv", "still-copying.csv.part"]


def test_a_file_untouched_for_a_poll_interval_is_taken_on_the_first_look(settings, engine, tmp_path):
    source = tmp_path / "debts.csv"
    write_sample(source, rows=10, seed=1)
    settled = time.time() - settings.inbox_poll_seconds - 1
    os.utime(source, (settled, settled))
    dropped = submit(source, settings.inbox_dir)
    assert dropped.stat().st_mtime == source.stat().st_mtime  # submit keeps the source's mtime
    with dg.instance_for_test() as instance:
        first, _ = _tick(inbox_sensor, instance, settings)
        assert len(first.run_requests) == 1
        assert not dropped.exists()


def test_a_growing_file_waits_until_it_stops_changing(settings, engine, tmp_path):
    growing = settings.inbox_dir / "growing.csv"
    growing.write_text("name,governmentId,email,debtAmount,debtDueDate,debtId\n")
    with dg.instance_for_test() as instance:
        first, _ = _tick(inbox_sensor, instance, settings)
        with open(growing, "a") as stream:
            stream.write("more\n")
        second, _ = _tick(inbox_sensor, instance, settings, first.cursor)
        assert second.run_requests == []
        assert growing.exists()
        third, _ = _tick(inbox_sensor, instance, settings, second.cursor)
        assert len(third.run_requests) == 1


def test_redropped_bytes_under_another_name_create_no_run_and_say_so(settings, engine, tmp_path, capsys):
    source = tmp_path / "debts.csv"
    write_sample(source, rows=10, seed=1)
    with dg.instance_for_test() as instance:
        submit(source, settings.inbox_dir)
        first, _ = _tick(inbox_sensor, instance, settings)
        second, _ = _tick(inbox_sensor, instance, settings, first.cursor)
        assert len(second.run_requests) == 1

        renamed = tmp_path / "renamed.csv"
        shutil.copyfile(source, renamed)
        submit(renamed, settings.inbox_dir)
        third, _ = _tick(inbox_sensor, instance, settings, second.cursor)
        capsys.readouterr()
        fourth, _ = _tick(inbox_sensor, instance, settings, third.cursor)

        assert fourth.run_requests == []
        assert not any(settings.inbox_dir.iterdir())
        sensor_log = capsys.readouterr().err
        file_id = second.run_requests[0].partition_key
        assert "renamed.csv: already received as debts.csv on " in sensor_log
        # Its ingest run was requested, not run yet: the daemon's.
        assert f"(file {file_id}); it came through the inbox and the daemon's runs are processing it" in sensor_log
        assert json.loads(fourth.cursor)["file_seq"] == 1
        [observation] = fourth.asset_events  # the UI's record of the re-drop, on the first file's partition
        assert (observation.asset_key, observation.partition) == (dg.AssetKey("source_file"), file_id)
        assert observation.metadata["received_again_as"].value == "renamed.csv"
        assert observation.metadata["first_received_as"].value == "debts.csv"
        assert "renamed.csv: already received as debts.csv" in fourth.skip_reason.skip_message


def test_chunk_sensor_requests_each_new_chunk_once(settings, engine, tmp_path):
    source = tmp_path / "debts.csv"
    write_sample(source, rows=25, seed=1)
    settings = settings.replace(chunk_rows=10)
    with dg.instance_for_test() as instance:
        submit(source, settings.inbox_dir)
        first, _ = _tick(inbox_sensor, instance, settings)
        second, _ = _tick(inbox_sensor, instance, settings, first.cursor)
        file_id = second.run_requests[0].partition_key
        split_stage(engine, settings, file_id)

        chunks, _ = _tick(chunk_sensor, instance, settings)
        keys = [r.partition_key for r in chunks.run_requests]
        assert keys == [f"{file_id[:12]}-{n:04d}" for n in range(3)]
        assert [r.run_key for r in chunks.run_requests] == keys
        assert chunks.dynamic_partitions_requests[0].partition_keys == keys

        again, _ = _tick(chunk_sensor, instance, settings, chunks.cursor)
        assert again.run_requests == []


def test_the_inbox_is_looked_at_once_per_poll_interval(settings, engine, tmp_path):
    source = tmp_path / "debts.csv"
    write_sample(source, rows=10, seed=1)
    dropped = submit(source, settings.inbox_dir)
    os.utime(dropped)

    with dg.instance_for_test() as instance:
        first, _ = _tick(inbox_sensor, instance, settings)
        too_soon, _ = _tick(inbox_sensor, instance, settings, first.cursor, poll_interval_passed=False)
        assert "next look in" in too_soon.skip_reason.skip_message
        assert too_soon.cursor == first.cursor and dropped.exists()

        later, _ = _tick(inbox_sensor, instance, settings, first.cursor)
        assert len(later.run_requests) == 1 and not dropped.exists()
