"""Following one file through the UI, as an operator does, through the webserver's GraphQL API (the UI's own):
the runs tagged with the file, per-chunk check results that name their chunk, the rejects report in metadata, the
record of a re-drop, and a file rejected whole shown as an outcome, with no failure run and no stack trace. And
`billing process` on the store the daemon uses: the daemon launches nothing for its file."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from dagster import DagsterRunStatus, RunsFilter
from dagster._core.definitions.run_request import InstigatorType  # not exported by dagster 1.13
from sqlalchemy import select

from billing_pipeline.ingest.inbox import submit
from billing_pipeline.settings import Settings
from billing_pipeline.store.engine import create_store_engine
from billing_pipeline.store.migrate import upgrade
from billing_pipeline.store.tables import source_files
from billing_pipeline_tests.support.cli import run_billing
from billing_pipeline_tests.support.files import write_sample_file
from billing_pipeline_tests.support.stacks import DagsterStack

pytestmark = pytest.mark.daemon

DEADLINE_SECONDS = 240

RUNS_OF_FILE = """
query ($fileId: String!) {
  runsOrError(filter: {tags: [{key: "billing/file_id", value: $fileId}]}) {
    ... on Runs { results { runId jobName status tags { key value } } }
  }
}"""

CHECK_EXECUTIONS = """
query ($asset: [String!]!, $check: String!) {
  assetCheckExecutions(assetKey: {path: $asset}, checkName: $check, limit: 50) {
    status
    evaluation { partition success description metadataEntries { label ... on TextMetadataEntry { text } } }
  }
}"""

ENTRY = """metadataEntries { label __typename
  ... on PathMetadataEntry { path } ... on TextMetadataEntry { text } ... on MarkdownMetadataEntry { mdStr }
  ... on JsonMetadataEntry { jsonString } }"""

MATERIALIZATIONS = f"""
query ($asset: [String!]!, $partition: String!) {{
  assetOrError(assetKey: {{path: $asset}}) {{
    ... on Asset {{ assetMaterializations(partitions: [$partition]) {{ partition {ENTRY} }} }}
  }}
}}"""

OBSERVATIONS = f"""
query ($partition: String!) {{
  assetOrError(assetKey: {{path: ["source_file"]}}) {{
    ... on Asset {{ assetObservations(partitions: [$partition]) {{ partition description {ENTRY} }} }}
  }}
}}"""

RUN_EVENTS = """
query ($runId: ID!) {
  logsForRun(runId: $runId) {
    ... on EventConnection { events { __typename ... on MessageEvent { message }
      ... on ExecutionStepFailureEvent { error { message stack } } } }
  }
}"""


def _entries(record: dict) -> dict[str, str]:
    return {entry["label"]: entry.get("path") or entry.get("text") or entry.get("mdStr") or entry.get("jsonString")
            or "" for entry in record["metadataEntries"]}


@pytest.fixture
def stack(postgres, tmp_path: Path) -> Iterator[DagsterStack]:
    """Daemon and webserver on the instance file `billing dev` starts with; the store on PostgreSQL."""
    settings = Settings.from_env({}, data_dir=tmp_path / "data", database_url=postgres.create_database(),
                                 chunk_rows=400)
    settings.ensure_dirs()
    engine = create_store_engine(settings.database_url)
    upgrade(engine)  # as `billing dev` does before starting Dagster
    engine.dispose()
    stack = DagsterStack.embedded(tmp_path, settings)
    stack.start_webserver()  # first: it creates the instance's tables, which the daemon would race it for
    stack.start_daemon()
    yield stack
    stack.stop()


def test_a_file_its_redrop_and_a_file_rejected_whole_can_be_followed_in_the_ui(stack, tmp_path):
    settings = stack.settings
    engine = create_store_engine(settings.database_url)

    def wait_for(condition, what: str):
        return stack.wait_for(condition, what, timeout=DEADLINE_SECONDS, every=1)

    sample = write_sample_file(tmp_path / "debts-march.csv", rows=700, seed=31, invalid_rate=0.05)
    submit(sample.path, settings.inbox_dir)
    wait_for(settings.report_path(sample.file_id).exists, "the file's report")

    redrop = tmp_path / "debts-march-again.csv"
    shutil.copyfile(sample.path, redrop)
    submit(redrop, settings.inbox_dir)
    rejected = tmp_path / "semicolons.csv"
    rejected.write_text("name;governmentId;email;debtAmount;debtDueDate;debtId\n"
                        + "".join(f"Ana {n};1;a@example.com;1.00;2026-12-01;x\n" for n in range(50)))
    submit(rejected, settings.inbox_dir)
    with engine.connect() as connection:
        def rejected_id() -> str | None:
            return connection.execute(select(source_files.c.file_id).where(
                source_files.c.original_name == "semicolons.csv")).scalar()
        rejected_id_ = wait_for(rejected_id, "the rejected file to be registered").strip()
    wait_for(settings.report_path(rejected_id_).exists, "the rejected file's report")
    wait_for(lambda: all(r.status == DagsterRunStatus.SUCCESS for r in stack.instance.get_runs()), "runs to end")

    # Every run of the file carries it: split, chunks, deliveries and report.
    runs = stack.graphql(RUNS_OF_FILE, {"fileId": sample.file_id})["runsOrError"]["results"]
    chunk_keys = [f"{sample.file_id[:12]}-{n:04d}" for n in range(2)]
    assert sorted(run["jobName"] for run in runs) == sorted(
        ["ingest_file", "process_chunk", "process_chunk", "deliver_chunk", "deliver_chunk", "report_file"])
    for run in runs:
        tags = {tag["key"]: tag["value"] for tag in run["tags"]}
        assert tags["billing/original_name"] == "debts-march.csv"
        assert run["status"] == "SUCCESS"
        if run["jobName"] in ("process_chunk", "deliver_chunk"):
            assert tags["billing/chunk"] == tags["dagster/partition"] in chunk_keys

    # Check results are per chunk partition, and name their chunk and file.
    executions = stack.graphql(CHECK_EXECUTIONS, {"asset": ["debts"], "check": "row_accounting_holds"})
    evaluations = [e["evaluation"] for e in executions["assetCheckExecutions"]]
    assert sorted(e["partition"] for e in evaluations) == chunk_keys
    for evaluation in evaluations:
        named = _entries(evaluation)
        assert (named["chunk"], named["file_id"], named["original_name"]) == (
            evaluation["partition"], sample.file_id, "debts-march.csv")
        assert evaluation["success"]

    # The chunk's materialization names its file and links the rejects report, with its first rejected rows.
    [chunk] = stack.graphql(MATERIALIZATIONS, {"asset": ["validated_chunk"], "partition": chunk_keys[0]})[
        "assetOrError"]["assetMaterializations"]
    shown = _entries(chunk)
    assert shown["rejects_report"] == str(settings.rejects_path(sample.file_id))
    assert Path(shown["rejects_report"]).exists()
    assert shown["original_name"] == "debts-march.csv"
    in_report = pd.read_csv(shown["rejects_report"]).sort_values(["line_number", "column", "code"], na_position="first")
    first = in_report[in_report["line_number"] <= 401].iloc[0]  # the chunk's lines are 2-401
    preview = json.loads(shown["rejected"])
    [(first_line, first_rejects), *_] = sorted(preview.items())  # as the UI shows them
    assert int(first_line.removeprefix("line ")) == first.line_number
    assert first_rejects.startswith(first.code)
    assert preview["more"].endswith("more lines: rejects_report")
    frame = settings.staging_dir / "validated_chunk" / f"{chunk_keys[0]}.parquet"
    assert shown["path"].startswith(f"{frame} (staging; removed once")
    [report] = stack.graphql(MATERIALIZATIONS, {"asset": ["file_report"], "partition": sample.file_id})[
        "assetOrError"]["assetMaterializations"]
    assert _entries(report)["rejects_report"] == str(settings.rejects_path(sample.file_id))
    assert all(key in _entries(report)["chunk_partitions"] for key in chunk_keys)

    # The re-drop is on record on the first file's partition, and started nothing.
    [observation] = stack.graphql(OBSERVATIONS, {"partition": sample.file_id})["assetOrError"]["assetObservations"]
    seen = _entries(observation)
    assert (seen["received_again_as"], seen["first_received_as"]) == ("debts-march-again.csv", "debts-march.csv")
    assert "nothing new to do" in observation["description"]
    assert len(runs) == 6

    # The file rejected whole: an outcome with its code, message and rejects report; no failure, no stack trace.
    rejected_runs = stack.graphql(RUNS_OF_FILE, {"fileId": rejected_id_})["runsOrError"]["results"]
    assert sorted((run["jobName"], run["status"]) for run in rejected_runs) == [
        ("ingest_file", "SUCCESS"), ("report_file", "SUCCESS")]
    assert stack.instance.get_runs(RunsFilter(statuses=[DagsterRunStatus.FAILURE])) == []
    for run in rejected_runs:
        events = stack.graphql(RUN_EVENTS, {"runId": run["runId"]})["logsForRun"]["events"]
        assert not [e for e in events if e["__typename"] == "ExecutionStepFailureEvent"]
        assert events and not any("Traceback" in (e.get("message") or "") for e in events)
    [split] = stack.graphql(MATERIALIZATIONS, {"asset": ["source_file"], "partition": rejected_id_})[
        "assetOrError"]["assetMaterializations"]
    outcome = _entries(split)
    assert outcome["code"] == "MISSING_COLUMNS"
    assert "comma-separated" in outcome["message"]
    assert outcome["rejects_report"] == str(settings.rejects_path(rejected_id_))
    [accepted_check] = stack.graphql(CHECK_EXECUTIONS, {"asset": ["source_file"], "check": "file_accepted"})[
        "assetCheckExecutions"][:1]
    assert accepted_check["evaluation"]["partition"] == rejected_id_
    assert not accepted_check["evaluation"]["success"]
    assert accepted_check["evaluation"]["description"].startswith("rejected: MISSING_COLUMNS")
    engine.dispose()


def test_a_file_given_to_billing_process_gets_no_run_from_the_daemon_on_the_same_store(stack, tmp_path):
    settings = stack.settings
    sample = write_sample_file(tmp_path / "by-hand.csv", rows=500, seed=32, invalid_rate=0.02)
    bad = tmp_path / "bad-by-hand.csv"
    bad.write_text("name;governmentId\nAna;1\n")

    summary = run_billing("process", sample.path, env=stack.env).json
    assert summary["status"] == "processed"
    assert run_billing("process", bad, env=stack.env, check=False).status == 2
    finished = time.time()
    # Every sensor that could take the files up ticks a few times (every ~5 s) after both were finished.
    stack.wait_for(lambda: _fewest_ticks_after(stack, finished) >= 3, "three ticks of every sensor", timeout=120,
                   every=2)

    assert stack.instance.get_runs() == []
    assert not any(settings.inbox_dir.iterdir())
    assert sample.path.exists()  # `billing process` leaves the given file where it was


def _fewest_ticks_after(stack: DagsterStack, moment: float) -> int:
    states = stack.instance.all_instigator_state(instigator_type=InstigatorType.SENSOR)
    names = {"inbox_sensor", "chunk_sensor", "delivery_sensor", "file_report_sensor"}
    counts = [len(stack.instance.get_ticks(state.instigator_origin_id, state.selector_id, after=moment))
              for state in states if state.instigator_name in names]
    return min(counts) if len(counts) == len(names) else 0
