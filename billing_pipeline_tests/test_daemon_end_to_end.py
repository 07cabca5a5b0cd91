"""The real thing: dagster-daemon with a temporary DAGSTER_HOME, an inbox, PostgreSQL as the store."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from dagster import DagsterRunStatus, RunsFilter
from sqlalchemy import func, select

from billing_pipeline.ingest.inbox import submit
from billing_pipeline.pdf.documents import count_pdfs
from billing_pipeline.settings import Settings
from billing_pipeline.store.engine import create_store_engine
from billing_pipeline.store.migrate import upgrade
from billing_pipeline.store.outbox import counts as outbox_counts
from billing_pipeline.store.tables import boletos, debts, source_files
from billing_pipeline_tests.support.files import write_sample_file
from billing_pipeline_tests.support.stacks import DagsterStack

pytestmark = pytest.mark.daemon

DEADLINE_SECONDS = 240


@pytest.fixture
def stack(postgres, tmp_path: Path) -> Iterator[DagsterStack]:
    """The daemon on the instance file `billing dev` starts with; the store on PostgreSQL."""
    settings = Settings.from_env({}, data_dir=tmp_path / "data", database_url=postgres.create_database(),
                                 chunk_rows=400)
    settings.ensure_dirs()
    stack = DagsterStack.embedded(tmp_path, settings)
    stack.start_daemon()
    yield stack
    stack.stop()


def test_dropped_file_is_stored_billed_and_notified_and_a_redrop_creates_no_run(stack, tmp_path):
    settings = stack.settings

    def wait_for(condition, what: str) -> None:
        stack.wait_for(condition, what, timeout=DEADLINE_SECONDS, every=1)

    engine = create_store_engine(settings.database_url)
    upgrade(engine)  # as `billing dev` does before starting Dagster
    sample = write_sample_file(tmp_path / "debts.csv", rows=1_000, seed=21, invalid_rate=0.02)
    source = sample.path

    submit(source, settings.inbox_dir)

    def file_status() -> str | None:
        with engine.connect() as connection:
            return connection.execute(select(source_files.c.status)).scalar()

    wait_for(lambda: file_status() == "processed", "the file to be processed")

    instance = stack.instance

    def chunk_runs() -> list:
        return instance.get_runs(RunsFilter(job_name="process_chunk"))

    wait_for(lambda: all(r.status == DagsterRunStatus.SUCCESS for r in chunk_runs()), "chunk runs to end")
    with engine.connect() as connection:
        stored = connection.execute(select(func.count()).select_from(debts)).scalar_one()
        row = connection.execute(select(source_files)).mappings().one()
    file_runs = instance.get_runs(RunsFilter(job_name="ingest_file"))
    assert [(r.tags["dagster/partition"], r.status) for r in file_runs] == [
        (row["file_id"], DagsterRunStatus.SUCCESS)]
    assert sorted(r.tags["dagster/partition"] for r in chunk_runs()) == [
        f"{row['file_id'][:12]}-{n:04d}" for n in range(3)
    ]
    assert stored == sample.accepted
    assert (row["rows"], row["accepted"], row["rejected"], row["duplicates"]) == (1_000, stored, sample.rejected, 0)
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(boletos)).scalar_one() == stored
    chunk_keys = [f"{row['file_id'][:12]}-{n:04d}" for n in range(3)]
    report_path = settings.reports_dir / f"{row['file_id']}.json"
    wait_for(report_path.exists, "the file report")  # written once every notice is settled
    deliveries = instance.get_runs(RunsFilter(job_name="deliver_chunk"))
    assert sorted((r.tags["dagster/partition"], r.status) for r in deliveries) == [
        (key, DagsterRunStatus.SUCCESS) for key in chunk_keys]
    assert count_pdfs(settings.boleto_archive_path(key) for key in chunk_keys) == stored
    assert outbox_counts(engine, file_id=row["file_id"])["sent"] == stored
    assert len(list(settings.outbox_dir.glob("*.eml"))) == stored
    assert (settings.archive_dir / f"{row['file_id']}.csv").read_bytes() == source.read_bytes()
    assert (settings.rejects_dir / f"{row['file_id']}.csv").exists()

    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert (report["rows"], report["accepted"], report["notifications"]["sent"]) == (1_000, stored, stored)
    wait_for(lambda: all(r.status == DagsterRunStatus.SUCCESS for r in instance.get_runs()), "runs to end")
    frames = settings.staging_dir / "validated_chunk"
    assert frames.is_dir() and list(frames.iterdir()) == []  # written there by the chunk runs, then cleaned
    with engine.connect() as connection:
        assert connection.execute(select(source_files.c.reported_at)).scalar_one() is not None

    runs_before = len(instance.get_runs())
    redrop = tmp_path / "same-bytes-other-name.csv"
    shutil.copyfile(source, redrop)
    submit(redrop, settings.inbox_dir)
    wait_for(lambda: not any(settings.inbox_dir.iterdir()), "the sensor to take the re-dropped file")
    time.sleep(5)  # several more sensor ticks: nothing may start

    assert len(instance.get_runs()) == runs_before
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(source_files)).scalar_one() == 1
        assert connection.execute(select(func.count()).select_from(debts)).scalar_one() == stored
    engine.dispose()
