"""`billing dev` as an operator runs it from a shell, at the end of `make demo`: Ctrl-C stops it with one line and
no make error, whenever it is typed; from a folder holding another dagster.yaml (the repository root holds the
production one) it neither warns about that file nor reads the folder's .env; its Dagster processes, which run in
DAGSTER_HOME, get the settings' paths absolute."""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path

import pytest

from billing_pipeline.cli import dev_environment
from billing_pipeline.settings import Settings
from billing_pipeline_tests.support.paths import BIN, PROJECT_ROOT
from billing_pipeline_tests.support.ports import free_port
from billing_pipeline_tests.support.processes import child_environment, kill_processes_mentioning
from billing_pipeline_tests.support.terminal import CTRL_C, Terminal
from billing_pipeline_tests.support.waiting import wait_for
from billing_pipeline_tests.support.webserver import server_info

STOPPED = "billing dev: stopped (Ctrl-C)"
DAGSTER_YAML_WARNING = "Found a dagster instance configuration value"


def _demo_recipe_end() -> str:
    recipe = PROJECT_ROOT.joinpath("Makefile").read_text(encoding="utf-8").split("\ndemo:", 1)[1].split("\n\n")[0]
    return recipe.strip().splitlines()[-1].strip()


def _operators_folder(tmp_path: Path, port: int) -> Path:
    """A folder like the repository root: the production dagster.yaml, a docker-compose .env, and a Makefile whose
    demo target ends as `make demo` does (on a free port)."""
    folder = tmp_path / "checkout"
    folder.mkdir()
    shutil.copyfile(PROJECT_ROOT / "dagster.yaml", folder / "dagster.yaml")
    (folder / ".env").write_text(f"BILLING_DATA_DIR={tmp_path / 'not-this-data'}\n", encoding="utf-8")
    assert _demo_recipe_end() == "$(BIN)/billing dev"
    (folder / "Makefile").write_text(f"BIN := {BIN}\ndemo:\n\t$(BIN)/billing dev --port {port}\n", encoding="utf-8")
    return folder


@pytest.mark.daemon
@pytest.mark.parametrize("moment", ["while Dagster starts", "once the UI answers"])
def test_ctrl_c_ends_make_demo_with_a_stopped_line_and_no_make_error(tmp_path: Path, moment: str):
    port = free_port()
    folder = _operators_folder(tmp_path, port)
    terminal = Terminal(["make", "demo"], child_environment(BILLING_DATA_DIR=str(tmp_path / "data")), folder)
    try:
        terminal.wait_for_output("Dagster UI: http://")
        if moment == "once the UI answers":
            wait_for(lambda: server_info(f"http://127.0.0.1:{port}"), "the Dagster UI", timeout=180)
        terminal.type(CTRL_C)
        status = terminal.wait()
    finally:
        leftovers = kill_processes_mentioning(str(folder))
    output = terminal.text
    assert STOPPED in output, output[-3000:]
    assert "make: ***" not in output, output[-3000:]
    # make was interrupted too: it ends by SIGINT, as an interrupted make does, and says nothing of its own.
    assert status in (0, -signal.SIGINT), output[-3000:]
    assert leftovers == []  # the webserver, the daemon and the code server ended with it


@pytest.mark.daemon
def test_billing_dev_from_a_folder_with_another_dagster_yaml_neither_warns_of_it_nor_reads_its_env(tmp_path: Path):
    port = free_port()
    folder = _operators_folder(tmp_path, port)
    data = tmp_path / "data"
    # DAGSTER_HOME left unset: `billing dev` defaults it to .dagster/ in the folder, as `make demo` runs it.
    terminal = Terminal([str(BIN / "billing"), "dev", "--port", str(port)],
                        child_environment(BILLING_DATA_DIR=str(data)), folder)
    try:
        wait_for(lambda: terminal.read() and server_info(f"http://127.0.0.1:{port}"), "the Dagster UI", timeout=180)
        wait_for(lambda: terminal.read() and (data / "inbox").is_dir() and "dagster.daemon" in terminal.text,
                 "the daemon", timeout=120)
        terminal.type(CTRL_C)
        assert terminal.wait() == 0
    finally:
        kill_processes_mentioning(str(folder))
    output = terminal.text
    assert (folder / ".dagster" / "dagster.yaml").exists()
    assert DAGSTER_YAML_WARNING not in output, output[-3000:]
    assert "Loaded environment variables from .env file" not in output, output[-3000:]
    assert not (tmp_path / "not-this-data").exists()


def test_billing_devs_dagster_processes_get_the_settings_paths_absolute(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = Settings.from_env({"BILLING_DATA_DIR": "data", "BILLING_DATABASE_URL": "sqlite:///store/billing.db",
                                  "BILLING_SUPPRESSION_FILE": "suppressed.txt"})

    environment = dev_environment(settings, tmp_path / ".dagster")

    assert environment["DAGSTER_HOME"] == str(tmp_path / ".dagster")
    assert environment["BILLING_DATA_DIR"] == str(tmp_path / "data")
    assert environment["BILLING_DATABASE_URL"] == f"sqlite:///{tmp_path / 'store' / 'billing.db'}"
    assert environment["BILLING_SUPPRESSION_FILE"] == str(tmp_path / "suppressed.txt")
    assert environment["BILLING_INBOX"] == str(tmp_path / "data" / "inbox")
    in_bucket = Settings.from_env({"BILLING_DATA_DIR": "s3://billing/data", "BILLING_DATABASE_URL": "sqlite://"})
    bucket_environment = dev_environment(in_bucket, tmp_path / ".dagster")
    assert (bucket_environment["BILLING_DATA_DIR"], bucket_environment["BILLING_INBOX"],
            bucket_environment["BILLING_SUPPRESSION_FILE"]) == (
        "s3://billing/data", "s3://billing/data/inbox", "s3://billing/data/suppressions.txt")
    production = Settings.from_env({"BILLING_DATABASE_URL": "postgresql+psycopg://billing:s3cret@db:5432/billing"})
    assert dev_environment(production, tmp_path)["BILLING_DATABASE_URL"] == production.database_url
    assert os.environ.get("BILLING_DATABASE_URL") != environment["BILLING_DATABASE_URL"]
