"""The asset checks on a chunk (defs/ingest/checks.py), run through Dagster: numbers as metadata, a bad chunk fails
its reject-rate check."""

from __future__ import annotations

import pytest

from billing_pipeline.defs.ingest.assets import debts, validated_chunk
from billing_pipeline.defs.partitions import chunk_partitions
from billing_pipeline_tests.support.files import store_sample, write_sample_file
from billing_pipeline_tests.support.in_process import instance_with_partitions, materialize


@pytest.mark.parametrize(("invalid_rate", "rate_check_passes"), [(0.2, False), (0.0, True)])
def test_chunk_checks(settings, engine, tmp_path, invalid_rate, rate_check_passes):
    sample = write_sample_file(tmp_path / "debts.csv", rows=500, seed=8, invalid_rate=invalid_rate)
    [key] = store_sample(engine, settings, sample, through="source_file").chunk_keys

    result = materialize([validated_chunk, debts], settings, key, instance_with_partitions(chunk_partitions, [key]))

    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    rate = evaluations["reject_rate_below_threshold"]
    assert rate.passed is rate_check_passes
    assert rate.metadata["reject_rate"].value == pytest.approx(sample.rejected / 500)
    assert rate.metadata["threshold"].value == settings.max_reject_rate
    accounting = evaluations["row_accounting_holds"]
    assert accounting.passed
    assert accounting.metadata["rows"].value == 500
    stored = evaluations["debt_ids_stored_once"]
    assert stored.passed
    assert stored.metadata["stored_rows"].value == sample.accepted
