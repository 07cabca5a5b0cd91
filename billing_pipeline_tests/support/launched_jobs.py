"""Two tiny jobs for the run launcher's tests: one that finishes, one that waits until it is cancelled."""

import time

import dagster as dg


@dg.op
def note_the_worker(context: dg.OpExecutionContext) -> None:
    context.log.info(f"ran in {__name__}")


@dg.op
def wait_to_be_cancelled() -> None:
    time.sleep(120)


@dg.job
def finishes() -> None:
    note_the_worker()


@dg.job
def waits() -> None:
    wait_to_be_cancelled()


def finishing_job() -> dg.JobDefinition:
    return finishes


def waiting_job() -> dg.JobDefinition:
    return waits
