"""Reminders held by the quiet hours go out when the window ends: a delivery run as soon as some are due."""

import time

import dagster as dg

from billing_pipeline import stages
from billing_pipeline.defs.notifications.sensors import IN_FLIGHT
from billing_pipeline.defs.reminders.jobs import remind_job
from billing_pipeline.defs.resources import BillingResource

# The window's end is a minute-exact time; a look a minute is prompt, and most ticks find nothing due.
LOOK_SECONDS = 60
DELIVER_ONLY = {"ops": {"reminder_notices": {"config": {"deliver_only": True}}}}


@dg.sensor(
    job=remind_job,
    minimum_interval_seconds=LOOK_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Requests a remind run that only delivers, when reminders are pending and no longer held by "
    "BILLING_QUIET_HOURS (created inside the window, or left pending by a mail server that was down), and no "
    "remind run is in flight.",
)
def reminder_delivery_sensor(context: dg.SensorEvaluationContext, billing: BillingResource) -> dg.SensorResult:
    in_flight = context.instance.get_runs_count(dg.RunsFilter(job_name=remind_job.name, statuses=IN_FLIGHT))
    if in_flight:
        return dg.SensorResult(skip_reason=f"{in_flight} remind run(s) in flight")
    due = stages.reminders_waiting(billing.engine, billing.settings)
    if not due:
        return dg.SensorResult(skip_reason="no reminder due (none pending, or inside the quiet hours)")
    return dg.SensorResult(run_requests=[dg.RunRequest(
        run_key=f"deliver-reminders:{int(time.time() // LOOK_SECONDS)}", run_config=DELIVER_ONLY,
        tags={"billing/reminders_due": str(due)})])
