"""The reminders job: the day's reminders, or only those the quiet hours held."""

import dagster as dg

from billing_pipeline.defs.priorities import DELIVERY_PRIORITY
from billing_pipeline.defs.reminders.assets import reminder_notices

remind_job = dg.define_asset_job(
    "remind",
    selection=dg.AssetSelection.assets(reminder_notices),
    description="Create the day's reminders in the outbox and send those due (reminder_schedule), or only send "
    "the ones the quiet hours held (reminder_delivery_sensor).",
    tags={"dagster/priority": DELIVERY_PRIORITY},
)
