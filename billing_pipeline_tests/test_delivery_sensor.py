"""The delivery sensor: one deliver_chunk run per new boletos materialization, none for a run delivering itself."""

from __future__ import annotations

import dagster as dg

from billing_pipeline.defs.boletos.sensors import delivery_sensor
from billing_pipeline.defs.partitions import chunk_partitions


@dg.asset(name="boletos", partitions_def=chunk_partitions)
def stored_boletos() -> None:
    """Stands in for the real asset: the sensor reads only the event log, not the store."""


@dg.asset(name="notifications", deps=[stored_boletos], partitions_def=chunk_partitions)
def sent_notifications() -> None:
    pass


def evaluate(instance: dg.DagsterInstance, cursor: str | None):
    result = delivery_sensor(dg.build_sensor_context(instance=instance, cursor=cursor))
    return [(r.partition_key, r.run_key) for r in result.run_requests], result.cursor


def test_each_new_boletos_materialization_requests_one_delivery_and_only_once():
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(chunk_partitions.name, ["c-0000", "c-0001", "c-0002"])
        assert evaluate(instance, None) == ([], None)

        for key in ("c-0000", "c-0001"):  # as process_chunk does: boletos stored, delivery left to others
            dg.materialize([stored_boletos, sent_notifications], selection=[stored_boletos], instance=instance,
                           partition_key=key)
        # a UI run of every chunk asset sends its own notices: a second delivery would race it
        dg.materialize([stored_boletos, sent_notifications], instance=instance, partition_key="c-0002")

        requests, cursor = evaluate(instance, None)
        assert [key for key, _ in requests] == ["c-0000", "c-0001"]
        assert len({run_key for _, run_key in requests}) == 2
        assert evaluate(instance, cursor)[0] == []  # nothing new since the cursor

        dg.materialize([stored_boletos, sent_notifications], selection=[stored_boletos], instance=instance,
                       partition_key="c-0000")  # boletos stored again (a re-run): deliver again, idempotently
        again, _ = evaluate(instance, cursor)
        assert [key for key, _ in again] == ["c-0000"]
        assert again[0][1] not in {run_key for _, run_key in requests}
