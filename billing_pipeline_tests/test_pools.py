"""Every step that touches a shared resource declares its pool; `billing pools` sets limits an operator can keep."""

from __future__ import annotations

from pathlib import Path

import yaml
from dagster import DagsterInstance

from billing_pipeline.definitions import ASSETS
from billing_pipeline.instance.pools import POOLS
from billing_pipeline_tests.support.cli import run_billing
from billing_pipeline_tests.support.paths import PROJECT_ROOT


def test_each_step_is_in_the_pool_of_the_resource_it_loads():
    pools = {asset.op.name: asset.op.pool for asset in ASSETS}
    assert pools == {
        "source_file": "db", "validated_chunk": "db", "debts": "db", "boletos": "db",
        "boleto_pdfs": "pdf", "notifications": "smtp", "file_report": None, "remessa": "db", "retorno": "db",
        "reminder_notices": "smtp",
    }
    assert {pool.name for pool in POOLS} == {p for p in pools.values() if p}


def test_embedded_and_production_instances_share_their_limits():
    embedded = yaml.safe_load((PROJECT_ROOT / "billing_pipeline" / "dagster_embedded.yaml").read_text())
    production = yaml.safe_load((PROJECT_ROOT / "dagster.yaml").read_text())
    for section in ("concurrency", "run_retries", "run_monitoring", "run_coordinator", "sensors", "retention"):
        assert embedded[section] == production[section], section
    # The same launcher; only production preloads the code into its run workers (`billing dev` reloads it).
    launcher = ("module", "class")
    assert [embedded["run_launcher"][k] for k in launcher] == [production["run_launcher"][k] for k in launcher]
    assert production["run_retries"]["retry_on_asset_or_op_failure"] is False  # crashed runs only
    assert production["run_monitoring"]["free_slots_after_run_end_seconds"] > 0


def billing_pools(home: Path, *args: str) -> str:
    return run_billing("pools", *args, env={"DAGSTER_HOME": str(home), "PATH": ""}, json=False, timeout=120,
                       cwd=home.parent).out


def test_billing_pools_sets_defaults_once_and_keeps_an_operators_change(tmp_path: Path):
    home = tmp_path / "dagster_home"
    first = billing_pools(home)
    assert [line.split()[:2] for line in first.splitlines()] == [["db:", "2"], ["pdf:", "2"], ["smtp:", "2"]]

    with DagsterInstance.from_config(str(home)) as instance:
        instance.event_log_storage.set_concurrency_slots("smtp", 5)  # as the UI's Concurrency page does
    again = billing_pools(home)
    assert "smtp: 5" in again and "db: 2" in again

    forced = billing_pools(home, "--set", "db=1")
    assert "db: 1" in forced and "smtp: 5" in forced
    with DagsterInstance.from_config(str(home)) as instance:
        limits = {p.name: p.limit for p in instance.event_log_storage.get_pool_limits()}
    assert limits == {"db": 1, "pdf": 2, "smtp": 5}


def test_billing_pools_refuses_an_unknown_pool(tmp_path: Path):
    done = run_billing("pools", "--set", "gpu=3", env={"DAGSTER_HOME": str(tmp_path / "h")}, json=False,
                       check=False, timeout=120)
    assert done.status == 2
    assert "expected POOL=N with POOL one of db, pdf, smtp, got 'gpu=3'" in done.err
    assert "Traceback" not in done.err
