"""Reminders as the debtor and the operator see them: the message through a real SMTP server, the schedule and the
quiet-hours sensor of the code location, `billing remind` and `billing optout`, and the readers of the outbox
(a finished file stays finished, counts keep the first notice's meaning)."""

from __future__ import annotations

import email
from datetime import datetime, timedelta
from email import policy
from zoneinfo import ZoneInfo

import dagster as dg

from billing_pipeline import stages
from billing_pipeline.boleto import format_linha
from billing_pipeline.charge_terms import instruction_lines
from billing_pipeline.definitions import defs
from billing_pipeline.defs.reminders.assets import reminder_notices
from billing_pipeline.defs.reminders.schedules import reminder_schedule_for
from billing_pipeline.defs.reminders.sensors import DELIVER_ONLY, reminder_delivery_sensor
from billing_pipeline.mail.compose import Notice, compose
from billing_pipeline.settings import Settings
from billing_pipeline.stages.notify import sender_for
from billing_pipeline.store.boletos import boleto_rows
from billing_pipeline.store.file_progress import file_chunk_progress
from billing_pipeline.store.files import finished_inbox_files
from billing_pipeline_tests.support.in_process import evaluate_sensor, resources_for
from billing_pipeline_tests.support.smtp import SmtpSink
from billing_pipeline_tests.test_reminders import FIRST_DUE, at, reminder_rows, spread_file


def _with(settings: Settings, **overrides) -> Settings:
    return Settings.from_env({}, data_dir=settings.data_dir, database_url=settings.database_url, **overrides)


