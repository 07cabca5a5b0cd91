"""GET /metrics (billing_pipeline/api/metrics.py, stages/observe.py, store/observed.py, instance/run_counts.py):
what it reports equals what the store, the inbox and the Dagster instance hold, in an exposition promtool accepts,
scraped by a real Prometheus from a real uvicorn; a store that is down is a value; the metrics token is enforced."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import dagster as dg
import pytest
import yaml
from dagster._core.storage.dagster_run import DagsterRun, DagsterRunStatus, RunsFilter
from dagster._core.utils import make_new_run_id
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from billing_pipeline import stages
from billing_pipeline.api.app import create_app
from billing_pipeline.ingest.inbox import submit
from billing_pipeline.instance import run_counts
from billing_pipeline.rejects import RejectCode
from billing_pipeline.settings import Settings
from billing_pipeline.statuses import FileStatus, NoticeStatus
from billing_pipeline_tests.support.files import SampleFile, store_sample, write_sample_file
from billing_pipeline_tests.support.ports import free_port, listening
from billing_pipeline_tests.support.processes import child_environment, start_logged, stop_process_group
from billing_pipeline_tests.support.prometheus import (  # noqa: F401 - prometheus_tools: a fixture
    PrometheusServer,
    check_metrics,
    prometheus_tools,
)
from billing_pipeline_tests.support.waiting import wait_for

CHUNK_ROWS = 300
BAD_HEADER = "name;governmentId;email\nAna;52998224725;ana@example.com\nBia;11144477735;bia@example.com\n"


# --- helpers ---------------------------------------------------------------------------------------------------


def samples(exposition: str) -> dict[tuple[str, frozenset], float]:
    """Every sample of an exposition text by (name, its labels)."""
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(exposition) for sample in family.samples}


def by_label(found: dict[tuple[str, frozenset], float], name: str, label: str) -> dict[str, float]:
    return {dict(labels)[label]: value for (sample, labels), value in found.items() if sample == name}


def deliver_and_report(settings: Settings, engine, stored) -> None:
    for key in stored.chunk_keys:
        stages.notify_stage(engine, settings, chunk_key=key)  # the default file outbox: every notice sent
    assert stages.report_stage(engine, settings, stored.file_id).final


def registered(settings: Settings, engine, path: Path) -> str:
    return stages.register_stage(engine, settings, submit(path, settings.inbox_dir)).file_id


def files_in_every_state(settings: Settings, engine, tmp_path: Path) -> dict[str, str | SampleFile]:
    """A file processed to the end (3 chunks, deliberate errors under several codes), one rejected whole, one split with a single
    chunk validated, one registered only, and one waiting in the inbox (2 minutes old)."""
    processed = write_sample_file(tmp_path / "processed.csv", rows=900, seed=41, invalid_rate=0.03)
    deliver_and_report(settings, engine, store_sample(engine, settings, processed, through="boleto_pdfs"))

    bad = tmp_path / "bad.csv"
    bad.write_text(BAD_HEADER, encoding="utf-8")
    rejected = registered(settings, engine, bad)
    assert stages.split_stage(engine, settings, rejected).rejected is not None
    assert stages.report_stage(engine, settings, rejected).final

    in_progress = write_sample_file(tmp_path / "in-progress.csv", rows=400, seed=7, invalid_rate=0.05)
    splitting = registered(settings, engine, in_progress.path)
    first_chunk = stages.split_stage(engine, settings, splitting).chunk_keys[0]
    stages.validate_stage(engine, settings, first_chunk)

    only_registered = registered(settings, engine, write_sample_file(tmp_path / "new.csv", rows=20, seed=3).path)

    waiting = submit(write_sample_file(tmp_path / "waiting.csv", rows=10, seed=5).path, settings.inbox_dir)
    two_minutes_ago = time.time() - 120
    os.utime(waiting, (two_minutes_ago, two_minutes_ago))
    return {"processed": processed, "rejected": rejected, "in_progress": splitting, "registered": only_registered}


# --- what /metrics says equals what the store says ---------------------------------------------------------------


def test_metrics_report_what_the_store_and_the_inbox_hold(settings, engine, tmp_path, monkeypatch):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    settings = settings.replace(chunk_rows=CHUNK_ROWS)
    files = files_in_every_state(settings, engine, tmp_path)
    processed = files["processed"]
    assert isinstance(processed, SampleFile)

    with TestClient(create_app(settings), base_url="http://localhost") as client:
        response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    found = samples(response.text)

    # Files by status: each of the four, as `billing files` lists them.
    listed = stages.list_files(engine)
    assert by_label(found, "billing_files", "status") == {
        status.value: float(sum(1 for f in listed if f.status == status)) for status in FileStatus}
    assert by_label(found, "billing_files", "status") == {"registered": 1, "split": 1, "processed": 1, "rejected": 1}

    # Rows: the finished files' roll-up, plus the validated chunk of the file in progress.
    view = {name: stages.file_view(engine, settings, files[name] if name != "processed" else processed.file_id)
            for name in ("processed", "rejected", "in_progress", "registered")}
    done, whole = view["processed"].detail.summary, view["rejected"].detail.summary
    assert (done.accepted, done.rejected) == (processed.accepted, processed.rejected)  # the deliberate errors
    [validated, pending] = view["in_progress"].detail.chunks
    assert validated.rejected > 0 and pending.rejected is None
    assert by_label(found, "billing_rows_total", "outcome") == {
        "accepted": done.accepted + whole.accepted,
        "rejected": done.rejected + whole.rejected + validated.rejected,
        "duplicate": done.duplicates + whole.duplicates + validated.duplicates,
    }

    # Rejected lines by code, as each file's detail counts them (a file rejected whole: all its rows under its code).
    expected_codes: Counter[str] = Counter({code.value: 0 for code in RejectCode})
    for name in ("processed", "rejected", "in_progress"):
        expected_codes.update(view[name].detail.reject_codes)
    assert by_label(found, "billing_rejects_total", "code") == dict(expected_codes)
    assert expected_codes[RejectCode.MISSING_COLUMNS] == whole.rows == 2

    # Boletos and notices: every accepted debt of the processed file has one, and its notice was sent.
    assert found[("billing_boletos_total", frozenset())] == stages.file_boleto_count(engine, processed.file_id) \
        == processed.accepted
    assert by_label(found, "billing_notices", "state") == stages.notice_counts(engine)
    assert by_label(found, "billing_notices", "state")[NoticeStatus.SENT] == processed.accepted

    # The histogram: the two reported files, each in the buckets at and above its duration.
    buckets = by_label(found, "billing_file_processing_seconds_bucket", "le")
    assert found[("billing_file_processing_seconds_count", frozenset())] == buckets["+Inf"] == 2
    assert list(buckets.values()) == sorted(buckets.values())
    assert found[("billing_file_processing_seconds_sum", frozenset())] >= 0

    # The worst chunk reject rate of the last hour: the four validated chunks, against the threshold.
    chunks = [*view["processed"].detail.chunks, validated]
    assert found[("billing_chunk_reject_ratio_max", frozenset())] == pytest.approx(
        max(chunk.rejected / chunk.rows for chunk in chunks))
    assert found[("billing_chunks_recent", frozenset())] == 4
    assert found[("billing_reject_ratio_threshold", frozenset())] == settings.max_reject_rate

    # The inbox: the one file waiting, two minutes old.
    assert found[("billing_inbox_files", frozenset())] == 1
    assert 120 <= found[("billing_inbox_oldest_file_age_seconds", frozenset())] < 24 * 3600

    # Every source up but Dagster, which has no DAGSTER_HOME here: its runs are left out.
    assert found[("billing_store_up", frozenset())] == found[("billing_inbox_up", frozenset())] == 1
    assert found[("billing_dagster_instance_up", frozenset())] == 0
    assert not by_label(found, "billing_dagster_runs", "status")


@pytest.mark.usefixtures("prometheus_tools")
def test_the_exposition_passes_promtool(settings, engine, tmp_path):
    settings = settings.replace(chunk_rows=CHUNK_ROWS)
    files_in_every_state(settings, engine, tmp_path)
    with TestClient(create_app(settings), base_url="http://localhost") as client:
        exposition = client.get("/metrics").text

    assert check_metrics(exposition) == []
    names = {family.name for family in text_string_to_metric_families(exposition)}
    assert {"billing_files", "billing_rows", "billing_rejects", "billing_boletos", "billing_notices",
            "billing_file_processing_seconds", "billing_inbox_files", "billing_inbox_oldest_file_age_seconds",
            "billing_chunk_reject_ratio_max", "billing_reject_ratio_threshold", "billing_store_up",
            "billing_dagster_instance_up"} <= names
    assert "# TYPE billing_rows_total counter" in exposition
    assert "# TYPE billing_file_processing_seconds histogram" in exposition


def test_an_empty_store_reports_every_status_at_zero(settings, engine):
    snapshot = stages.metrics_snapshot(engine, settings)

    assert snapshot.store is not None
    assert snapshot.store.files == dict.fromkeys(FileStatus, 0)
    assert snapshot.store.notices == dict.fromkeys(NoticeStatus, 0)
    assert snapshot.store.rows == {"accepted": 0, "rejected": 0, "duplicate": 0}
    assert snapshot.store.reject_codes == dict.fromkeys(RejectCode, 0)
    assert (snapshot.store.boletos, snapshot.store.processing.count, snapshot.store.chunk_reject_rate_max) == (0, 0, 0)
    assert (snapshot.inbox.files, snapshot.inbox.oldest_age_seconds) == (0, 0)


# --- a store that is down, and the token -------------------------------------------------------------------------


def test_a_store_that_does_not_answer_is_store_up_0_not_an_error(tmp_path, monkeypatch):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    nothing_listens = free_port()
    settings = Settings.from_env({}, data_dir=tmp_path / "data",
                                 database_url=f"postgresql+psycopg://billing@127.0.0.1:{nothing_listens}/billing")
    settings.ensure_dirs()

    with TestClient(create_app(settings), base_url="http://localhost") as client:
        response = client.get("/metrics")

    assert response.status_code == 200
    found = samples(response.text)
    assert found[("billing_store_up", frozenset())] == 0
    assert not by_label(found, "billing_files", "status")  # left out, rather than zeros that look like a reset
    assert ("billing_boletos_total", frozenset()) not in found
    assert found[("billing_inbox_up", frozenset())] == 1  # the inbox is still read
    assert found[("billing_reject_ratio_threshold", frozenset())] == settings.max_reject_rate


def test_metrics_need_the_metrics_token_when_one_is_set(tmp_path):
    settings = Settings.from_env({}, data_dir=tmp_path / "data", api_metrics_token="scrape-me-0123456789")
    settings.ensure_dirs()

    with TestClient(create_app(settings), base_url="http://localhost") as client:
        missing = client.get("/metrics")
        wrong = client.get("/metrics", headers={"Authorization": "Bearer scrape-me-wrong"})
        api_token = client.get("/metrics", headers={"Authorization": "Basic c2NyYXBlLW1lLTAxMjM0NTY3ODk="})
        right = client.get("/metrics", headers={"Authorization": "Bearer scrape-me-0123456789"})

    for refused in (missing, wrong, api_token):
        assert refused.status_code == 401
        assert refused.json()["error"] == "unauthorized" and refused.json()["message"]
        assert "billing_" not in refused.text
    assert right.status_code == 200
    assert samples(right.text)[("billing_store_up", frozenset())] == 1


def test_metrics_are_open_without_a_metrics_token(tmp_path):
    settings = Settings.from_env({}, data_dir=tmp_path / "data", api_tokens="an-api-token-for-the-other-routes")
    settings.ensure_dirs()

    with TestClient(create_app(settings), base_url="http://localhost") as client:
        assert client.get("/metrics").status_code == 200


# --- Dagster runs ------------------------------------------------------------------------------------------------


RUNS = {("ingest_file", DagsterRunStatus.SUCCESS): 2, ("process_chunk", DagsterRunStatus.SUCCESS): 3,
        ("process_chunk", DagsterRunStatus.FAILURE): 1, ("deliver_chunk", DagsterRunStatus.CANCELED): 2}


def dagster_home(tmp_path: Path, run_storage: str, request: pytest.FixtureRequest) -> Path:
    """A DAGSTER_HOME on SQLite (no dagster.yaml: Dagster's default) or on PostgreSQL (our pooled storage)."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    if run_storage == "postgresql":
        url = request.getfixturevalue("postgres").create_database("dagster_test")
        config = {"module": "billing_pipeline.instance.pooled_postgres_storage", "class": "PooledPostgresStorage",
                  "config": {"postgres_url": url.replace("postgresql+psycopg://", "postgresql+psycopg2://")}}
        (home / "dagster.yaml").write_text(yaml.safe_dump({"storage": {"custom": config}}), encoding="utf-8")
    return home


def add_runs(instance: dg.DagsterInstance) -> None:
    for (job, status), count in RUNS.items():
        for _ in range(count):
            instance.add_run(DagsterRun(job_name=job, run_id=make_new_run_id(), status=status))


@pytest.mark.parametrize("run_storage", ["sqlite", "postgresql"])
def test_dagster_runs_are_counted_by_job_and_status_from_the_run_storage(run_storage, tmp_path, monkeypatch,
                                                                         request):
    monkeypatch.setenv("DAGSTER_HOME", str(dagster_home(tmp_path, run_storage, request)))
    with dg.DagsterInstance.get() as instance:
        assert run_counts._sql_storage(instance.run_storage) is not None  # the GROUP BY, not run by run
        add_runs(instance)
        expected = {(job, status.value): instance.get_runs_count(RunsFilter(job_name=job, statuses=[status]))
                    for job in {job for job, _ in RUNS} for status in DagsterRunStatus}
    settings = Settings.from_env({}, data_dir=tmp_path / "data")
    settings.ensure_dirs()

    with TestClient(create_app(settings), base_url="http://localhost") as client:
        found = samples(client.get("/metrics").text)

    assert found[("billing_dagster_instance_up", frozenset())] == 1
    runs = {(dict(labels)["job"], dict(labels)["status"]): value
            for (name, labels), value in found.items() if name == "billing_dagster_runs"}
    assert runs == expected
    assert {key: count for key, count in runs.items() if count} == {(job, s.value): n for (job, s), n in RUNS.items()}


def test_an_ephemeral_instance_is_counted_run_by_run():
    with dg.DagsterInstance.ephemeral() as instance:
        add_runs(instance)
        counted = run_counts.run_counts(instance)

    assert {(job, status): n for job, statuses in counted.items() for status, n in statuses.items() if n} == \
        {(job, s.value): n for (job, s), n in RUNS.items()}
    assert all(set(statuses) == {s.value for s in DagsterRunStatus} for statuses in counted.values())


def test_a_dagster_home_that_cannot_be_used_is_instance_up_0(tmp_path, monkeypatch):
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("storage: [this is not a storage]\n", encoding="utf-8")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    settings = Settings.from_env({}, data_dir=tmp_path / "data")
    settings.ensure_dirs()

    with TestClient(create_app(settings), base_url="http://localhost") as client:
        response = client.get("/metrics")

    assert response.status_code == 200
    found = samples(response.text)
    assert found[("billing_dagster_instance_up", frozenset())] == 0
    assert found[("billing_store_up", frozenset())] == 1


# --- a real Prometheus scraping a real uvicorn ---------------------------------------------------------------------


def start_api(settings: Settings, tmp_path: Path, **environment: str) -> tuple[subprocess.Popen, int, Path]:
    port = free_port()
    log = tmp_path / "api.log"
    env = child_environment(BILLING_DATA_DIR=str(settings.data_dir), BILLING_DATABASE_URL=settings.database_url,
                            BILLING_CHUNK_ROWS=str(settings.chunk_rows), **environment)
    process = start_logged([sys.executable, "-m", "uvicorn", "--factory", "billing_pipeline.api.app:create_app",
                            "--port", str(port), "--host", "127.0.0.1"], env, Path(__file__).resolve().parents[1], log)
    try:
        wait_for(lambda: process.poll() is not None or listening(port), f"the API on port {port}", timeout=60,
                 every=0.1, log=log)
    except AssertionError:
        stop_process_group(process)
        raise
    assert process.poll() is None, f"the API exited: {log.read_text(errors='replace')[-3000:]}"
    return process, port, log


@pytest.mark.usefixtures("prometheus_tools")
def test_prometheus_scrapes_the_api_and_promql_returns_the_stores_numbers(settings, engine, tmp_path):
    settings = settings.replace(chunk_rows=CHUNK_ROWS)
    # Rejects well above BILLING_MAX_REJECT_RATE (5%): the reject-rate alert's expression holds.
    sample = write_sample_file(tmp_path / "debts.csv", rows=600, seed=11, invalid_rate=0.12)
    stored = store_sample(engine, settings, sample, through="boleto_pdfs")
    deliver_and_report(settings, engine, stored)
    home = tmp_path / "dagster_home"
    home.mkdir()
    with dg.DagsterInstance.from_config(str(home)) as instance:
        add_runs(instance)
    token = "prometheus-scrapes-with-this-token"

    api, port, log = start_api(settings, tmp_path, BILLING_API_METRICS_TOKEN=token, DAGSTER_HOME=str(home))
    try:
        # As deploy/prometheus/prometheus.yml scrapes it: honor_labels keeps billing_dagster_runs' own `job`.
        job = {"job_name": "billing-api", "honor_labels": True, "static_configs": [{"targets": [f"127.0.0.1:{port}"]}],
               "authorization": {"type": "Bearer", "credentials": token}}
        with PrometheusServer(tmp_path / "prometheus", scrape_configs=[job]) as prometheus:
            prometheus.wait_for_target_up("billing-api")
            prometheus.wait_for_query('billing_store_up{job="billing-api"} == 1')

            assert prometheus.value('billing_files{status="processed"}') == 1
            assert prometheus.value('billing_rows_total{outcome="accepted"}') == sample.accepted
            assert prometheus.value('billing_rows_total{outcome="rejected"}') == sample.rejected
            codes = stages.file_view(engine, settings, stored.file_id).detail.reject_codes
            assert {sample["metric"]["code"]: float(sample["value"][1])
                    for sample in prometheus.query("billing_rejects_total > 0")} == codes
            assert prometheus.value("billing_boletos_total") == sample.accepted
            assert prometheus.value('billing_notices{state="sent"}') == sample.accepted
            assert prometheus.value("billing_file_processing_seconds_count") == 1
            assert prometheus.value('billing_file_processing_seconds_bucket{le="+Inf"}') == 1
            assert prometheus.value("histogram_quantile(0.5, billing_file_processing_seconds_bucket)") is not None
            # The alert rule's expression: a chunk of the last hour above the threshold.
            assert prometheus.value("billing_chunk_reject_ratio_max > billing_reject_ratio_threshold") > 0.05
            assert prometheus.value('billing_dagster_runs{job="process_chunk", status="FAILURE"}') == 1
            assert prometheus.value('sum(billing_dagster_runs)') == sum(RUNS.values())
            assert prometheus.value("billing_dagster_instance_up") == 1
    finally:
        stop_process_group(api)
    assert "Traceback" not in log.read_text(errors="replace")
