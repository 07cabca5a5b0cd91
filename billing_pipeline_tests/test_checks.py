"""Asset checks on a chunk, run through Dagster: numbers as metadata, a bad chunk fails its reject-rate check."""

from __future__ import annotations

import dagster as dg
import pytest

from billing_pipeline import stages
from billing_pipeline.defs.definitions import ASSETS
from billing_pipeline.defs.ingest.assets import debts, validated_chunk
from billing_pipeline.defs.partitions import chunk_partitions
from billing_pipeline.defs.resources import BillingResource, ChunkFrameIOManager
from billing_pipeline.ingest.inbox import submit
from billing_pipeline.sample import write_sample


@pytest.mark.parametrize(("invalid_rate", "rate_check_passes"), [(0.2, False), (0.0, True)])
def test_chunk_checks(settings, engine, tmp_path, invalid_rate, rate_check_passes):
    source = tmp_path / "debts.csv"
    rejected = len({e.line_number for e in write_sample(source, rows=500, seed=8, invalid_rate=invalid_rate)})
    registration = stages.register_stage(engine, settings, submit(source, settings.inbox_dir))
    [key] = stages.split_stage(engine, settings, registration.file_id).chunk_keys

    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(chunk_partitions.name, [key])
    result = dg.materialize(
        ASSETS,
        selection=[validated_chunk, debts],
        partition_key=key,
        instance=instance,
        resources={
            "billing": BillingResource(data_dir=str(settings.data_dir), database_url=settings.database_url),
            "chunk_io_manager": ChunkFrameIOManager(base_dir=str(settings.staging_dir)),
        },
    )

    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    rate = evaluations["reject_rate_below_threshold"]
    assert rate.passed is rate_check_passes
    assert rate.metadata["reject_rate"].value == pytest.approx(rejected / 500)
    assert rate.metadata["threshold"].value == settings.max_reject_rate
    accounting = evaluations["row_accounting_holds"]
    assert accounting.passed
    assert accounting.metadata["rows"].value == 500
    stored = evaluations["debt_ids_stored_once"]
    assert stored.passed
    assert stored.metadata["stored_rows"].value == 500 - rejected