def _text(message: email.message.EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def test_reminders_through_a_real_smtp_server(engine, settings, tmp_path):
    spread_file(engine, settings, tmp_path, rows=60)  # first notices to the file outbox
    due = {boleto.debt_id: boleto for key in _chunk_keys(engine) for boleto in boleto_rows(engine, chunk_key=key)}
    with SmtpSink() as sink:
        smtp = _with(settings, smtp_url=sink.url)
        for day in (FIRST_DUE - timedelta(days=3), FIRST_DUE, FIRST_DUE + timedelta(days=1)):
            stages.remind_stage(engine, smtp, now=at(day))
        accepted = list(sink.handler.accepted)
    first_due = {debt_id for debt_id, boleto in due.items() if boleto.due_date == FIRST_DUE}
    (debt_id,) = first_due
    boleto = due[debt_id]
    mine = {message["Message-ID"]: message for message in accepted if message["Message-ID"].startswith(f"<{debt_id}")}
    assert set(mine) == {f"<{debt_id}.reminder_d-3@smart-billing.invalid>",
                         f"<{debt_id}.reminder_d0@smart-billing.invalid>",
                         f"<{debt_id}.reminder_d+1@smart-billing.invalid>"}
    shown = boleto.due_date.strftime("%d/%m/%Y")
    before, on, after = (mine[f"<{debt_id}.{kind}@smart-billing.invalid>"]
                         for kind in ("reminder_d-3", "reminder_d0", "reminder_d+1"))
    assert before["Subject"].endswith(f"vence em {shown}") and before["Subject"].startswith("[DEMO] Lembrete")
    assert on["Subject"].endswith("vence hoje")
    assert after["Subject"].endswith(f"venceu em {shown}")
    for message in (before, on, after):
        body = _text(message)
        assert format_linha(boleto.linha_digitavel) in body
        assert "total" not in body.lower()
        (pdf,) = [part for part in message.iter_attachments() if part.get_content_type() == "application/pdf"]
        assert pdf.get_filename() == f"boleto-{debt_id}.pdf"
        assert pdf.get_content().startswith(b"%PDF")
    overdue = _text(after)
    assert "venceu em" in overdue and "ainda não consta como pago" in overdue
    for line in instruction_lines(boleto.terms, boleto.due_date, boleto.amount_cents):
        assert line in overdue


def test_an_overdue_reminder_states_the_charge_rules_and_no_total():
    rules = ("Após o vencimento, multa de 2,00%.", "Juros de mora de 1,00% ao mês (R$ 0,33 por dia).")
    notice = Notice("d1", "maria@example.com", "Maria", "CPF ***.982.247-**", "1.000,00", "10/01/2026",
                    "23790.00009 00000.000000 00000.000000 1 00000000100000", "123", instructions=rules,
                    reminder_days=7, pix_copia_e_cola="00020126580014BR.GOV.BCB.PIX")
    composed = compose(notice, "<d1.reminder_d+7@smart-billing.invalid>", "Cobrança <c@example.com>", "ACME",
                       "c@example.com", False, b"%PDF-1.7 test")
    message = email.message_from_bytes(composed.data, policy=policy.default)
    assert message["Subject"] == "Seu boleto de ACME venceu em 10/01/2026"
    text, html = (message.get_body(preferencelist=(kind,)).get_content() for kind in ("plain", "html"))
    for body in (text, html):
        assert all(rule in body for rule in rules)
        assert "00020126580014BR.GOV.BCB.PIX" in body
        assert "total" not in body.lower()
    before = compose(Notice(**{**notice.__dict__, "reminder_days": -3}), "<x>", "c@example.com", "ACME", "c", False,
                     b"%PDF")
    assert rules[0] not in email.message_from_bytes(before.data, policy=policy.default).get_body(
        preferencelist=("plain",)).get_content()


def test_reminders_never_make_a_finished_file_look_unfinished(engine, settings, tmp_path):
    stored = spread_file(engine, settings, tmp_path, rows=60)
    assert finished_inbox_files(engine) == [stored.file_id]
    stages.remind_stage(engine, settings, now=at(FIRST_DUE, 23))  # held by the quiet hours: pending
    assert {status for _, _, status in reminder_rows(engine)} == {"pending"}
    assert finished_inbox_files(engine) == [stored.file_id]
    assert all(chunk.pending_notices == 0 for chunk in file_chunk_progress(engine, stored.file_id).chunks)
    counts = stages.notice_counts(engine, file_id=stored.file_id)
    assert counts["sent"] == 60 and counts["pending"] == 0
    assert stages.reminder_counts(engine, file_id=stored.file_id)["pending"] == len(reminder_rows(engine))


def test_the_schedule_runs_at_the_configured_time_and_zone_for_its_day():
    settings = Settings.from_env({}, reminder_time="08:30", reminder_timezone="America/Manaus")
    schedule = reminder_schedule_for(settings)
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("30 8 * * *", "America/Manaus")
    tick = datetime(2026, 1, 5, 8, 30, tzinfo=ZoneInfo("America/Manaus"))
    with dg.build_schedule_context(scheduled_execution_time=tick) as context:
        request = schedule(context)
    assert request.run_config == {"ops": {"reminder_notices": {"config": {"day": "2026-01-05"}}}}
    assert request.tags["billing/reminder_day"] == "2026-01-05"
    assert request.run_key == "remind:2026-01-05"
    assert defs.resolve_schedule_def("reminder_schedule").cron_schedule == reminder_schedule_for().cron_schedule
    assert defs.resolve_job_def("remind").name == "remind"


def test_the_sensor_delivers_what_the_quiet_hours_held(engine, settings, tmp_path, monkeypatch):
    spread_file(engine, settings, tmp_path, rows=60)
    # Overdue kinds only: delivered today (long after their day) they still say the truth; "vence hoje" would not.
    stages.remind_stage(engine, _with(settings, reminder_offsets="1,7,15"), now=at(FIRST_DUE + timedelta(days=20), 21))
    held = len(reminder_rows(engine))
    assert held > 0
    # Long after the window (the test's days are in the past) and without quiet hours now, whatever the wall clock.
    monkeypatch.setenv("BILLING_QUIET_HOURS", "off")  # the sensor's resource reads the environment
    awake = _with(settings, quiet_hours="off")
    instance = dg.DagsterInstance.ephemeral()
    result = evaluate_sensor(reminder_delivery_sensor, instance, awake)
    (request,) = result.run_requests
    assert request.run_config == DELIVER_ONLY
    done = dg.materialize([reminder_notices], run_config=request.run_config, instance=instance,
                          resources=resources_for(awake))
    (materialization,) = done.asset_materializations_for_node(reminder_notices.op.name)
    assert materialization.metadata["sent"].value == held
    assert {status for _, _, status in reminder_rows(engine)} == {"sent"}
    assert evaluate_sensor(reminder_delivery_sensor, instance, awake).skip_reason


def test_billing_remind_and_optout(engine, billing_env, cli, tmp_path, monkeypatch):
    monkeypatch.setenv("BILLING_QUIET_HOURS", "off")  # the CLI keeps the wall clock's time of day
    spread_file(engine, billing_env, tmp_path, rows=60)
    day = FIRST_DUE.isoformat()
    first = cli("remind", "--today", day).json
    assert first["day"] == day and first["covered_from"] == day and first["covered_before"] is False
    assert sum(first["created"].values()) == first["sent"] > 0
    again = cli("remind", "--today", day, json=False)
    assert again.out.splitlines()[0].startswith(f"reminders for {day}: the days up to {day} were covered")
    assert again.out.splitlines()[-1] == "sent 0, failed 0, suppressed 0, still pending 0"
    next_day = cli("remind", "--today", (FIRST_DUE + timedelta(days=1)).isoformat(), json=False)
    assert next_day.out.startswith(f"reminders for {(FIRST_DUE + timedelta(days=1)).isoformat()} (days ")

    assert cli("optout", "Maria@Example.com", json=False).out.startswith("maria@example.com: no more reminders")
    assert "opted out already" in cli("optout", "maria@example.com", json=False).out
    assert cli("optout", "--list").json[0]["email"] == "maria@example.com"
    assert "reminders again" in cli("optout", "--undo", "maria@example.com", json=False).out
    assert cli("optout", "--list").json == []

    tomorrow = (datetime.now(ZoneInfo("America/Sao_Paulo")) + timedelta(days=1)).date().isoformat()
    future = cli("remind", "--today", tomorrow, json=False, check=False)
    assert future.status == 2 and f"--today {tomorrow} has not come yet" in future.err
    assert len(reminder_runs(engine)) == 2  # the two days above; none recorded for tomorrow
    for bad in (("remind", "--today", "2026-13-01"), ("remind", "--today", "2999-01-01"),
                ("optout", "not-an-address"), ("optout",)):
        refused = cli(*bad, json=False, check=False)
        assert refused.status == 2, bad
        assert refused.err.startswith("error: ") and len(refused.err.strip().splitlines()) == 1, refused.err
        assert "Traceback" not in refused.err


def test_a_remind_run_acting_as_a_day_to_come_is_refused(engine, settings):
    tomorrow = (datetime.now(settings.reminder_zone) + timedelta(days=1)).date().isoformat()
    result = dg.materialize([reminder_notices], instance=dg.DagsterInstance.ephemeral(),
                            resources=resources_for(settings), raise_on_error=False,
                            run_config={"ops": {"reminder_notices": {"config": {"day": tomorrow, "as_today": True}}}})
    assert not result.success
    (failure,) = [event for event in result.all_events if event.is_step_failure]
    assert "has not come yet" in failure.step_failure_data.error.message
    assert reminder_runs(engine) == []


def test_deliveries_side_by_side_never_send_a_reminder_twice(engine, settings, tmp_path, monkeypatch):
    from billing_pipeline.stages import remind

    monkeypatch.setattr(remind, "CLAIM_BATCH", 2)
    spread_file(engine, settings, tmp_path, rows=60)
    day = FIRST_DUE + timedelta(days=20)
    held = stages.remind_stage(engine, _with(settings, reminder_offsets="1,7,15"), now=at(day, 21))
    total = sum(held.created.values())
    assert total == 3
    morning = at(day + timedelta(days=1), 9)
    with SmtpSink() as sink:
        smtp = _with(settings, smtp_url=sink.url)
        others: list[stages.NotifyOutcome] = []

        class SecondDeliveryMeanwhile:
            """The first delivery's sender: while its first claimed batch is on the wire, a second delivery (the
            sensor's run, say) runs to its end, and a third finds nothing left."""

            def __init__(self) -> None:
                self.inner = sender_for(smtp)

            def send(self, message):
                self.begin(message)
                self.finish()

            def begin(self, message):
                if not others:
                    others.append(stages.deliver_reminders(engine, smtp, morning))
                    others.append(stages.deliver_reminders(engine, smtp, morning))
                self.inner.begin(message)

            def finish(self):
                self.inner.finish()

            def close(self):
                self.inner.close()

        first = stages.deliver_reminders(engine, smtp, morning, sender=SecondDeliveryMeanwhile())
        ids = [message["Message-ID"] for message in sink.handler.accepted]
    reminder_ids = [mid for mid in ids if ".reminder_d" in mid]
    assert len(reminder_ids) == len(set(reminder_ids)) == total
    assert (first.sent, others[0].sent, others[1].sent) == (2, total - 2, 0)
    assert {status for _, _, status in reminder_rows(engine)} == {"sent"}


def reminder_runs(engine) -> list[str]:
    from sqlalchemy import text

    with engine.connect() as connection:
        return [str(day) for (day,) in connection.execute(text("SELECT day FROM reminder_runs ORDER BY day"))]


def _chunk_keys(engine) -> list[str]:
    from sqlalchemy import text

    with engine.connect() as connection:
        return [key for (key,) in connection.execute(text("SELECT chunk_key FROM chunks"))]

