"""The régua on a real store (SQLite and PostgreSQL) with a fixed clock: a file whose due dates spread over 60
days, reminded day by day; paid boletos skipped; re-runs and outages; opt-outs, suppressions and quiet hours."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from billing_pipeline import stages
from billing_pipeline.ingest.inbox import sha256_of
from billing_pipeline.sample import write_sample
from billing_pipeline.settings import Settings
from billing_pipeline.statuses import ReceivedVia
from billing_pipeline.store.outbox import BOLETO_NOTICE
from billing_pipeline_tests.support.bank import Answer, build_retorno, remessa_titles
from billing_pipeline_tests.support.files import SampleFile, store_sample

ZONE = ZoneInfo("America/Sao_Paulo")
ISSUED_ON = date(2026, 1, 2)
FIRST_DUE = date(2026, 1, 12)
SPAN_DAYS = 60
ROWS = 120


def at(day: date, hour: int = 8, minute: int = 0):
    """A fixed clock: `day` at hour:minute in São Paulo."""
    return lambda: datetime.combine(day, time(hour, minute), tzinfo=ZONE).astimezone(UTC)


def spread_file(engine, settings: Settings, folder: Path, rows: int = ROWS, seed: int = 7):
    """A sample file whose due dates are FIRST_DUE + (line % SPAN_DAYS), stored with boletos and PDFs (issued on
    ISSUED_ON) and every first notice sent to the file outbox."""
    path = folder / f"spread-{seed}.csv"
    write_sample(path, rows=rows, seed=seed, with_address=True)
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        fields, records = reader.fieldnames, list(reader)
    for index, record in enumerate(records):
        record["debtDueDate"] = (FIRST_DUE + timedelta(days=index % SPAN_DAYS)).isoformat()
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(records)
    stored = store_sample(engine, settings, SampleFile(path, rows, [], sha256_of(path)), through="boleto_pdfs",
                          today=ISSUED_ON)
    with engine.begin() as connection:  # the store stamps boletos with the wall clock; these were issued then
        connection.execute(text("UPDATE boletos SET created_at = :at"),
                           {"at": datetime.combine(ISSUED_ON, time(12), tzinfo=UTC)})
    first = stages.notify_stage(engine, settings, file_id=stored.file_id)
    assert first.sent == rows
    return stored


def boletos_of(engine) -> dict[str, tuple[date, date]]:
    with engine.connect() as connection:
        return {str(debt_id): (_day(due), _day(issued)) for debt_id, due, issued in connection.execute(
            text("SELECT debt_id, due_date, created_at FROM boletos"))}


def sent_reminders(engine) -> set[tuple[str, str]]:
    with engine.connect() as connection:
        return {(str(debt_id), kind) for debt_id, kind in connection.execute(text(
            f"SELECT debt_id, notice_kind FROM outbox WHERE notice_kind <> '{BOLETO_NOTICE}' AND status = 'sent'"))}


def reminder_rows(engine) -> list[tuple[str, str, str]]:
    with engine.connect() as connection:
        return [(str(debt_id), kind, status) for debt_id, kind, status in connection.execute(text(
            f"SELECT debt_id, notice_kind, status FROM outbox WHERE notice_kind <> '{BOLETO_NOTICE}'"))]


def kind(offset: int) -> str:
    return "reminder_d" + (f"+{offset}" if offset > 0 else str(offset))


def _day(value) -> date:
    return value.date() if isinstance(value, datetime) else value if isinstance(value, date) else \
        date.fromisoformat(str(value)[:10])


def run_days(engine, settings, first: date, last: date) -> list[stages.RemindOutcome]:
    outcomes = []
    day = first
    while day <= last:
        outcomes.append(stages.remind_stage(engine, settings, now=at(day)))
        day += timedelta(days=1)
    return outcomes


def test_a_file_due_over_60_days_gets_exactly_its_reminders_day_by_day(engine, settings, tmp_path):
    spread_file(engine, settings, tmp_path)
    boletos = boletos_of(engine)
    assert {due for due, _ in boletos.values()} == {FIRST_DUE + timedelta(days=n) for n in range(SPAN_DAYS)}
    offsets = settings.reminder_offset_days
    assert offsets == (-3, 0, 1, 7, 15)
    first_run, last_run = ISSUED_ON + timedelta(days=1), FIRST_DUE + timedelta(days=SPAN_DAYS + max(offsets))

    outcomes = run_days(engine, settings, first_run, last_run)

    expected = {(debt_id, kind(offset)) for debt_id, (due, issued) in boletos.items() for offset in offsets
                if first_run <= due + timedelta(days=offset) <= last_run and due + timedelta(days=offset) > issued}
    assert len(expected) == ROWS * len(offsets)  # every due date is far enough from the issue day
    assert sent_reminders(engine) == expected
    assert sum(outcome.delivery.sent for outcome in outcomes) == len(expected)
    # Each reminder went out on its own day: the run of day D created only the kinds due on D.
    for outcome in outcomes:
        for created_kind, count in outcome.created.items():
            offset = int(created_kind.removeprefix("reminder_d"))
            due_that_day = [d for d, (due, _) in boletos.items() if due + timedelta(days=offset) == outcome.last_day]
            assert count == len(due_that_day)
    # The first notices' counts keep their meaning: one per boleto, every one sent.
    assert stages.notice_counts(engine)["sent"] == ROWS
    assert stages.reminder_counts(engine)["sent"] == len(expected)


def test_rerunning_a_day_sends_nothing_more(engine, settings, tmp_path):
    spread_file(engine, settings, tmp_path, rows=60)
    day = FIRST_DUE  # the D0 of the first due date, the D-3 of the fourth
    first = stages.remind_stage(engine, settings, now=at(day))
    assert first.delivery.sent == sum(first.created.values()) > 0
    again = stages.remind_stage(engine, settings, now=at(day, 14))
    assert again.covered_before and again.created == {} and again.delivery.sent == 0
    assert len(reminder_rows(engine)) == first.delivery.sent


def test_a_two_day_outage_is_caught_up_once_with_the_latest_kind(engine, settings, tmp_path):
    spread_file(engine, settings, tmp_path)
    boletos = boletos_of(engine)
    offsets = settings.reminder_offset_days
    last_before, back = FIRST_DUE + timedelta(days=10), FIRST_DUE + timedelta(days=13)
    run_days(engine, settings, FIRST_DUE - timedelta(days=5), last_before)
    before = set(reminder_rows(engine))

    caught_up = stages.remind_stage(engine, settings, now=at(back))  # the two days between were missed

    assert (caught_up.first_day, caught_up.last_day) == (last_before + timedelta(days=1), back)
    new = set(reminder_rows(engine)) - before
    expected = set()
    for debt_id, (due, _) in boletos.items():
        in_window = [o for o in offsets if last_before < due + timedelta(days=o) <= back]
        if not in_window:
            continue
        latest = max(in_window)
        side = (back - due).days
        if (latest < 0) == (side < 0) and (latest == 0) == (side == 0):
            expected.add((debt_id, kind(latest), "sent"))
    assert new == expected
    assert len({debt_id for debt_id, _, _ in new}) == len(new)  # one reminder per debt
    assert not any(k == "reminder_d-3" and boletos[d][0] <= back for d, k, _ in new)  # no "vence em" once due

    # The schedule's late ticks for the missed days, and a replay of one of them, change nothing.
    for missed in (last_before + timedelta(days=1), last_before + timedelta(days=2)):
        late = stages.remind_stage(engine, settings, day=missed, now=at(back, 9))
        assert late.covered_before and late.delivery.sent == 0
        replay = stages.remind_stage(engine, settings, now=at(missed))
        assert replay.covered_before and replay.delivery.sent == 0
    assert set(reminder_rows(engine)) == before | new


def test_a_run_for_a_day_to_come_is_refused(engine, settings):
    with pytest.raises(stages.FutureDay, match="has not come yet"):
        stages.remind_stage(engine, settings, day=date(2026, 1, 6), now=at(date(2026, 1, 5)))


def test_boletos_paid_through_a_retorno_are_not_reminded(engine, settings, tmp_path):
    spread_file(engine, settings, tmp_path, rows=60)
    remessa = stages.remessa_stage(engine, settings)
    data = remessa.path.read_bytes()
    titles = remessa_titles(data)
    answers = [Answer(title, "02") for title in titles]
    paid_titles = titles[::2]
    answers += [Answer(title, "06", paid_cents=title.amount_cents, paid_on=ISSUED_ON) for title in paid_titles]
    retorno = tmp_path / "CN02016A.RET"
    retorno.write_bytes(build_retorno(data, answers, nsa=1, generated_on=date(2026, 1, 5)))
    registration = stages.register_retorno(engine, settings, retorno, received_via=ReceivedVia.PROCESS,
                                           keep_original=True)
    assert stages.retorno_stage(engine, settings, registration.file_id).by_status["paid"] == len(paid_titles)
    with engine.connect() as connection:
        paid = {str(debt_id) for (debt_id,) in connection.execute(
            text("SELECT debt_id FROM boleto_states WHERE status = 'paid'"))}
    assert len(paid) == len(paid_titles)

    outcomes = run_days(engine, settings, date(2026, 1, 6), FIRST_DUE + timedelta(days=SPAN_DAYS + 15))

    reminded = {debt_id for debt_id, _ in sent_reminders(engine)}
    assert reminded and not reminded & paid
    assert len(reminded) == 60 - len(paid)
    assert sum(o.skipped.get("paid, written off, rejected or protested", 0) for o in outcomes) == 5 * len(paid)


def test_opted_out_debtors_get_no_reminder_and_suppressed_ones_are_marked(engine, settings, tmp_path):
    settings.suppressions_path.parent.mkdir(parents=True, exist_ok=True)
    spread_file(engine, settings, tmp_path, rows=60)
    day = FIRST_DUE + timedelta(days=3)  # D0 of the 4th due date, D-3 of the 7th, D+1 of the 3rd, ...
    with engine.connect() as connection:
        due_today = [(str(d), e) for d, e in connection.execute(text(
            "SELECT b.debt_id, d.email FROM boletos b JOIN debts d ON d.debt_id = b.debt_id"
            " WHERE b.due_date IN (:a, :b, :c) ORDER BY b.due_date"),
            {"a": day, "b": day + timedelta(days=3), "c": day - timedelta(days=1)})]
    assert len(due_today) == 3
    (opted_debt, opted_email), (suppressed_debt, suppressed_email), (kept_debt, _) = due_today
    assert stages.opt_out(engine, opted_email.upper())
    assert not stages.opt_out(engine, opted_email)  # already
    settings.suppressions_path.write_text(suppressed_email + "\n")

    outcome = stages.remind_stage(engine, settings, now=at(day))

    rows = {debt_id: status for debt_id, _, status in reminder_rows(engine)}
    assert opted_debt not in rows
    assert rows[suppressed_debt] == "suppressed" and rows[kept_debt] == "sent"
    assert outcome.skipped == {"opted out": 1}
    assert outcome.delivery.suppressed == 1
    assert [email for email, _ in stages.opted_out(engine)] == [opted_email.lower()]
    assert stages.opt_in(engine, opted_email) and stages.opted_out(engine) == []


def test_reminders_created_in_the_quiet_hours_wait_for_their_end(engine, settings, tmp_path):
    spread_file(engine, settings, tmp_path, rows=60)
    day = FIRST_DUE
    evening = stages.remind_stage(engine, settings, now=at(day, 21, 30))
    created = sum(evening.created.values())
    assert created > 0 and evening.delivery.sent == 0
    assert evening.held_until == datetime.combine(day + timedelta(days=1), time(8), tzinfo=ZONE)
    assert {status for _, _, status in reminder_rows(engine)} == {"pending"}
    # Nothing goes out until the window ends, whoever asks; the first notices' delivery never sends them.
    assert stages.reminders_waiting(engine, settings, at(day + timedelta(days=1), 7, 59)) == 0
    assert stages.deliver_reminders(engine, settings, at(day + timedelta(days=1), 7, 59)).sent == 0
    assert stages.notify_stage(engine, settings).sent == 0
    assert all(not stages.undelivered(engine, key).total for key in _chunk_keys(engine))

    assert stages.reminders_waiting(engine, settings, at(day + timedelta(days=1), 8, 1)) == created
    morning = stages.deliver_reminders(engine, settings, at(day + timedelta(days=1), 8, 1))
    # The D-3 reminders still say the truth the next morning; the D0 ones ("vence hoje") no longer do.
    assert evening.created == {"reminder_d-3": 1, "reminder_d0": 1}
    assert (morning.sent, morning.suppressed) == (1, 1)
    assert {(k, status) for _, k, status in reminder_rows(engine)} == {("reminder_d-3", "sent"),
                                                                         ("reminder_d0", "suppressed")}


def test_a_reminder_waiting_for_the_quiet_hours_is_dropped_when_its_boleto_is_paid(engine, settings, tmp_path):
    spread_file(engine, settings, tmp_path, rows=60)
    day = FIRST_DUE + timedelta(days=7)  # kinds whose wording still holds the next day: no D0
    evening = stages.remind_stage(engine, settings.replace(reminder_offsets="-3,1,7"), now=at(day, 22))
    assert evening.created == {"reminder_d-3": 1, "reminder_d+1": 1, "reminder_d+7": 1}
    (debt_id, _, _), *_ = reminder_rows(engine)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO boleto_states (debt_id, status) VALUES (:d, 'paid')"), {"d": debt_id})
    stages.deliver_reminders(engine, settings, at(day + timedelta(days=1), 9))
    statuses = {d: status for d, _, status in reminder_rows(engine)}
    assert statuses.pop(debt_id) == "suppressed"
    assert set(statuses.values()) == {"sent"}


def test_a_reminder_held_past_its_day_is_dropped_not_sent_with_stale_wording(engine, settings, tmp_path):
    spread_file(engine, settings, tmp_path, rows=60)
    day = FIRST_DUE + timedelta(days=3)  # D0 of the 4th due date, D-3 of the 7th, D+1 of the 3rd, D+7 of none
    evening = stages.remind_stage(engine, settings, now=at(day, 23))
    assert evening.created == {"reminder_d-3": 1, "reminder_d0": 1, "reminder_d+1": 1}
    # The daemon was down for the night and the morning: the delivery comes three days later.
    late = stages.deliver_reminders(engine, settings, at(day + timedelta(days=3), 10))
    assert (late.sent, late.suppressed) == (1, 2)
    with engine.connect() as connection:
        found = {kind: (status, error) for kind, status, error in connection.execute(text(
            f"SELECT notice_kind, status, last_error FROM outbox WHERE notice_kind <> '{BOLETO_NOTICE}'"))}
    assert found["reminder_d+1"] == ("sent", None)
    for stale in ("reminder_d0", "reminder_d-3"):
        status, error = found[stale]
        assert status == "suppressed" and "held past its day" in error and (day + timedelta(days=3)).isoformat() \
            in error


def test_two_deliveries_claim_disjoint_rows_and_a_lease_expires(engine, settings, tmp_path):
    from billing_pipeline.store import reminders

    spread_file(engine, settings, tmp_path, rows=60)
    day = FIRST_DUE + timedelta(days=20)
    held = stages.remind_stage(engine, settings, now=at(day, 21))
    total = sum(held.created.values())
    assert total >= 4
    morning = at(day + timedelta(days=1), 9)()
    lease = morning + timedelta(minutes=15)
    first = reminders.claim_reminders(engine, morning, lease, 2)
    second = reminders.claim_reminders(engine, morning, lease, 500)
    assert len(first) == 2 and len(second) == total - 2
    assert not {row.id for row in first} & {row.id for row in second}
    assert reminders.claim_reminders(engine, morning, lease, 500) == []
    assert stages.reminders_waiting(engine, settings, lambda: morning) == 0
    # Nothing was sent (a crashed delivery): due again once the lease is over, not before.
    assert stages.reminders_waiting(engine, settings, lambda: lease - timedelta(seconds=1)) == 0
    assert stages.reminders_waiting(engine, settings, lambda: lease) == total


def test_a_delivery_stops_when_the_quiet_hours_start_and_the_rest_waits_for_their_end(engine, settings, tmp_path,
                                                                                      monkeypatch):
    from billing_pipeline.stages import remind
    from billing_pipeline.store import reminders

    monkeypatch.setattr(remind, "CLAIM_BATCH", 2)
    spread_file(engine, settings, tmp_path, rows=60)
    day = FIRST_DUE + timedelta(days=20)
    created = reminders.create_reminders(engine, day, day, settings.reminder_offset_days, None).created
    total = sum(created.values())
    assert total > 2
    ticks = iter([at(day, 19, 59)(), at(day, 20, 0)()])
    outcome = stages.deliver_reminders(engine, settings, lambda: next(ticks))
    assert outcome.sent == 2 and outcome.still_pending == 0
    assert stages.reminders_waiting(engine, settings, at(day + timedelta(days=1), 7, 59)) == 0
    next_morning = at(day + timedelta(days=1), 8)
    assert stages.reminders_waiting(engine, settings, next_morning) == total - 2
    with engine.connect() as connection:
        held = {_moment(value) for (value,) in connection.execute(text(
            f"SELECT not_before FROM outbox WHERE notice_kind <> '{BOLETO_NOTICE}' AND status = 'pending'"))}
    assert held == {next_morning()}


def test_a_mail_server_that_is_down_leaves_the_reminders_for_the_lease_to_expire(engine, settings, tmp_path):
    from billing_pipeline.mail.senders import TransientSendError

    class Down:
        tries = 0

        def send(self, message):
            self.begin(message)

        def begin(self, message):
            Down.tries += 1
            raise TransientSendError("451 try later")

        def finish(self):
            pass

        def close(self):
            pass

    spread_file(engine, settings, tmp_path, rows=60)
    day = FIRST_DUE + timedelta(days=20)
    overdue_kinds = settings.replace(reminder_offsets="1,7,15")  # their wording holds the next day as well
    total = sum(stages.remind_stage(engine, overdue_kinds, now=at(day, 21)).created.values())
    assert total == 3
    morning = at(day + timedelta(days=1), 9)
    outcome = stages.deliver_reminders(engine, settings, morning, sender=Down(), sleep=lambda _: None)
    assert outcome.sent == 0 and outcome.still_pending == total and outcome.last_error == "451 try later"
    assert {status for _, _, status in reminder_rows(engine)} == {"pending"}
    # No new delivery run every minute: the sensor finds nothing due until the lease ends.
    assert stages.reminders_waiting(engine, settings, at(day + timedelta(days=1), 9, 14)) == 0
    assert stages.reminders_waiting(engine, settings, at(day + timedelta(days=1), 9, 15)) == total
    assert stages.deliver_reminders(engine, settings, at(day + timedelta(days=1), 9, 16)).sent == total


def test_two_runs_of_one_day_at_once_create_once_and_never_fail(engine, settings, tmp_path):
    import threading

    spread_file(engine, settings, tmp_path, rows=60)
    day = FIRST_DUE + timedelta(days=3)
    start = threading.Barrier(2)
    outcomes: list[stages.RemindOutcome] = []
    errors: list[BaseException] = []

    def run() -> None:
        start.wait()
        try:
            outcomes.append(stages.remind_stage(engine, settings, now=at(day)))
        except BaseException as error:  # noqa: BLE001 - asserted below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(outcome.covered_before for outcome in outcomes) == [False, True]
    created = sum(sum(outcome.created.values()) for outcome in outcomes)
    assert created == 3 and sum(outcome.delivery.sent for outcome in outcomes) == created
    assert {status for _, _, status in reminder_rows(engine)} == {"sent"}


def test_a_conflicting_run_record_reports_the_day_covered(engine, settings, monkeypatch):
    from sqlalchemy.exc import IntegrityError

    from billing_pipeline.store import reminders

    def conflict(*_args, **_kwargs):
        raise IntegrityError("INSERT INTO reminder_runs", {}, Exception("UNIQUE constraint failed: reminder_runs.day"))

    monkeypatch.setattr(reminders, "_create_reminders", conflict)
    run = reminders.create_reminders(engine, FIRST_DUE, FIRST_DUE, (0,), None)
    assert run.covered_before and run.created == {}


def _moment(value) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def test_a_reminder_day_not_after_the_issue_day_is_left_to_the_first_notice(engine, settings, tmp_path):
    spread_file(engine, settings, tmp_path, rows=60)
    # D-3 of the due dates up to ISSUED_ON + 3 falls on or before the issue day: none exist here, so move one.
    with engine.begin() as connection:
        debt_id = str(connection.execute(text("SELECT debt_id FROM boletos ORDER BY due_date LIMIT 1")).scalar())
        connection.execute(text("UPDATE boletos SET due_date = :d WHERE debt_id = :id"),
                           {"d": ISSUED_ON + timedelta(days=2), "id": debt_id})
    stages.remind_stage(engine, settings, now=at(ISSUED_ON - timedelta(days=1)))  # a run before: covered since
    run_days(engine, settings, ISSUED_ON, ISSUED_ON + timedelta(days=3))
    kinds = {k for d, k, _ in reminder_rows(engine) if d == debt_id}
    assert kinds == {"reminder_d0", "reminder_d+1"}


def _chunk_keys(engine) -> list[str]:
    with engine.connect() as connection:
        return [key for (key,) in connection.execute(text("SELECT chunk_key FROM chunks"))]
