"""How the steps of a run execute, chosen by `BILLING_EXECUTOR` when the code location loads.

- `in_process` (the default): every step of a run in the run's own process.
- `celery`: each step a task of dagster-celery, over the RabbitMQ of `BILLING_CELERY_BROKER_URL`, run by whichever
  worker (`dagster-celery worker start -A dagster_celery.app`) takes it; the run's process only hands steps out and
  reads their events back. The results come back over the broker as well (`rpc://`), so a worker needs no disk in
  common with the run or with another worker: the workers reach the same broker, the same Dagster instance storage
  (PostgreSQL), the same store and the same `BILLING_DATA_DIR` (a bucket when they run on other machines).

Pools hold the same way under both: the run's process claims a step's pool slot in the instance before it hands
the step out (dagster-celery's execution loop runs the plan with an InstanceConcurrencyContext, as the in-process
executor does) and frees it when the step's last event comes back; the run queue's pool check
(`op_granularity_run_buffer: 0`, dagster.yaml) is the run coordinator's and does not depend on the executor.
"""

import dagster as dg

from billing_pipeline.settings import Settings

# No file backend: the run's process reads each step's events from a reply queue of its own on the broker.
CELERY_RESULT_BACKEND = "rpc://"


def run_executor(settings: Settings | None = None) -> dg.ExecutorDefinition:
    """The executor of every job, for `settings` (the BILLING_* environment when None)."""
    settings = settings or Settings.from_env()
    if settings.executor == "celery":
        return celery_executor(settings.celery_broker_url)
    # A chunk run is a straight line of steps: one process for all of them saves a process start and the
    # imports per step (~1 s each); pools and retry policies apply the same way.
    return dg.in_process_executor


def celery_executor(broker_url: str) -> dg.ExecutorDefinition:
    """dagster-celery's executor on `broker_url`; its workers must be started on the same broker (and queue)."""
    # Imported here: the default executor does not load Celery, and an install without the `celery` extra works.
    try:
        from dagster_celery import celery_executor as dagster_celery_executor
    except ImportError as error:
        raise ImportError(
            "BILLING_EXECUTOR=celery needs dagster-celery: pip install 'smart-billing[celery]'"
        ) from error
    # `configured`: the broker URL (it may hold a password) is not part of a run's config or the UI's launchpad.
    return dagster_celery_executor.configured(
        {"broker": broker_url, "backend": CELERY_RESULT_BACKEND}, name="celery"
    )
