"""The redelivery sensor: a chunk whose delivery failed with notices waiting on the mail server is delivered again
after a growing wait; in-flight, retried, delivered, canceled and bug-failed deliveries are left alone."""

from __future__ import annotations

import json
import time
import uuid

import dagster as dg
import pytest
from sqlalchemy import text

from billing_pipeline.defs.notifications.sensors import REDELIVERY_TAG, redelivery_sensor, redelivery_wait
from billing_pipeline.store import outbox
from billing_pipeline_tests.support.files import store_sample, write_sample_file
from billing_pipeline_tests.support.in_process import evaluate_sensor


@pytest.fixture
def chunk(settings, engine, tmp_path, monkeypatch) -> str:
    """A stored chunk of 20 boletos whose delivery started: 20 pending notices, the server refused the last try."""
    monkeypatch.setenv("BILLING_REDELIVERY_FIRST_WAIT_SECONDS", "1")
    monkeypatch.setenv("BILLING_REDELIVERY_MAX_WAIT_SECONDS", "2")
    [key] = store_sample(engine, settings, write_sample_file(tmp_path / "debts.csv", rows=20, seed=5),
                         through="boletos").chunk_keys
    outbox.create_rows(engine, chunk_key=key)
    return key


def refused_by_the_server(engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("UPDATE outbox SET attempts = 5, last_error = 'cannot connect to smtp://mail:25'"))


def failed_delivery(instance: dg.DagsterInstance, key: str, **tags: str) -> dg.DagsterRun:
    run = dg.DagsterRun(job_name="deliver_chunk", run_id=str(uuid.uuid4()), status=dg.DagsterRunStatus.STARTED,
                        tags={"dagster/partition": key, **tags})
    instance.add_run(run)
    instance.report_run_failed(run)
    return instance.get_run_by_id(run.run_id)


def evaluate(instance: dg.DagsterInstance, settings, cursor: str | None) -> dg.SensorResult:
    return evaluate_sensor(redelivery_sensor, instance, settings, cursor)


def test_the_wait_doubles_up_to_its_ceiling():
    assert [redelivery_wait(n, 60, 3600) for n in range(8)] == [60, 120, 240, 480, 960, 1920, 3600, 3600]


def test_notices_waiting_on_the_mail_server_are_delivered_again_after_the_wait(settings, engine, chunk):
    refused_by_the_server(engine)
    with dg.instance_for_test() as instance:
        failed = failed_delivery(instance, chunk, **{"dagster/failure_reason": "STEP_FAILURE"})
        waiting = evaluate(instance, settings, None)
        assert not waiting.run_requests
        shown = waiting.skip_reason.skip_message
        assert shown.startswith(f"chunk {chunk}: 20 notices wait on the mail server (last answer: cannot connect to "
                                "smtp://mail:25); delivered again in ")

        time.sleep(1.1)
        [request] = evaluate(instance, settings, waiting.cursor).run_requests
        assert (request.partition_key, request.run_key) == (chunk, f"redeliver:{chunk}:{failed.run_id}")
        assert request.tags[REDELIVERY_TAG] == "1"

        again = failed_delivery(instance, chunk, **{"dagster/failure_reason": "STEP_FAILURE"})  # it failed too
        cursor = evaluate(instance, settings, json.dumps({**json.loads(waiting.cursor), "watched": {
            chunk: {"attempts": 1, "waiting": None}}})).cursor
        time.sleep(1.1)  # the second wait is twice the first
        assert not evaluate(instance, settings, cursor).run_requests
        time.sleep(1.0)
        [second] = evaluate(instance, settings, cursor).run_requests
        assert second.run_key == f"redeliver:{chunk}:{again.run_id}" and second.tags[REDELIVERY_TAG] == "2"


@pytest.mark.parametrize("latest", ["in flight", "retried by dagster", "delivered", "canceled", "failed on a bug"])
def test_deliveries_that_are_not_ours_to_repeat_are_left_alone(settings, engine, chunk, latest):
    if latest != "failed on a bug":
        refused_by_the_server(engine)  # a bug: pending notices that no server refused (it failed before sending)
    with dg.instance_for_test() as instance:
        failed_delivery(instance, chunk, **{"dagster/failure_reason": "STEP_FAILURE"})
        cursor = evaluate(instance, settings, None).cursor
        if latest == "retried by dagster":
            failed_delivery(instance, chunk, **{"dagster/will_retry": "true"})
        elif latest != "failed on a bug":
            status = {"in flight": dg.DagsterRunStatus.STARTED, "delivered": dg.DagsterRunStatus.SUCCESS,
                      "canceled": dg.DagsterRunStatus.CANCELED}[latest]
            instance.add_run(dg.DagsterRun(job_name="deliver_chunk", run_id=str(uuid.uuid4()), status=status,
                                           tags={"dagster/partition": chunk}))
        time.sleep(1.1)
        result = evaluate(instance, settings, cursor)
        assert not result.run_requests
        watched = json.loads(result.cursor)["watched"]
        assert (chunk in watched) is (latest in ("in flight", "retried by dagster"))


def test_a_chunk_with_nothing_left_to_send_is_dropped(settings, engine, chunk):
    with engine.begin() as connection:
        connection.execute(text("UPDATE outbox SET status = 'sent'"))
    with dg.instance_for_test() as instance:
        failed_delivery(instance, chunk)
        cursor = evaluate(instance, settings, None).cursor
        time.sleep(1.1)
        result = evaluate(instance, settings, cursor)
        assert not result.run_requests and json.loads(result.cursor)["watched"] == {}
