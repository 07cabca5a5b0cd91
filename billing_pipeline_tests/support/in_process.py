"""The Dagster definitions run in this process on a test's store and data folder, as the daemon's runs and sensor
ticks run them: the resources read the BILLING_* environment, but for the test's data_dir and database_url.

    instance = instance_with_partitions(chunk_partitions, [key])
    result = materialize([validated_chunk, debts], settings, key, instance)
    ticked = evaluate_sensor(chunk_sensor, instance, settings, cursor)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import dagster as dg

from billing_pipeline.definitions import ASSETS
from billing_pipeline.defs.resources import BillingResource, ChunkFrameIOManager
from billing_pipeline.settings import Settings


def billing_resource(settings: Settings) -> BillingResource:
    return BillingResource(data_dir=str(settings.data_dir), database_url=settings.database_url)


def resources_for(settings: Settings) -> dict:
    return {"billing": billing_resource(settings),
            "chunk_io_manager": ChunkFrameIOManager(base_dir=str(settings.staging_dir))}


def instance_with_partitions(partitions: dg.DynamicPartitionsDefinition, keys: Sequence[str]) -> dg.DagsterInstance:
    """An ephemeral instance that knows these dynamic partitions, as the sensors would have added them."""
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(partitions.name, list(keys))
    return instance


def materialize(selection: Sequence, settings: Settings, partition_key: str, instance: dg.DagsterInstance,
                raise_on_error: bool = True) -> dg.ExecuteInProcessResult:
    """The selected assets of the code location, for one partition."""
    return dg.materialize(ASSETS, selection=list(selection), partition_key=partition_key, instance=instance,
                          resources=resources_for(settings), raise_on_error=raise_on_error)


def evaluate_sensor(sensor: Callable, instance: dg.DagsterInstance, settings: Settings, cursor: str | None = None):
    """One tick of the sensor: what it returned (a SensorResult, or its run requests)."""
    with dg.build_sensor_context(instance=instance, cursor=cursor,
                                 resources={"billing": billing_resource(settings)}) as context:
        return sensor(context)
