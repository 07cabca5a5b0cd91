"""Reminders in the store: which (debt, reminder kind) is due in a run's days, the runs that covered those days,
the debtors who opted out, and the reminders waiting in the outbox for delivery.

A reminder is an outbox row like the first notice, of kind `reminder_d-3`, `reminder_d0`, `reminder_d+7`...:
UNIQUE (debt_id, notice_kind) makes each go out at most once, and its Message-ID comes from the same pair.

>>> kind_of(-3), kind_of(0), kind_of(15)
('reminder_d-3', 'reminder_d0', 'reminder_d+15')
>>> offset_of("reminder_d+15"), offset_of("reminder_d-3"), offset_of("boleto_issued") is None
(15, -3, True)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Connection, Engine, TextClause, bindparam, delete, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.types import DateTime

from billing_pipeline.issued_boleto import as_date
from billing_pipeline.statuses import BoletoStatus, NoticeStatus
from billing_pipeline.store.outbox import (
    BOLETO_NOTICE,
    MESSAGE_ID_DOMAIN,
    OUTGOING_NOTICES,
    OutgoingNotice,
    outgoing_notice,
)
from billing_pipeline.store.tables import outbox, reminder_optouts, reminder_runs

REMINDER_PREFIX = "reminder_d"
# A run after an outage looks back at most this many days (its own included): a daemon down for longer sends, for
# each debt, the latest reminder due in the last two weeks, not one for every missed day.
CATCH_UP_DAYS = 14
# Boletos the bank will not collect (or that are paid): never reminded. A baixa requested counts too.
SETTLED = (BoletoStatus.PAID, BoletoStatus.WRITTEN_OFF, BoletoStatus.REGISTRATION_REJECTED, BoletoStatus.PROTESTED)
_SETTLED_SQL = ", ".join(f"'{status}'" for status in SETTLED)
# The literal the partial indexes of migration 0013 name: reminders are every other kind.
IS_REMINDER = f"o.notice_kind <> '{BOLETO_NOTICE}'"
_ADVISORY_LOCK = 7_271_728  # serialises reminder runs on one PostgreSQL database (the migrator uses ...727)
_SKIPPED_BOLETO = (
    "EXISTS (SELECT 1 FROM boleto_states s WHERE s.debt_id = b.debt_id"
    f" AND (s.status IN ({_SETTLED_SQL}) OR s.baixa_requested_at IS NOT NULL))"
)
_OPTED_OUT = "EXISTS (SELECT 1 FROM reminder_optouts x WHERE x.email = LOWER(d.email))"


def kind_of(offset: int) -> str:
    return f"{REMINDER_PREFIX}{'+' if offset > 0 else ''}{offset}"


def offset_of(notice_kind: str) -> int | None:
    """The offset a reminder kind names; None for any other notice."""
    if not notice_kind.startswith(REMINDER_PREFIX):
        return None
    return int(notice_kind[len(REMINDER_PREFIX):])


def latest_due(due_date: date, issued_on: date, offsets: Sequence[int], first_day: date,
               last_day: date) -> int | None:
    """The one offset to remind a boleto of in the days first_day..last_day: the latest whose day falls in them,
    provided that day is after the boleto's issue day (the first notice covered the earlier ones) and on the same
    side of the due date as last_day, the day it goes out (no "vence em" once due, no "vence hoje" the day after).

    >>> latest_due(date(2026, 1, 10), date(2026, 1, 1), (-3, 0, 1), date(2026, 1, 7), date(2026, 1, 10))
    0
    >>> latest_due(date(2026, 1, 10), date(2026, 1, 1), (-3, 7), date(2026, 1, 7), date(2026, 1, 11)) is None
    True
    >>> latest_due(date(2026, 1, 10), date(2026, 1, 7), (-3, 0), date(2026, 1, 7), date(2026, 1, 7)) is None
    True
    """
    for offset in sorted(offsets, reverse=True):
        day = due_date + timedelta(days=offset)
        if day > last_day:
            continue
        if day < first_day or day <= issued_on:
            return None
        return offset if fits_the_day(offset, due_date, last_day) else None
    return None


def fits_the_day(offset: int, due_date: date, day: date) -> bool:
    """Whether a reminder of `offset` still says the truth when it goes out on `day`: a before-due kind ("vence
    em") only before the due date, the D0 kind ("vence hoje") only on it. Overdue kinds always fit.

    >>> fits_the_day(-3, date(2026, 1, 10), date(2026, 1, 9)), fits_the_day(-3, date(2026, 1, 10), date(2026, 1, 10))
    (True, False)
    >>> fits_the_day(0, date(2026, 1, 10), date(2026, 1, 10)), fits_the_day(0, date(2026, 1, 10), date(2026, 1, 11))
    (True, False)
    >>> fits_the_day(1, date(2026, 1, 10), date(2026, 1, 13))
    True
    """
    if offset < 0:
        return day < due_date
    if offset == 0:
        return day == due_date
    return True


@dataclass(frozen=True)
class ReminderRun:
    requested_for: date
    first_day: date | None  # None: the days were covered by an earlier run, nothing was looked at
    last_day: date
    created: dict[str, int]  # reminder kind -> rows created
    skipped: dict[str, int]  # why boletos due a reminder in these days got none -> how many

    @property
    def covered_before(self) -> bool:
        return self.first_day is None


def create_reminders(engine: Engine, requested_for: date, last_day: date, offsets: Sequence[int],
                     not_before: datetime | None) -> ReminderRun:
    """In one transaction: the days since the last run (at most CATCH_UP_DAYS, ending last_day) looked at, one
    pending reminder created per boleto due one in them, and the run recorded. Days an earlier run covered are
    not looked at again; `not_before` (UTC) holds the new rows until the quiet hours end."""
    try:
        return _create_reminders(engine, requested_for, last_day, offsets, not_before)
    except IntegrityError as error:
        # A concurrent run recorded the same day first (runs are serialised by an advisory lock on PostgreSQL and
        # by BEGIN IMMEDIATE on SQLite; this is the belt for a connection that did not take them): the day is
        # covered, by that run. A "database is locked" after the busy timeout is transient and retried.
        if "reminder_runs" not in str(error):
            raise
        return ReminderRun(requested_for, None, last_day, {}, {})


def _create_reminders(engine: Engine, requested_for: date, last_day: date, offsets: Sequence[int],
                      not_before: datetime | None) -> ReminderRun:
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_ADVISORY_LOCK})")
        covered = connection.execute(select(reminder_runs.c.day).order_by(reminder_runs.c.day.desc()).limit(1)) \
            .scalar()
        covered_until = as_date(covered) if covered is not None else None
        if covered_until is not None and covered_until >= last_day:
            return ReminderRun(requested_for, None, last_day, {}, {})
        earliest = last_day - timedelta(days=CATCH_UP_DAYS - 1)
        # The very first run looks at its own day only: nothing was promised for the days before it existed.
        first_day = last_day if covered_until is None else max(covered_until + timedelta(days=1), earliest)
        created: dict[str, int] = {}
        skipped: dict[str, int] = {}
        if offsets:
            rows, skipped = _due_in(connection, first_day, last_day, offsets)
            created = _insert(connection, rows, not_before)
        connection.execute(reminder_runs.insert().values(
            day=last_day, covered_from=first_day, requested_for=requested_for, created=sum(created.values())))
        return ReminderRun(requested_for, first_day, last_day, created, skipped)


def _due_in(connection: Connection, first_day: date, last_day: date,
            offsets: Sequence[int]) -> tuple[list[dict], dict[str, int]]:
    """Rows to insert, and the boletos left out by reason. Boletos whose due date puts a reminder day in the window
    are read once (a range on due_date); which offset is due is decided per boleto (latest_due)."""
    query = text(
        f"SELECT b.debt_id, b.chunk_key, d.email, b.due_date, b.created_at AS issued_on,"
        f" {_SKIPPED_BOLETO} AS settled, {_OPTED_OUT} AS opted_out,"
        " EXISTS (SELECT 1 FROM outbox f WHERE f.debt_id = b.debt_id AND f.notice_kind = :first"
        f"        AND f.status = '{NoticeStatus.SENT}') AS first_sent"
        " FROM boletos b JOIN debts d ON d.debt_id = b.debt_id"
        " WHERE b.due_date BETWEEN :low AND :high ORDER BY b.due_date, b.debt_id"
    )
    low = first_day - timedelta(days=max(offsets))
    high = last_day - timedelta(days=min(offsets))
    rows: list[dict] = []
    skipped: dict[str, int] = {}
    for found in connection.execute(query, {"low": low, "high": high, "first": BOLETO_NOTICE}).mappings():
        offset = latest_due(as_date(found["due_date"]), as_date(found["issued_on"]), offsets, first_day, last_day)
        if offset is None:
            continue
        reason = ("paid, written off, rejected or protested" if found["settled"] else
                  "opted out" if found["opted_out"] else "first notice not sent" if not found["first_sent"] else None)
        if reason:
            skipped[reason] = skipped.get(reason, 0) + 1
            continue
        kind = kind_of(offset)
        debt_id = str(found["debt_id"])
        rows.append({"debt_id": debt_id, "notice_kind": kind, "chunk_key": found["chunk_key"],
                     "recipient": found["email"], "message_id": f"<{debt_id}.{kind}@{MESSAGE_ID_DOMAIN}>"})
    return rows, skipped


def _insert(connection: Connection, rows: list[dict], not_before: datetime | None) -> dict[str, int]:
    if not rows:
        return {}
    insert = (postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert)(outbox)
    statement = insert.on_conflict_do_nothing(index_elements=["debt_id", "notice_kind"]).returning(
        outbox.c.notice_kind)
    created: dict[str, int] = {}
    values = [{**row, "status": NoticeStatus.PENDING.value, "attempts": 0, "not_before": not_before} for row in rows]
    for kind in connection.execute(statement, values).scalars():
        created[kind] = created.get(kind, 0) + 1
    return dict(sorted(created.items(), key=lambda item: offset_of(item[0]) or 0))


def suppress_stale(engine: Engine) -> int:
    """Pending reminders whose boleto was settled, or whose debtor opted out, since they were created: marked
    suppressed (never written), so that the quiet hours' wait never sends a reminder of a paid boleto."""
    with engine.begin() as connection:
        return connection.execute(text(
            f"UPDATE outbox SET status = '{NoticeStatus.SUPPRESSED}', last_error = :why, updated_at = CURRENT_TIMESTAMP"
            f" WHERE notice_kind <> '{BOLETO_NOTICE}' AND status = '{NoticeStatus.PENDING}' AND debt_id IN ("
            "  SELECT b.debt_id FROM outbox o JOIN boletos b ON b.debt_id = o.debt_id"
            "  JOIN debts d ON d.debt_id = o.debt_id"
            f"  WHERE {IS_REMINDER} AND o.status = '{NoticeStatus.PENDING}' AND ({_SKIPPED_BOLETO} OR {_OPTED_OUT}))"),
            {"why": "settled or opted out before the reminder was sent"}).rowcount


def _due_condition(table: str = "o") -> str:
    """A pending reminder no longer held (quiet hours, or another delivery's claim), on `table`."""
    return (f"{table}.notice_kind <> '{BOLETO_NOTICE}' AND {table}.status = '{NoticeStatus.PENDING}'"
            f" AND ({table}.not_before IS NULL OR {table}.not_before <= :now)")


def _at(statement: str, *names: str) -> TextClause:
    return text(statement).bindparams(*(bindparam(name, type_=DateTime(timezone=True)) for name in names))


def claim_reminders(engine: Engine, now: datetime, lease_until: datetime, limit: int) -> list[OutgoingNotice]:
    """Up to `limit` reminders due at `now` (UTC), the oldest first, taken by this delivery: one UPDATE pushes
    their not_before to `lease_until`, so no other delivery (the sensor's run, the daily run, `billing remind`)
    sees them due until the lease expires, and a row left pending by a mail server that is down is tried again
    only then. The UPDATE re-checks the due condition on each row, so a claimer that read a row before another
    claimed it takes none of it: on PostgreSQL the rows being claimed are skipped (SKIP LOCKED), and on SQLite the
    writers are serialised (BEGIN IMMEDIATE). RETURNING names exactly the rows this statement took."""
    pick = f"SELECT o.id FROM outbox o WHERE {_due_condition('o')} ORDER BY o.id LIMIT :limit"
    if engine.dialect.name == "postgresql":
        # A materialized CTE picks the rows once: inside `id IN (...)` PostgreSQL may rescan a locking subquery
        # while the UPDATE runs, and take more than `limit` rows.
        claim = _at(
            f"WITH picked AS MATERIALIZED ({pick} FOR UPDATE SKIP LOCKED)"
            " UPDATE outbox SET not_before = :lease FROM picked WHERE outbox.id = picked.id"
            f" AND {_due_condition('outbox')} RETURNING outbox.id", "now", "lease")
    else:
        claim = _at(f"UPDATE outbox SET not_before = :lease WHERE id IN ({pick})"
                    f" AND {_due_condition('outbox')} RETURNING id", "now", "lease")
    read = text(f"{OUTGOING_NOTICES} WHERE o.id IN :ids ORDER BY o.id").bindparams(bindparam("ids", expanding=True))
    with engine.begin() as connection:
        ids = list(connection.execute(claim, {"now": now, "lease": lease_until, "limit": limit}).scalars())
        if not ids:
            return []
        return [outgoing_notice(row) for row in connection.execute(read, {"ids": ids}).mappings()]


def hold_due(engine: Engine, now: datetime, until: datetime) -> int:
    """Every reminder due at `now` (UTC) held until `until`: the quiet hours started during a delivery, or the
    mail server is down and the rest waits for the lease of those tried."""
    with engine.begin() as connection:
        return connection.execute(_at(f"UPDATE outbox SET not_before = :until WHERE {_due_condition('outbox')}",
                                      "now", "until"), {"now": now, "until": until}).rowcount


def suppress(engine: Engine, reasons: dict[int, str]) -> None:
    """Pending reminders (outbox id -> why) marked suppressed, never sent."""
    if not reasons:
        return
    with engine.begin() as connection:
        connection.execute(text(
            f"UPDATE outbox SET status = '{NoticeStatus.SUPPRESSED}', last_error = :why,"
            f" updated_at = CURRENT_TIMESTAMP WHERE id = :id AND status = '{NoticeStatus.PENDING}'"),
            [{"id": row_id, "why": why} for row_id, why in reasons.items()])


def reminders_due(engine: Engine, now: datetime) -> int:
    query = _at(f"SELECT COUNT(*) FROM outbox o WHERE {_due_condition()}", "now")
    with engine.connect() as connection:
        return int(connection.execute(query, {"now": now}).scalar_one())


def reminder_counts(engine: Engine, file_id: str | None = None, chunk_key: str | None = None) -> dict[str, int]:
    """Reminders by state, apart from the first notices that `outbox.counts` counts."""
    conditions, params = [IS_REMINDER], {}
    if chunk_key is not None:
        conditions.append("o.chunk_key = :chunk_key")
        params["chunk_key"] = chunk_key
    if file_id is not None:
        conditions.append("o.chunk_key IN (SELECT chunk_key FROM chunks WHERE file_id = :file_id)")
        params["file_id"] = file_id
    query = text(f"SELECT o.status, COUNT(*) FROM outbox o WHERE {' AND '.join(conditions)} GROUP BY o.status")
    with engine.connect() as connection:
        found = {str(status): int(count) for status, count in connection.execute(query, params)}
    return {status.value: int(found.get(status.value, 0)) for status in NoticeStatus}


def opt_out(engine: Engine, email: str) -> bool:
    """True when the address was not opted out yet."""
    insert = (postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert)(reminder_optouts)
    with engine.begin() as connection:
        return connection.execute(insert.values(email=email.lower()).on_conflict_do_nothing()
                                  .returning(reminder_optouts.c.email)).first() is not None


def opt_in(engine: Engine, email: str) -> bool:
    """True when the address was opted out (and now is not)."""
    with engine.begin() as connection:
        return bool(connection.execute(delete(reminder_optouts).where(reminder_optouts.c.email == email.lower()))
                    .rowcount)


def opted_out(engine: Engine) -> list[tuple[str, datetime]]:
    with engine.connect() as connection:
        return [(email, when) for email, when in connection.execute(
            select(reminder_optouts.c.email, reminder_optouts.c.opted_out_at).order_by(reminder_optouts.c.email))]


def last_runs(engine: Engine, limit: int = 20) -> list[dict]:
    with engine.connect() as connection:
        return [dict(row) for row in connection.execute(
            select(reminder_runs).order_by(reminder_runs.c.day.desc()).limit(limit)).mappings()]

