"""Bank file sensors: retornos coming in (the retorno inbox, or a CNAB file dropped beside the CSVs), remessas
going out once the files are in (BILLING_REMESSA_AUTO), and the simulated demo bank (BILLING_DEMO_BANK)."""

import json
import time

import dagster as dg

from billing_pipeline import stages
from billing_pipeline.defs.cnab.jobs import remessa_job, retorno_job
from billing_pipeline.defs.partitions import retorno_file_partitions
from billing_pipeline.defs.resources import BillingResource
from billing_pipeline.defs.run_tags import file_tags
from billing_pipeline.defs.sensor_ticks import TICK_SECONDS
from billing_pipeline.statuses import ReceivedVia


@dg.sensor(
    job=retorno_job,
    minimum_interval_seconds=TICK_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Registers each complete retorno by its sha256, from the retorno inbox (`{inbox}/retorno/`) or "
    "from the inbox itself when its first line is a CNAB 240 header, and requests one import_retorno run per new "
    "retorno. The same bytes again start nothing.",
)
def retorno_sensor(context: dg.SensorEvaluationContext, billing: BillingResource) -> dg.SensorResult:
    cursor = json.loads(context.cursor) if context.cursor else {}
    settings = billing.settings
    problems: list[str] = []
    try:
        look = stages.look_for_retornos(settings, cursor.get("looks", {}), time.time_ns())
    except stages.StorageUnavailable as error:
        look, problems = stages.InboxLook([], cursor.get("looks", {})), [f"cannot read the inbox: {error}"]
    for entry in look.ready:
        try:
            registration = stages.register_retorno(billing.engine, settings, entry, received_via=ReceivedVia.INBOX)
        except FileNotFoundError:
            context.log.warning(f"{entry.path.name} left the inbox before it was registered; nothing recorded")
            continue
        except stages.StorageUnavailable as error:
            problems.append(f"cannot take {entry.path.name}: {error}")
            continue
        if registration.new:
            context.log.info(f"registered retorno {registration.original_name} as {registration.file_id}")
        else:
            context.log.info(f"{registration.original_name}: the same bytes as retorno {registration.file_id}, "
                             "received before; nothing new to do, removed from the inbox")
    for problem in problems:
        if problem not in cursor.get("problems", []):
            context.log.error(problem)
    waiting = stages.retornos_to_import(billing.engine)
    new_cursor = json.dumps({"looks": look.waiting, **({"problems": problems} if problems else {})})
    if not waiting:
        reason = "; ".join(problems) or (f"{len(look.waiting)} retorno(s) waiting for a second look"
                                         if look.waiting else "no retorno to import")
        return dg.SensorResult(skip_reason=reason, cursor=new_cursor)
    return dg.SensorResult(
        run_requests=[dg.RunRequest(partition_key=r.file_id, run_key=f"retorno:{r.file_id}",
                                    tags=file_tags(r.file_id, r.original_name)) for r in waiting],
        dynamic_partitions_requests=[retorno_file_partitions.build_add_request([r.file_id for r in waiting])],
        cursor=new_cursor,
    )


@dg.sensor(
    job=remessa_job,
    minimum_interval_seconds=TICK_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="With BILLING_REMESSA_AUTO: requests a remessa once boletos wait to be sent to the bank (or baixas "
    "are queued) and no inbox file is still being processed, so that a file's boletos go out in one remessa.",
)
def remessa_sensor(context: dg.SensorEvaluationContext, billing: BillingResource) -> dg.SensorResult:
    if not billing.settings.remessa_auto:
        return dg.SensorResult(skip_reason="BILLING_REMESSA_AUTO is off: `billing cnab remessa` writes remessas")
    if stages.inbox_files_in_progress(billing.engine):
        return dg.SensorResult(skip_reason="waiting for the files still being processed")
    # Counting the queue reads every boleto: done only when its marker (reads on indexes) has moved.
    marker = stages.remessa_queue_marker(billing.engine, billing.settings)
    if marker == context.cursor:
        return dg.SensorResult(skip_reason="nothing new to send to the bank since the last look")
    pending = stages.remessa_pending(billing.engine, billing.settings)
    if not pending.entradas and not pending.baixas:
        return dg.SensorResult(skip_reason="nothing to send to the bank", cursor=marker)
    # One request per state of the queue: a run that is still writing leaves the same key, so it is not repeated.
    return dg.SensorResult(run_requests=[dg.RunRequest(run_key=f"remessa:{pending.marker}")], cursor=marker)


@dg.sensor(
    minimum_interval_seconds=TICK_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="SIMULATION, with BILLING_DEMO_BANK only: answers each new remessa of the DEMO account with the "
    "retorno a bank could send back (`billing cnab simulate`), written into the retorno inbox. Never for a real "
    "account.",
)
def demo_bank_sensor(context: dg.SensorEvaluationContext, billing: BillingResource) -> dg.SensorResult:
    settings = billing.settings
    if not settings.demo_bank:
        return dg.SensorResult(skip_reason="BILLING_DEMO_BANK is off")
    last = int(context.cursor) if context.cursor else 0
    remessas = stages.remessas_after(billing.engine, last)
    if not remessas:
        return dg.SensorResult(skip_reason="no new remessa to answer", cursor=str(last))
    for written in remessas:
        try:
            answer = stages.answer_as_demo_bank(settings, written.path)
        except stages.SimulationRefused as refusal:
            context.log.warning(f"demo bank: {refusal}")
            continue
        except (OSError, stages.CnabError) as error:  # moved away, unreadable: the next remessas are still answered
            context.log.error(f"demo bank: remessa NSA {written.nsa} ({written.path}) not answered: {error}")
            continue
        context.log.info(f"demo bank (SIMULATION): answered remessa NSA {written.nsa} with {answer.path}")
    return dg.SensorResult(cursor=str(remessas[-1].id))
