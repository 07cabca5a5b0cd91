"""Every Dagster definition loads, and the pieces the product relies on are wired as documented."""

from __future__ import annotations

import re

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


def test_every_check_has_a_result_per_partition_of_its_asset():
    graph = defs.resolve_asset_graph()
    for key in graph.asset_check_keys:
        spec = graph.get_check_spec(key)
        assert spec.partitions_def == graph.get(key.asset_key).partitions_def, key


def test_descriptions_shown_as_markdown_hold_no_angle_bracket_placeholders():
    """The UI renders descriptions as markdown: `<chunk>` would be taken for an HTML tag and vanish."""
    placeholder = re.compile(r"<[A-Za-z_][A-Za-z_0-9]*>")
    repository = defs.get_repository_def()
    described = {
        **{f"asset {key.to_user_string()}": spec.description for key, spec in
           ((spec.key, spec) for spec in defs.resolve_all_asset_specs())},
        **{f"check {key.to_user_string()}": defs.resolve_asset_graph().get_check_spec(key).description
           for key in defs.resolve_asset_graph().asset_check_keys},
        **{f"sensor {sensor.name}": sensor.description for sensor in repository.sensor_defs},
        **{f"job {job.name}": job.description for job in repository.get_all_jobs()},
    }
    assert {name: text for name, text in described.items() if text and placeholder.search(text)} == {}
