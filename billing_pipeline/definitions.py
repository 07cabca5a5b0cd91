"""The code location `billing_pipeline`: every Dagster definition of Smart Billing, from `billing_pipeline/defs/`.

`dg dev`, `dg check defs` and `billing dev` load this module ([tool.dg] in pyproject.toml). The areas are listed
here rather than discovered from the defs folder: discovery needs pyproject.toml beside the package, which an
installed package (the Docker image, `pip install .`) does not have.
"""

import dagster as dg

from billing_pipeline.defs.boletos.assets import boleto_pdfs, boletos
from billing_pipeline.defs.cnab.assets import remessa, retorno
from billing_pipeline.defs.cnab.jobs import remessa_job, retorno_job
from billing_pipeline.defs.cnab.sensors import demo_bank_sensor, remessa_sensor, retorno_sensor
from billing_pipeline.defs.executors import run_executor
from billing_pipeline.defs.ingest.assets import debts, source_file, validated_chunk
from billing_pipeline.defs.ingest.jobs import ingest_file_job, process_chunk_job
from billing_pipeline.defs.ingest.sensors import chunk_sensor, inbox_sensor
from billing_pipeline.defs.loggers import run_loggers
from billing_pipeline.defs.notifications.assets import notifications
from billing_pipeline.defs.notifications.jobs import deliver_chunk_job
from billing_pipeline.defs.notifications.sensors import delivery_sensor, redelivery_sensor
from billing_pipeline.defs.reminders.assets import reminder_notices
from billing_pipeline.defs.reminders.jobs import remind_job
from billing_pipeline.defs.reminders.schedules import reminder_schedule_for
from billing_pipeline.defs.reminders.sensors import reminder_delivery_sensor
from billing_pipeline.defs.reports.assets import file_report
from billing_pipeline.defs.reports.jobs import report_file_job
from billing_pipeline.defs.reports.sensors import file_report_sensor
from billing_pipeline.defs.resources import BillingResource, ChunkFrameIOManager

ASSETS = [source_file, validated_chunk, debts, boletos, boleto_pdfs, notifications, file_report, remessa, retorno,
          reminder_notices]

defs = dg.Definitions(
    assets=ASSETS,
    jobs=[ingest_file_job, process_chunk_job, deliver_chunk_job, report_file_job, remessa_job, retorno_job,
          remind_job],
    # At BILLING_REMINDER_TIME in BILLING_REMINDER_TIMEZONE, read as the code location loads (as the executor is).
    schedules=[reminder_schedule_for()],
    sensors=[inbox_sensor, chunk_sensor, delivery_sensor, redelivery_sensor, file_report_sensor, retorno_sensor,
             remessa_sensor, demo_bank_sensor, reminder_delivery_sensor],
    resources={"billing": BillingResource(), "chunk_io_manager": ChunkFrameIOManager()},
    # In-process unless BILLING_EXECUTOR=celery: defs/executors.py says why and how pools hold under each.
    executor=run_executor(),
    # Dagster's console unless BILLING_LOG_FORMAT=json: then JSON lines, for every run (defs/loggers.py says how).
    loggers=run_loggers(),
)
