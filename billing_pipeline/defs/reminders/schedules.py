"""The daily reminder run, at BILLING_REMINDER_TIME in BILLING_REMINDER_TIMEZONE, read when the code location
loads (as BILLING_EXECUTOR is): a changed time takes a reload.

Catch-up: after the daemon was down, Dagster launches only the latest missed tick of a schedule without
partitions (dagster/_scheduler/scheduler.py: "has no partition set, so not trying to catch up"), so the
scheduler's max_catchup_runs (dagster.yaml `scheduler:`) does not apply here. The run covers every day since the
last run anyway (stages/remind.py), so extra ticks, launched by hand or from the UI, find their days covered.
"""

import dagster as dg

from billing_pipeline.defs.reminders.jobs import remind_job
from billing_pipeline.settings import Settings

REMINDER_DAY_TAG = "billing/reminder_day"


def reminder_cron(settings: Settings) -> str:
    """Every day at BILLING_REMINDER_TIME.

    >>> reminder_cron(Settings.from_env({}, reminder_time="08:30"))
    '30 8 * * *'
    """
    at = settings.reminder_clock_time
    return f"{at.minute} {at.hour} * * *"


def reminder_schedule_for(settings: Settings | None = None) -> dg.ScheduleDefinition:
    settings = settings or Settings.from_env()
    zone = settings.reminder_zone

    @dg.schedule(
        name="reminder_schedule",
        job=remind_job,
        cron_schedule=reminder_cron(settings),
        execution_timezone=zone.key,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=f"The day's reminders every day at {settings.reminder_time} {zone.key} "
        "(BILLING_REMINDER_TIME, BILLING_REMINDER_TIMEZONE); a run covers the days since the last one.",
    )
    def reminder_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        scheduled = context.scheduled_execution_time
        day = (scheduled.astimezone(zone) if scheduled is not None else None)
        day_text = day.date().isoformat() if day is not None else ""
        return dg.RunRequest(
            run_key=f"remind:{day_text}" if day_text else None,
            run_config={"ops": {"reminder_notices": {"config": {"day": day_text}}}},
            tags={REMINDER_DAY_TAG: day_text or "today"},
        )

    return reminder_schedule
