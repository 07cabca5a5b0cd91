"""The reminders asset: one daily run creates the day's reminders in the outbox and sends those due."""

from datetime import date

import dagster as dg
from pydantic import Field

from billing_pipeline import stages
from billing_pipeline.defs.notifications.assets import notifications
from billing_pipeline.defs.resources import BillingResource
from billing_pipeline.defs.retries import STORE_RETRY, permanent_errors_fail_fast
from billing_pipeline.instance.pools import SMTP


class ReminderRunConfig(dg.Config):
    day: str = Field(default="", description="The day (YYYY-MM-DD, in BILLING_REMINDER_TIMEZONE) this run is "
                        "for; empty: today. A day before today covers up to today.")
    as_today: bool = Field(default=False, description="Act as if `day` were today, at the current time of day "
                           "(`billing remind --today`).")
    deliver_only: bool = Field(default=False, description="Only send the reminders due (the quiet hours over): "
                                  "what reminder_delivery_sensor asks for.")


def day_of(config: ReminderRunConfig) -> date | None:
    if not config.day:
        return None
    try:
        return date.fromisoformat(config.day)
    except ValueError:
        raise dg.Failure(description=f"day must be YYYY-MM-DD, got {config.day!r}", allow_retries=False) from None


@dg.asset(
    deps=[dg.AssetDep(notifications, partition_mapping=dg.AllPartitionMapping())],
    group_name="notifications",
    kinds={"email"},
    owners=["team:billing"],
    pool=SMTP,
    retry_policy=STORE_RETRY,
    description="The day's reminders (BILLING_REMINDER_OFFSETS from each boleto's due date), one per (debt, kind) "
    "in the outbox, sent unless inside BILLING_QUIET_HOURS. Paid, written-off, rejected and protested boletos and "
    "opted-out debtors are skipped; a run after an outage sends each debt the latest reminder due since the last "
    "run, once.",
)
def reminder_notices(context: dg.AssetExecutionContext, config: ReminderRunConfig,
                     billing: BillingResource) -> dg.MaterializeResult:
    settings = billing.settings
    metadata: dict[str, object] = {"deliver_only": config.deliver_only}
    with permanent_errors_fail_fast():
        if config.deliver_only:
            delivery = stages.deliver_reminders(billing.engine, settings, progress=context.log.info)
        else:
            day = day_of(config)
            clock = stages.clock_on(day, settings.reminder_zone) if day and config.as_today else stages.utc_now
            try:
                if day is not None:  # the moved clock of as_today would take any day for today
                    stages.refuse_future_day(day, settings.reminder_zone)
                outcome = stages.remind_stage(billing.engine, settings, day, clock, progress=context.log.info)
            except stages.FutureDay as error:
                raise dg.Failure(description=str(error), allow_retries=False) from None
            delivery = outcome.delivery
            context.log.info(_summary(outcome))
            metadata.update({key: dg.MetadataValue.json(value) if isinstance(value, dict) else value
                             for key, value in outcome.as_dict().items() if value is not None})
        counts = stages.reminder_counts(billing.engine)
    if delivery.still_pending:
        context.log.warning(f"{delivery.still_pending} reminders wait on the mail server (last answer: "
                            f"{delivery.last_error}); reminder_delivery_sensor sends them later")
    metadata.update({"sent": delivery.sent, "failed": delivery.failed, "suppressed": delivery.suppressed,
                     "still_pending": delivery.still_pending, "outbox_reminders": dg.MetadataValue.json(counts)})
    return dg.MaterializeResult(metadata=metadata)


def _summary(outcome: stages.RemindOutcome) -> str:
    if outcome.covered_before:
        return f"{outcome.last_day} was covered by an earlier run: no reminder created"
    created = ", ".join(f"{count} {kind}" for kind, count in outcome.created.items()) or "none"
    return f"days {outcome.first_day}..{outcome.last_day}: reminders created: {created}"
