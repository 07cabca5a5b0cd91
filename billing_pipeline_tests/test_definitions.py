"""Every Dagster definition loads, and the pieces the product relies on are wired as documented."""

from __future__ import annotations

import dagster as dg

from billing_pipeline.definitions import defs


def test_all_definitions_load():
    dg.Definitions.validate_loadable(defs)
    repository = defs.get_repository_def()
    assert {j.name for j in repository.get_all_jobs()} >= {"ingest_file", "process_chunk", "deliver_chunk",
                                                           "report_file"}


def test_storing_a_file_goes_before_delivering_it():
    repository = defs.get_repository_def()

    def job(name: str):
        found = repository.get_job(name)
        return ({key.to_user_string() for key in found.asset_layer.selected_asset_keys},
                int(found.tags["dagster/priority"]))

    split, store, deliver = job("ingest_file"), job("process_chunk"), job("deliver_chunk")
    assert store[0] == {"validated_chunk", "debts", "boletos"}
    assert deliver[0] == {"boleto_pdfs", "notifications"}
    assert split[1] > store[1] > deliver[1]


def test_sensors_run_by_default_and_poll_often():
    for name in ("inbox_sensor", "chunk_sensor", "delivery_sensor", "file_report_sensor"):
        sensor = defs.get_sensor_def(name)
        assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
        assert sensor.minimum_interval_seconds <= 5


def test_lineage_and_checks():
    graph = defs.resolve_asset_graph()
    source, validated, debts = dg.AssetKey("source_file"), dg.AssetKey("validated_chunk"), dg.AssetKey("debts")
    assert graph.get(validated).parent_keys == {source}
    assert graph.get(debts).parent_keys == {validated}
    checks = {key.name for key in graph.asset_check_keys if key.asset_key == debts}
    assert checks == {"reject_rate_below_threshold", "row_accounting_holds", "debt_ids_stored_once"}
