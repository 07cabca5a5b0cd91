"""Remind: the régua. Each day, one reminder per boleto whose reminder day (its due date plus one of
BILLING_REMINDER_OFFSETS) has come, created in the outbox and sent through the notify machinery.

- At most once per (debt, kind): the outbox's UNIQUE (debt_id, notice_kind), and a Message-ID from the pair.
- A run covers the days since the last run, up to today (at most store.reminders.CATCH_UP_DAYS): after an
  outage each debt gets the latest reminder due in the missed days, once; a late run for a covered day does nothing.
- Skipped: boletos paid, written off, rejected by the bank, protested or with a baixa requested; debtors who opted
  out; boletos whose first notice was not sent (the reminder would be the first the debtor hears of it). The
  suppression list marks reminders suppressed at send, as it does first notices.
- Quiet hours: created inside BILLING_QUIET_HOURS, a reminder waits (outbox.not_before) and goes out with the
  first delivery after the window: the daily run's own, or reminder_delivery_sensor's. One whose kind no longer
  fits the day it would go out (a D0 "vence hoje" the day after, a D-3 once due) is marked suppressed instead.
- Sent once even with deliveries side by side: each claims its rows in batches (not_before moved to a lease)
  before sending them; a row a failed or crashed delivery left pending is due again when the lease expires.

The clock is a parameter (`now`, returning an aware datetime) so that tests and `billing remind --today` choose
the day; nothing below reads the wall clock.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as time_of_day
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from billing_pipeline.mail.senders import Sender
from billing_pipeline.settings import Settings
from billing_pipeline.stages.notify import NotifyOutcome, send_notices, sender_for
from billing_pipeline.store import reminders

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def clock_on(day: date, zone: ZoneInfo, now: Clock = utc_now) -> Clock:
    """A clock on `day` (in `zone`) at the time of day `now` tells: `billing remind --today` acts as if that day
    had come, the quiet hours still holding by the time of day."""

    def on_day() -> datetime:
        moment = now().astimezone(zone)
        return datetime.combine(day, moment.timetz().replace(tzinfo=None), tzinfo=zone)

    return on_day


def quiet_until(moment: datetime, window: tuple[time_of_day, time_of_day] | None) -> datetime | None:
    """When the quiet hours holding `moment` (aware, in the reminder zone) end; None outside them. The window
    wraps midnight when its start is after its end.

    >>> from zoneinfo import ZoneInfo
    >>> zone, window = ZoneInfo("America/Sao_Paulo"), (time_of_day(20), time_of_day(8))
    >>> quiet_until(datetime(2026, 1, 5, 21, 30, tzinfo=zone), window).isoformat()
    '2026-01-06T08:00:00-03:00'
    >>> quiet_until(datetime(2026, 1, 5, 7, 59, tzinfo=zone), window).isoformat()
    '2026-01-05T08:00:00-03:00'
    >>> quiet_until(datetime(2026, 1, 5, 8, 0, tzinfo=zone), window) is None
    True
    """
    if window is None:
        return None
    start, end = window
    clock = moment.timetz().replace(tzinfo=None)
    inside = start <= clock < end if start <= end else (clock >= start or clock < end)
    if not inside:
        return None
    ends = datetime.combine(moment.date(), end, tzinfo=moment.tzinfo)
    return ends if ends > moment else ends + timedelta(days=1)


@dataclass
class RemindOutcome:
    requested_for: date
    first_day: date | None  # the days this run looked at; None when an earlier run had covered them
    last_day: date
    created: dict[str, int] = field(default_factory=dict)  # reminder kind -> created
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> boletos due a reminder that got none
    held_until: datetime | None = None  # the quiet hours' end, when this run's reminders wait for it
    delivery: NotifyOutcome = field(default_factory=NotifyOutcome)

    @property
    def covered_before(self) -> bool:
        return self.first_day is None

    def as_dict(self) -> dict[str, object]:
        return {
            "day": self.requested_for.isoformat(),
            "covered_from": self.first_day.isoformat() if self.first_day else None,
            "covered_until": self.last_day.isoformat(),
            "covered_before": self.covered_before,
            "created": dict(self.created),
            "skipped": dict(self.skipped),
            "held_until": self.held_until.isoformat() if self.held_until else None,
            "sent": self.delivery.sent,
            "failed": self.delivery.failed,
            "suppressed": self.delivery.suppressed,
            "still_pending": self.delivery.still_pending,
        }


class FutureDay(ValueError):
    """A run asked for a day that has not come yet in the reminder time zone."""


def refuse_future_day(day: date, zone: ZoneInfo, now: Clock = utc_now) -> None:
    """FutureDay when `day` has not come yet in `zone` by the real clock: a run acting as if it had come
    (`billing remind --today`) would record the days up to it as covered and hold the régua until then."""
    today = now().astimezone(zone).date()
    if day > today:
        raise FutureDay(f"{day.isoformat()} has not come yet: today is {today.isoformat()} in {zone.key}")


def remind_stage(engine: Engine, settings: Settings, day: date | None = None, now: Clock = utc_now,
                 sender: Sender | None = None, sleep: Callable[[float], None] = time.sleep, *,
                 progress: Callable[[str], None] | None = None) -> RemindOutcome:
    """The reminders of `day` (default: today in BILLING_REMINDER_TIMEZONE) created, then every reminder due
    delivered unless inside the quiet hours. A run for an earlier day than today (a schedule tick launched late)
    covers up to today, so the ticks that follow it find their days covered."""
    zone = settings.reminder_zone
    moment = now().astimezone(zone)
    today = moment.date()
    if day is not None:
        refuse_future_day(day, zone, lambda: moment)
    held_until = quiet_until(moment, settings.quiet_window)
    run = reminders.create_reminders(engine, day or today, today, settings.reminder_offset_days,
                                     held_until.astimezone(UTC) if held_until else None)
    delivery = deliver_reminders(engine, settings, now, sender, sleep, progress=progress)
    return RemindOutcome(run.requested_for, run.first_day, run.last_day, run.created, run.skipped,
                         held_until if run.created else None, delivery)


def deliver_reminders(engine: Engine, settings: Settings, now: Clock = utc_now, sender: Sender | None = None,
                      sleep: Callable[[float], None] = time.sleep, *,
                      progress: Callable[[str], None] | None = None) -> NotifyOutcome:
    """Every pending reminder the quiet hours no longer hold, sent; nothing at all inside the quiet hours.
    Reminders of boletos settled (or debtors opted out) since they were created are marked suppressed first.

    Rows are claimed claim_batch() at a time (store.reminders.claim_reminders) before they are sent, so deliveries
    running side by side (reminder_delivery_sensor's run, the daily run, `billing remind`) never send one twice.
    Before each batch the quiet hours are looked at again: if they have started, the rest waits for their end.
    A reminder whose kind no longer fits the day it would go out (a "vence hoje" held past midnight) is marked
    suppressed. When the mail server leaves a batch pending, the rest waits for the batch's lease to expire."""
    zone, window = settings.reminder_zone, settings.quiet_window
    total = NotifyOutcome()
    opened: Sender | None = None
    try:
        first = True
        while True:
            moment = now()
            local, utc = moment.astimezone(zone), moment.astimezone(UTC)
            held_until = quiet_until(local, window)
            if held_until is not None:
                if not first:  # the window started during this delivery: what is left waits for its end
                    reminders.hold_due(engine, utc, held_until.astimezone(UTC))
                break
            if first:
                reminders.suppress_stale(engine)
                first = False
            lease = utc + CLAIM_LEASE
            rows = reminders.claim_reminders(engine, utc, lease, claim_batch(settings))
            if not rows:
                break
            reasons = {row.id: _stale_reason(row.notice_kind, row.boleto.due_date, local.date()) for row in rows}
            stale = {row_id: why for row_id, why in reasons.items() if why is not None}
            reminders.suppress(engine, stale)
            total.suppressed += len(stale)
            fresh = [row for row in rows if row.id not in stale]
            if fresh:
                opened = opened or sender or sender_for(settings)
                _add(total, send_notices(engine, settings, fresh, "Reminders", opened, sleep, progress=progress))
            if total.still_pending:  # the mail server is in trouble: the rest waits as long as this batch does
                total.still_pending += reminders.hold_due(engine, utc, lease)
                break
    finally:
        if opened is not None:
            opened.close()
    return total


# A batch is claimed for CLAIM_LEASE: long enough to send it (CLAIM_BATCH messages, each retried up to
# BILLING_SMTP_MAX_ATTEMPTS times within the batch's give-up rule), short enough that a row a crashed or failed
# delivery left pending is tried again soon. It is also the pause before a mail server that was down is tried again.
CLAIM_BATCH = 250
CLAIM_LEASE = timedelta(minutes=15)


def claim_batch(settings: Settings) -> int:
    """CLAIM_BATCH, or fewer when BILLING_SMTP_RATE would not send that many in a third of the lease.

    >>> claim_batch(Settings.from_env({})), claim_batch(Settings.from_env({}, smtp_rate=0.1))
    (250, 30)
    """
    if settings.smtp_rate <= 0:
        return CLAIM_BATCH
    return max(1, min(CLAIM_BATCH, int(settings.smtp_rate * CLAIM_LEASE.total_seconds() / 3)))


def _stale_reason(notice_kind: str, due_date: date, day: date) -> str | None:
    offset = reminders.offset_of(notice_kind)
    if offset is None or reminders.fits_the_day(offset, due_date, day):
        return None
    wording = "before the due date" if offset < 0 else "on the due date"
    return (f"{notice_kind} is for {wording} ({due_date.isoformat()}) and would go out on {day.isoformat()}: "
            "dropped, as it was held past its day")


def _add(total: NotifyOutcome, batch: NotifyOutcome) -> None:
    total.sent += batch.sent
    total.failed += batch.failed
    total.suppressed += batch.suppressed
    total.still_pending += batch.still_pending
    total.seconds += batch.seconds
    total.last_error = batch.last_error or total.last_error


def reminders_waiting(engine: Engine, settings: Settings, now: Clock = utc_now) -> int:
    """Reminders a delivery would send now: 0 inside the quiet hours."""
    moment = now()
    if quiet_until(moment.astimezone(settings.reminder_zone), settings.quiet_window) is not None:
        return 0
    return reminders.reminders_due(engine, moment.astimezone(UTC))


# The shape the CSV's email column is checked against (validation/schema.py), for an address typed in a shell.
_EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+")


class NotAnEmail(ValueError):
    pass


def email_address(raw: str) -> str:
    """A debtor's address as opt-outs keep it (lower case); NotAnEmail for anything else.

    >>> email_address(" Maria@Example.COM ")
    'maria@example.com'
    """
    address = raw.strip()
    if len(address) > 254 or not _EMAIL.fullmatch(address):
        raise NotAnEmail(f"not an e-mail address: {raw!r}")
    return address.lower()


def opt_out(engine: Engine, raw_email: str) -> bool:
    """No more reminders to this address (first notices still go out). False when it was opted out already."""
    return reminders.opt_out(engine, email_address(raw_email))


def opt_in(engine: Engine, raw_email: str) -> bool:
    """Reminders to this address again. False when it was not opted out."""
    return reminders.opt_in(engine, email_address(raw_email))


def opted_out(engine: Engine) -> list[tuple[str, datetime]]:
    return reminders.opted_out(engine)


def reminder_counts(engine: Engine, file_id: str | None = None) -> dict[str, int]:
    return reminders.reminder_counts(engine, file_id=file_id)
