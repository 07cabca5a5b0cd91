"""`billing dev` (what `make demo` ends with) brings up the UI on the embedded default and the daemon runs."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import yaml

from billing_pipeline.cli import EMBEDDED_INSTANCE_YAML, instance_file_warnings
from billing_pipeline_tests.support.paths import PROJECT_ROOT
from billing_pipeline_tests.support.processes import child_environment
from billing_pipeline_tests.support.stacks import CODE_LOCATION, BillingDev, dagster_home
from billing_pipeline_tests.support.waiting import wait_for
from billing_pipeline_tests.support.webserver import graphql, server_info


def _answer(url: str) -> httpx.Response | None:
    try:
        return httpx.get(url, timeout=5)
    except httpx.TransportError:
        return None


LOCATIONS = "{ workspaceOrError { ... on Workspace { locationEntries { name } } } }"


@pytest.mark.daemon
def test_billing_dev_serves_the_ui_with_our_code_location(tmp_path: Path):
    dev = BillingDev(tmp_path, child_environment(BILLING_DATA_DIR=str(tmp_path / "data")))
    try:
        dev.start()
        assert server_info(dev.url)["dagster_version"] == "1.13.27"
        entries = graphql(dev.url, LOCATIONS)["workspaceOrError"]["locationEntries"]
        assert [e["name"] for e in entries] == [CODE_LOCATION]
        assert (tmp_path / "dagster_home" / "dagster.yaml").exists()
        assert (tmp_path / "data" / "billing.db").exists()
        assert (tmp_path / "data" / "inbox").is_dir()
        # The HTTP API beside the UI, on the same store and instance.
        health = wait_for(lambda: _answer(f"{dev.api_url}/health"), "the API of `billing dev`", timeout=60)
        assert health.json()["status"] == "ok"
        runs = [line for line in httpx.get(f"{dev.api_url}/metrics").text.splitlines()
                if line.startswith("billing_dagster_instance_up")]
        assert runs == ["billing_dagster_instance_up 1.0"]
    finally:
        dev.interrupt()
        dev.stop()
    output = dev.log.read_text(errors="replace")
    assert "SupersessionWarning" not in output, output[-3000:]  # `dg dev`, not the superseded `dagster dev`


def test_a_dagster_home_from_before_crash_recovery_is_pointed_at_the_run_launcher(tmp_path: Path):
    shipped = EMBEDDED_INSTANCE_YAML.read_text(encoding="utf-8")
    home = dagster_home(tmp_path, shipped)
    assert instance_file_warnings(home) == []

    before = yaml.safe_load(shipped)
    del before["run_launcher"]
    (home / "dagster.yaml").write_text(yaml.safe_dump(before), encoding="utf-8")
    [warning] = instance_file_warnings(home)
    assert "billing_pipeline.instance.run_launcher.LocalProcessRunLauncher" in warning
    assert "After a crash" in warning

    before["run_launcher"] = {"module": "dagster_docker", "class": "DockerRunLauncher"}  # an operator's choice
    (home / "dagster.yaml").write_text(yaml.safe_dump(before), encoding="utf-8")
    assert instance_file_warnings(home) == []


def test_an_instance_file_naming_the_storage_where_it_used_to_be_is_pointed_at_where_it_is(tmp_path: Path):
    production = yaml.safe_load((PROJECT_ROOT / "dagster.yaml").read_text(encoding="utf-8"))
    production["storage"]["custom"]["module"] = "billing_pipeline.defs.pooled_postgres_storage"
    home = dagster_home(tmp_path, yaml.safe_dump(production))
    [warning] = instance_file_warnings(home)
    assert "billing_pipeline.defs.pooled_postgres_storage" in warning
    assert "billing_pipeline.instance.pooled_postgres_storage" in warning


def test_billing_pools_refuses_such_an_instance_file_in_one_line(tmp_path: Path, monkeypatch, capsys):
    from billing_pipeline.cli import main

    production = yaml.safe_load((PROJECT_ROOT / "dagster.yaml").read_text(encoding="utf-8"))
    production["storage"]["custom"]["module"] = "billing_pipeline.defs.pooled_postgres_storage"
    home = dagster_home(tmp_path, yaml.safe_dump(production))
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    assert main(["pools"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: ") and error.count("\n") == 1
    assert "billing_pipeline.instance.pooled_postgres_storage" in error
