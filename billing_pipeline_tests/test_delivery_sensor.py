"""The delivery sensor: one deliver_chunk run per new boletos materialization, none for a run delivering itself,
and none while a file is being stored unless the wait has grown past BILLING_DELIVERY_HOLD_SECONDS."""

from __future__ import annotations

import dagster as dg

from billing_pipeline.defs.notifications.sensors import delivery_sensor
from billing_pipeline.defs.partitions import chunk_partitions
from billing_pipeline.settings import Settings
from billing_pipeline_tests.support.in_process import evaluate_sensor


@dg.asset(name="boletos", partitions_def=chunk_partitions)
def stored_boletos() -> None:
    """Stands in for the real asset: the sensor reads only the event log, not the store."""


@dg.asset(name="notifications", deps=[stored_boletos], partitions_def=chunk_partitions)
def sent_notifications() -> None:
    pass


def store_boletos(instance: dg.DagsterInstance, key: str, with_notices: bool = False) -> None:
    selection = None if with_notices else [stored_boletos]
    dg.materialize([stored_boletos, sent_notifications], selection=selection, instance=instance, partition_key=key)


def evaluate(instance: dg.DagsterInstance, cursor: str | None, tmp_path):
    unused_store = Settings.from_env({}, data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'unused.db'}")
    result = evaluate_sensor(delivery_sensor, instance, unused_store, cursor)
    return [(r.partition_key, r.run_key) for r in result.run_requests], result.cursor


def test_each_new_boletos_materialization_requests_one_delivery_and_only_once(tmp_path):
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(chunk_partitions.name, ["c-0000", "c-0001", "c-0002"])
        assert evaluate(instance, None, tmp_path) == ([], None)

        store_boletos(instance, "c-0000")  # as process_chunk does: boletos stored, delivery left to others
        store_boletos(instance, "c-0001")
        # a UI run of every chunk asset sends its own notices: a second delivery would race it
        store_boletos(instance, "c-0002", with_notices=True)

        requests, cursor = evaluate(instance, None, tmp_path)
        assert [key for key, _ in requests] == ["c-0000", "c-0001"]
        assert len({run_key for _, run_key in requests}) == 2
        assert evaluate(instance, cursor, tmp_path)[0] == []  # nothing new since the cursor

        store_boletos(instance, "c-0000")  # boletos stored again (a re-run): deliver again, idempotently
        again, _ = evaluate(instance, cursor, tmp_path)
        assert [key for key, _ in again] == ["c-0000"]
        assert again[0][1] not in {run_key for _, run_key in requests}


def test_deliveries_wait_while_a_file_is_stored_until_the_hold_runs_out(tmp_path, monkeypatch):
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(chunk_partitions.name, ["c-0000", "c-0001"])
        store_boletos(instance, "c-0000")
        storing = dg.DagsterRun(job_name="process_chunk", run_id="a-chunk-still-storing",
                                status=dg.DagsterRunStatus.STARTED)
        instance.add_run(storing)

        held, cursor = evaluate(instance, None, tmp_path)
        assert (held, cursor) == ([], None)  # the cursor stays: the chunk is still owed its delivery

        monkeypatch.setenv("BILLING_DELIVERY_HOLD_SECONDS", "0")  # waited long enough: deliver anyway
        [(key, _)], cursor = evaluate(instance, None, tmp_path)
        assert key == "c-0000"

        monkeypatch.delenv("BILLING_DELIVERY_HOLD_SECONDS")
        instance.report_run_failed(storing)  # storing is over: what came since goes at once
        store_boletos(instance, "c-0001")
        assert [key for key, _ in evaluate(instance, cursor, tmp_path)[0]] == ["c-0001"]
