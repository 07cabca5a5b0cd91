"""`billing dev` (what `make demo` ends with) brings up the UI on the embedded default and the daemon runs."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml
from conftest import stop_process_group

from billing_pipeline.cli import EMBEDDED_INSTANCE_YAML, instance_file_warnings

pytestmark = pytest.mark.daemon


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_billing_dev_serves_the_ui_with_our_code_location(tmp_path: Path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BILLING_")}
    env.update(DAGSTER_HOME=str(tmp_path / "dagster_home"), BILLING_DATA_DIR=str(tmp_path / "data"))
    log = tmp_path / "dev.log"
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [str(Path(sys.executable).with_name("billing")), "dev", "--port", str(port)],
            cwd=tmp_path, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 120
        info = None
        while time.monotonic() < deadline and info is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2) as response:
                    info = json.load(response)
            except OSError:
                time.sleep(1)
        assert info is not None, log.read_text(errors="replace")[-3000:]
        assert info["dagster_version"] == "1.13.27"

        query = json.dumps({"query": "{ workspaceOrError { ... on Workspace { locationEntries { name } } } }"})
        request = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", data=query.encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            entries = json.load(response)["data"]["workspaceOrError"]["locationEntries"]
        assert [e["name"] for e in entries] == ["billing_pipeline.defs.definitions"]
        assert (tmp_path / "dagster_home" / "dagster.yaml").exists()
        assert (tmp_path / "data" / "billing.db").exists()
        assert (tmp_path / "data" / "inbox").is_dir()
    finally:
        stop_process_group(process, signal.SIGINT)


def test_a_dagster_home_from_before_crash_recovery_is_pointed_at_the_run_launcher(tmp_path: Path):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shipped = EMBEDDED_INSTANCE_YAML.read_text(encoding="utf-8")
    (home / "dagster.yaml").write_text(shipped, encoding="utf-8")
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
