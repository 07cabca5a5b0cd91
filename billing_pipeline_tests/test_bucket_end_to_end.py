"""The real daemon with every runtime folder in a bucket of a real S3-compatible server (SeaweedFS): files put into
the inbox prefix with boto3 become debts, boletos, PDFs, notices and a report, and no run needs a shared disk."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import s3fs
from dagster import DagsterEventType, DagsterRunStatus, RunsFilter
from sqlalchemy import func, select

from billing_pipeline.pdf.documents import count_pdfs
from billing_pipeline.settings import Settings
from billing_pipeline.store.engine import create_store_engine
from billing_pipeline.store.migrate import upgrade
from billing_pipeline.store.outbox import counts as outbox_counts
from billing_pipeline.store.tables import boletos, chunks, debts, source_files
from billing_pipeline_tests.support.files import write_sample_file
from billing_pipeline_tests.support.stacks import DagsterStack

pytestmark = [pytest.mark.daemon, pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)]

DEADLINE_SECONDS = 300
DATA_SUFFIXES = {".csv", ".zip", ".pdf", ".eml", ".parquet"}


@pytest.fixture
def bucket_stack(s3_bucket, database_url, tmp_path: Path, monkeypatch) -> Iterator[DagsterStack]:
    """The daemon on the embedded instance, its runs in a working directory and a HOME that hold nothing, every
    billing folder in the bucket, the store on PostgreSQL."""
    server, bucket = s3_bucket
    for name, value in server.env().items():
        monkeypatch.setenv(name, value)  # this process reads the bucket too, as an operator's shell would
    s3fs.S3FileSystem.clear_instance_cache()
    settings = Settings.from_env({}, data_dir=f"s3://{bucket}/data", database_url=database_url, chunk_rows=400)
    upgrade(engine := create_store_engine(settings.database_url))
    engine.dispose()
    stack = DagsterStack.embedded(tmp_path, settings)
    for folder in ("workdir", "home", "tmp"):
        (tmp_path / folder).mkdir()
    stack.cwd = tmp_path / "workdir"
    stack.env.update(server.env(), HOME=str(tmp_path / "home"), TMPDIR=str(tmp_path / "tmp"))
    stack.start_daemon()
    yield stack
    stack.stop()




def _local_data(root: Path, source: Path) -> list[Path]:
    """Files under `root` that hold the pipeline's data: by their kind, or by a debtor's address in them."""
    addresses = [line.split(",")[2].encode() for line in source.read_text(encoding="utf-8").splitlines()[1:50]]
    found = []
    for path in root.rglob("*"):
        if not path.is_file() or path == source or path.is_relative_to(source.parent / "s3"):
            continue
        if path.suffix in DATA_SUFFIXES or path.stat().st_size < 64 << 20 and any(address in path.read_bytes() for address in addresses):
            found.append(path)
    return found


def test_objects_put_into_the_bucket_inbox_are_billed_with_no_shared_disk(s3_bucket, bucket_stack, tmp_path):
    server, bucket = s3_bucket
    settings, stack = bucket_stack.settings, bucket_stack
    engine = create_store_engine(settings.database_url)
    (tmp_path / "source").mkdir()
    sample = write_sample_file(tmp_path / "source" / "debts.csv", rows=1_000, seed=21, invalid_rate=0.02)
    body = sample.path.read_bytes()
    client = server.client()
    client.put_object(Bucket=bucket, Key="data/inbox/debts.csv", Body=body)
    client.put_object(Bucket=bucket, Key="data/inbox/debts.csv.part", Body=b"name,")  # an upload in progress

    def file_row():
        with engine.connect() as connection:
            return connection.execute(select(source_files)).mappings().one_or_none()

    stack.wait_for(lambda: (row := file_row()) is not None and row["reported_at"] is not None, "the file report",
                   timeout=DEADLINE_SECONDS, every=1)
    instance = stack.instance
    stack.wait_for(lambda: all(r.status == DagsterRunStatus.SUCCESS for r in instance.get_runs()), "runs to end",
                   timeout=60)
    row = file_row()
    file_id = row["file_id"]
    keys = [f"{file_id[:12]}-{n:04d}" for n in range(3)]
    with engine.connect() as connection:
        stored = connection.execute(select(func.count()).select_from(debts)).scalar_one()
        billed = connection.execute(select(func.count()).select_from(boletos)).scalar_one()
    # The numbers the folder test asserts for this very sample (test_daemon_end_to_end.py).
    assert stored == billed == sample.accepted
    assert (row["rows"], row["accepted"], row["rejected"], row["duplicates"]) == (1_000, stored, sample.rejected, 0)
    assert count_pdfs(settings.boleto_archive_path(key) for key in keys) == stored
    assert outbox_counts(engine, file_id=file_id)["sent"] == stored
    assert len([k for k in server.keys(bucket, "data/outbox/") if k.endswith(".eml")]) == stored
    assert server.object_bytes(bucket, f"data/archive/{file_id}.csv") == body
    assert server.keys(bucket, "data/rejects/") == [f"data/rejects/{file_id}.csv"]
    report = json.loads(server.object_bytes(bucket, f"data/reports/{file_id}.json"))
    assert (report["rows"], report["accepted"], report["notifications"]["sent"]) == (1_000, stored, stored)
    assert server.keys(bucket, "data/staging/") == []  # the frames handed between steps, removed once reported
    assert server.keys(bucket, "data/inbox/") == ["data/inbox/debts.csv.part"]

    # Metadata names the objects by their URL.
    [materialization] = [e.asset_materialization for e in instance.get_latest_materialization_events(
        [_source_file_key()]).values() if e]
    assert materialization.metadata["archive"].value == f"s3://{bucket}/data/archive/{file_id}.csv"

    stack.stop()  # the daemon, its code server and run workers have written all they will
    assert [path for folder in ("workdir", "home", "tmp") for path in (tmp_path / folder).rglob("*")] == []
    assert _local_data(tmp_path, sample.path) == []
    engine.dispose()


def _source_file_key():
    from billing_pipeline.defs.ingest.assets import source_file

    return source_file.key


def test_the_object_store_stopped_mid_run_is_retried_and_the_numbers_are_exact(s3_bucket, bucket_stack, tmp_path):
    server, bucket = s3_bucket
    settings, stack = bucket_stack.settings, bucket_stack
    engine = create_store_engine(settings.database_url)
    sample = write_sample_file(tmp_path / "debts.csv", rows=2_400, seed=5, invalid_rate=0.01)
    server.client().put_object(Bucket=bucket, Key="data/inbox/debts.csv", Body=sample.path.read_bytes())

    def loaded_chunks() -> int:
        with engine.connect() as connection:
            return connection.execute(select(func.count()).select_from(chunks).where(
                chunks.c.status == "loaded")).scalar_one()

    stack.wait_for(lambda: loaded_chunks() >= 1, "a first chunk to be stored", timeout=DEADLINE_SECONDS, every=0.2)
    server.stop()
    # Longer than s3fs's own retries of a refused connection (5 tries, 4-13 s): the other chunks' steps fail, and
    # their retry policy (1, 2, 4, 8, 16 s) carries them over the outage.
    time.sleep(25)
    server.start()

    def file_row():
        with engine.connect() as connection:
            return connection.execute(select(source_files)).mappings().one()

    stack.wait_for(lambda: file_row()["reported_at"] is not None, "the file report", timeout=DEADLINE_SECONDS,
                   every=1)
    row = file_row()
    file_id = row["file_id"]
    instance = stack.instance
    retried = [record for run in instance.get_runs()
               for record in instance.all_logs(run.run_id, of_type=DagsterEventType.STEP_UP_FOR_RETRY)]
    assert retried, "no step met the stopped store"
    assert not instance.get_runs(RunsFilter(statuses=[DagsterRunStatus.FAILURE]))
    with engine.connect() as connection:
        stored = connection.execute(select(func.count()).select_from(debts)).scalar_one()
    assert stored == row["accepted"] == sample.accepted and row["rejected"] == sample.rejected
    assert outbox_counts(engine, file_id=file_id)["sent"] == stored
    assert len([k for k in server.keys(bucket, "data/outbox/") if k.endswith(".eml")]) == stored
    report = json.loads(server.object_bytes(bucket, f"data/reports/{file_id}.json"))
    assert (report["rows"], report["accepted"], report["notifications"]["sent"]) == (2_400, stored, stored)
    assert os.environ["AWS_ENDPOINT_URL"] == server.endpoint
    engine.dispose()
