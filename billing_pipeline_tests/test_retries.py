"""Transient faults are retried with backoff; permanent ones fail the step at once."""

from __future__ import annotations

import smtplib
import sqlite3
import threading
from pathlib import Path

import dagster as dg
import pandas as pd
import pandera.pandas as pa
import pytest
from sqlalchemy import Column, Integer, MetaData, Table, insert
from sqlalchemy.exc import IntegrityError, OperationalError

from billing_pipeline.defs.ingest.assets import debts, validated_chunk
from billing_pipeline.defs.partitions import chunk_partitions
from billing_pipeline.faults import is_transient
from billing_pipeline.runner import process_file
from billing_pipeline.sample import write_sample
from billing_pipeline.settings import Settings
from billing_pipeline.storage.staged_frames import staged_frame
from billing_pipeline.store.engine import create_store_engine
from billing_pipeline_tests.support.in_process import instance_with_partitions, materialize
from billing_pipeline_tests.support.ports import free_port


def error_of(action) -> BaseException:
    try:
        action()
    except BaseException as error:  # noqa: BLE001 - the error is the subject under test
        return error
    raise AssertionError("expected an error")


def test_an_unreachable_database_is_transient():
    engine = create_store_engine(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/none")
    error = error_of(lambda: engine.connect().close())
    assert isinstance(error, OperationalError)
    assert is_transient(error)


def test_a_locked_sqlite_file_is_transient(tmp_path: Path):
    holder = sqlite3.connect(tmp_path / "store.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    waiter = sqlite3.connect(tmp_path / "store.db", timeout=0, isolation_level=None)
    assert is_transient(error_of(lambda: waiter.execute("BEGIN IMMEDIATE")))
    holder.close()
    waiter.close()


def test_data_and_code_errors_are_permanent(tmp_path: Path):
    engine = create_store_engine(f"sqlite:///{tmp_path / 'store.db'}")
    table = Table("t", MetaData(), Column("id", Integer, primary_key=True))
    table.create(engine)
    with engine.begin() as connection:
        connection.execute(insert(table), {"id": 1})

    def insert_twice():
        with engine.begin() as connection:
            connection.execute(insert(table), {"id": 1})

    constraint = error_of(insert_twice)
    assert isinstance(constraint, IntegrityError)
    schema = pa.DataFrameSchema({"amount": pa.Column(int, pa.Check.ge(0))})
    assert not is_transient(constraint)
    with engine.connect() as connection:
        missing_table = error_of(lambda: connection.exec_driver_sql("SELECT * FROM no_such_table"))
    assert isinstance(missing_table, OperationalError)  # SQLAlchemy's class, but the cause is in the code
    assert not is_transient(missing_table)
    assert not is_transient(error_of(lambda: schema.validate(pd.DataFrame({"amount": [-1]}))))
    assert not is_transient(error_of(lambda: (tmp_path / "missing.csv").read_bytes()))
    assert not is_transient(error_of(lambda: int("x")))


def test_smtp_replies_split_on_4xx_versus_5xx():
    assert is_transient(smtplib.SMTPResponseException(451, b"4.7.1 try again later"))
    assert is_transient(smtplib.SMTPServerDisconnected("Connection unexpectedly closed"))
    assert not is_transient(smtplib.SMTPResponseException(550, b"5.1.1 no such user"))


def test_a_transient_cause_makes_the_wrapping_error_transient():
    def wrapped():
        try:
            raise ConnectionResetError(104, "Connection reset by peer")
        except ConnectionResetError as error:
            raise RuntimeError("could not finish the chunk") from error

    assert is_transient(error_of(wrapped))


def materialize_chunk_step(asset, settings: Settings, chunk_key: str, instance: dg.DagsterInstance):
    return materialize([asset], settings, chunk_key, instance, raise_on_error=False)


def events_of(result, event_type: dg.DagsterEventType) -> list[dg.DagsterEvent]:
    return [event for event in result.all_events if event.event_type == event_type]


def split_file(tmp_path: Path, database_url: str) -> tuple[Settings, str, dg.DagsterInstance]:
    settings = Settings.from_env({}, data_dir=tmp_path / "data", database_url=database_url, chunk_rows=200)
    source = tmp_path / "debts.csv"
    write_sample(source, rows=200, seed=8)
    summary = process_file(source, settings, until="source_file")
    return settings, summary.file_id, instance_with_partitions(chunk_partitions, summary.chunk_keys)


def test_a_permanent_error_fails_the_step_once_without_retries(tmp_path: Path):
    settings, file_id, instance = split_file(tmp_path, f"sqlite:///{tmp_path / 'billing.db'}")
    settings.archive_path(file_id).unlink()  # the chunk's bytes are gone: no retry can bring them back

    result = materialize_chunk_step(validated_chunk, settings, f"{file_id[:12]}-0000", instance)

    assert not result.success
    assert events_of(result, dg.DagsterEventType.STEP_UP_FOR_RETRY) == []
    [failure] = events_of(result, dg.DagsterEventType.STEP_FAILURE)
    message = failure.step_failure_data.user_failure_data.description
    assert message.startswith("permanent error, not retried: FileNotFoundError")


def test_a_chunk_whose_validated_frame_was_cleaned_fails_once_with_what_to_do(tmp_path: Path):
    settings, file_id, instance = split_file(tmp_path, f"sqlite:///{tmp_path / 'billing.db'}")
    chunk_key = f"{file_id[:12]}-0000"
    assert materialize_chunk_step(validated_chunk, settings, chunk_key, instance).success
    staged_frame(settings.staging_dir, chunk_key).unlink()  # as the file report does once the file is finished

    result = materialize_chunk_step(debts, settings, chunk_key, instance)

    assert not result.success
    assert events_of(result, dg.DagsterEventType.STEP_UP_FOR_RETRY) == []
    [failure] = events_of(result, dg.DagsterEventType.STEP_FAILURE)
    message = failure.step_failure_data.user_failure_data.description
    assert "is gone" in message and "Materialize validated_chunk for this chunk again" in message

    assert materialize_chunk_step(validated_chunk, settings, chunk_key, instance).success
    assert materialize_chunk_step(debts, settings, chunk_key, instance).success


@pytest.mark.timeout(180)
def test_a_lost_database_is_retried_with_backoff_until_it_is_back(tmp_path: Path, private_cluster):
    settings, file_id, instance = split_file(tmp_path, private_cluster.url("billing"))
    chunk_key = f"{file_id[:12]}-0000"
    assert materialize_chunk_step(validated_chunk, settings, chunk_key, instance).success

    private_cluster.stop("fast")
    restart = threading.Timer(3.0, private_cluster.start)
    restart.start()
    result = materialize_chunk_step(debts, settings, chunk_key, instance)
    restart.join()

    assert result.success
    retries = events_of(result, dg.DagsterEventType.STEP_UP_FOR_RETRY)
    assert retries, "the step should have met the stopped server at least once"
    assert all(event.step_key == "debts" for event in retries)
