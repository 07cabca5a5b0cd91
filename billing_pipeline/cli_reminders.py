"""`billing remind` and `billing optout`: the régua from a shell."""

from __future__ import annotations

import argparse
import json
from datetime import date

from billing_pipeline.cli_common import CommandError, configured_store
from billing_pipeline.settings import Settings


def _day(raw: str) -> str:
    try:
        return date.fromisoformat(raw.strip()).isoformat()
    except ValueError:
        raise CommandError(f"--today must be a day as YYYY-MM-DD, got {raw!r}") from None


def _remind(args: argparse.Namespace) -> int:
    from billing_pipeline.runner import ProcessError, remind

    settings = Settings.from_env()
    day = _day(args.today) if args.today else ""
    if day:
        from billing_pipeline import stages

        try:
            stages.refuse_future_day(date.fromisoformat(day), settings.reminder_zone)
        except stages.FutureDay as error:
            raise CommandError(f"--today {error}") from None
    try:
        metadata = remind(settings, day)
    except ProcessError as error:
        raise CommandError(str(error)) from None
    if args.json:
        print(json.dumps(metadata, ensure_ascii=False, default=str))
        return 0 if not metadata.get("still_pending") else 3
    print("\n".join(remind_lines(metadata)))
    return 0 if not metadata.get("still_pending") else 3


def remind_lines(metadata: dict) -> list[str]:
    day = metadata["day"]
    if metadata.get("covered_before"):
        lines = [f"reminders for {day}: the days up to {metadata['covered_until']} were covered by an earlier run; "
                 "nothing created"]
    else:
        created: dict[str, int] = dict(metadata.get("created") or {})
        days = (f"{metadata['covered_from']}" if metadata["covered_from"] == metadata["covered_until"]
                else f"{metadata['covered_from']} to {metadata['covered_until']}")
        detail = ", ".join(f"{kind} {count}" for kind, count in created.items())
        lines = [f"reminders for {day} (days {days}): {sum(created.values())} created" +
                 (f" ({detail})" if detail else "")]
        for reason, count in dict(metadata.get("skipped") or {}).items():
            lines.append(f"  skipped, {reason}: {count}")
        if metadata.get("held_until"):
            lines.append(f"  inside the quiet hours (BILLING_QUIET_HOURS): held until {metadata['held_until']}")
    lines.append(f"sent {metadata['sent']}, failed {metadata['failed']}, suppressed {metadata['suppressed']}, "
                 f"still pending {metadata['still_pending']}")
    return lines


def _optout(args: argparse.Namespace) -> int:
    from billing_pipeline import stages

    if args.list:
        if args.email:
            raise CommandError("--list takes no address")
        with configured_store(Settings.from_env()) as engine:
            listed = stages.opted_out(engine)
        if args.json:
            print(json.dumps([{"email": email, "opted_out_at": str(when)} for email, when in listed]))
        else:
            for email, when in listed:
                print(f"{email}  since {str(when)[:19]}")
            print(f"{len(listed)} address(es) opted out of reminders")
        return 0
    if not args.email:
        raise CommandError("give an e-mail address (or --list)")
    try:
        address = stages.email_address(args.email)
    except stages.NotAnEmail as error:
        raise CommandError(str(error)) from None
    with configured_store(Settings.from_env()) as engine:
        if args.undo:
            changed = stages.opt_in(engine, address)
            print(f"{address}: reminders again" if changed else f"{address} was not opted out; nothing changed")
        else:
            changed = stages.opt_out(engine, address)
            print(f"{address}: no more reminders (first notices of new boletos still go out)" if changed
                  else f"{address} was opted out already; nothing changed")
    return 0


def add_reminder_commands(commands: argparse._SubParsersAction) -> None:
    remind = commands.add_parser(
        "remind", help="create and send the day's reminders (the régua) in this process, as the daily schedule does")
    remind.add_argument("--today", metavar="YYYY-MM-DD",
                        help="act as if this day had come (default: today in BILLING_REMINDER_TIMEZONE)")
    remind.add_argument("--json", action="store_true", help="print one JSON object")
    remind.set_defaults(handler=_remind)

    optout = commands.add_parser("optout", help="stop reminders to a debtor's address (--undo: again; --list)")
    optout.add_argument("email", nargs="?")
    optout.add_argument("--undo", action="store_true", help="send reminders to this address again")
    optout.add_argument("--list", action="store_true", help="the addresses opted out")
    optout.add_argument("--json", action="store_true", help="with --list: print one JSON list")
    optout.set_defaults(handler=_optout)
