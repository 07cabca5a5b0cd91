"""Notices over real SMTP (aiosmtpd): each accepted debt's notice arrives exactly once, whatever the server does."""

from __future__ import annotations

import fcntl
import io
import os
import pty
import re
import selectors
import signal
import struct
import subprocess
import termios
import time

import pikepdf
import pytest
from sqlalchemy import select

from billing_pipeline.boleto import format_linha
from billing_pipeline.mail.rate_limit import RateLimiter
from billing_pipeline.money import brazilian_amount
from billing_pipeline.sample import write_sample
from billing_pipeline.stages.notify import GIVE_UP_AFTER_MESSAGES, notify_stage
from billing_pipeline.store import outbox
from billing_pipeline.store.boletos import boleto_rows
from billing_pipeline.store.tables import outbox as outbox_table
from billing_pipeline_tests.support.cli import billing_command, run_billing
from billing_pipeline_tests.support.files import store_sample, write_sample_file
from billing_pipeline_tests.support.smtp import SmtpSink

ROWS = 30


@pytest.fixture
def sink():
    with SmtpSink() as server:
        yield server


def _prepare(engine, settings, tmp_path, rows=ROWS, seed=41, invalid_rate=0.0):
    """A processed file up to its PDFs, its notices written as delivery starts; returns the file id and its chunk
    keys."""
    sample = write_sample_file(tmp_path / f"debts-{seed}.csv", rows=rows, seed=seed, invalid_rate=invalid_rate)
    stored = store_sample(engine, settings, sample, through="boleto_pdfs")
    for key in stored.chunk_keys:
        assert outbox.create_rows(engine, chunk_key=key) == len(boleto_rows(engine, chunk_key=key))
        assert outbox.create_rows(engine, chunk_key=key) == 0  # once per boleto
    return stored.file_id, stored.chunk_keys


def _smtp(settings, sink, **changes):
    return settings.replace(smtp_url=sink.url, smtp_rate=0, smtp_backoff_seconds=0.01, **changes)


def _statuses(engine) -> dict[str, str]:
    with engine.connect() as connection:
        return dict(connection.execute(select(outbox_table.c.recipient, outbox_table.c.status)).all())


def test_every_accepted_debt_is_received_once_with_its_pdf_and_linha(settings, engine, tmp_path, sink):
    settings = _smtp(settings, sink)
    file_id, [key] = _prepare(engine, settings, tmp_path, invalid_rate=0.1)
    expected = outbox.rows_to_send(engine, chunk_key=key)
    assert len(expected) == ROWS - 3  # 10% deliberate errors never get a notice

    outcome = notify_stage(engine, settings, chunk_key=key)

    assert (outcome.sent, outcome.failed, outcome.still_pending) == (len(expected), 0, 0)
    assert sorted(sink.handler.message_ids) == sorted(row.message_id for row in expected)
    by_id = {m["Message-ID"]: m for m in sink.handler.accepted}
    for row in expected[:10]:
        message = by_id[row.message_id]
        assert message["To"].addresses[0].addr_spec == row.recipient
        assert "R$" not in message["Subject"] and brazilian_amount(row.boleto.amount_cents) not in message["Subject"]
        text = message.get_body(("plain",)).get_content()
        assert format_linha(row.boleto.linha_digitavel) in text
        assert format_linha(row.boleto.linha_digitavel) in message.get_body(("html",)).get_content()
        assert "***." in text or "CNPJ" in text  # masked payer document
        [attachment] = list(message.iter_attachments())
        assert attachment.get_content_type() == "application/pdf"
        with pikepdf.open(io.BytesIO(attachment.get_content())) as pdf:
            assert len(pdf.pages) == 1
    assert set(_statuses(engine).values()) == {"sent"}

    again = notify_stage(engine, settings, chunk_key=key)
    assert again.sent == 0
    assert len(sink.handler.accepted) == len(expected)


def test_451s_and_a_dropped_connection_still_deliver_everything_once(settings, engine, tmp_path, sink):
    settings = _smtp(settings, sink)
    _, [key] = _prepare(engine, settings, tmp_path)
    rows = outbox.rows_to_send(engine, chunk_key=key)
    for row in rows[3:9]:
        sink.handler.temporary_failures[row.message_id] = 2
    sink.handler.drop_after = 25  # DATA #25 is message 12's first try (messages 3-8 take three tries each)

    outcome = notify_stage(engine, settings, chunk_key=key)

    assert (outcome.sent, outcome.still_pending) == (ROWS, 0)
    assert sorted(sink.handler.message_ids) == sorted(row.message_id for row in rows)
    with engine.connect() as connection:
        attempts = dict(connection.execute(select(outbox_table.c.message_id, outbox_table.c.attempts)).all())
    assert [attempts[row.message_id] for row in rows[:13]] == [1, 1, 1, 3, 3, 3, 3, 3, 3, 1, 1, 1, 2]


def test_a_550_fails_that_notice_only_and_retry_failed_resends_it(settings, engine, tmp_path, sink):
    settings = _smtp(settings, sink)
    _, [key] = _prepare(engine, settings, tmp_path)
    rows = outbox.rows_to_send(engine, chunk_key=key)
    refused = rows[7].recipient
    sink.handler.refuse_recipients[refused] = f"550 5.1.1 <{refused}>: mailbox unavailable"

    outcome = notify_stage(engine, settings, chunk_key=key)

    assert (outcome.sent, outcome.failed) == (ROWS - 1, 1)
    statuses = _statuses(engine)
    assert statuses[refused] == "failed"
    with engine.connect() as connection:
        error = connection.execute(
            select(outbox_table.c.last_error).where(outbox_table.c.recipient == refused)).scalar_one()
    assert error.startswith("550 5.1.1") and "mailbox unavailable" in error

    del sink.handler.refuse_recipients[refused]
    retried = notify_stage(engine, settings, retry_failed=True)
    assert (retried.sent, retried.failed) == (1, 0)
    assert sorted(sink.handler.message_ids) == sorted(row.message_id for row in rows)


def test_suppressed_addresses_are_never_written_to(settings, engine, tmp_path, sink):
    settings = _smtp(settings, sink)
    _, [key] = _prepare(engine, settings, tmp_path)
    rows = outbox.rows_to_send(engine, chunk_key=key)
    settings.suppressions_path.write_text(f"# hard bounces\n{rows[0].recipient.upper()}\n")

    outcome = notify_stage(engine, settings, chunk_key=key)

    assert (outcome.sent, outcome.suppressed) == (ROWS - 1, 1)
    assert rows[0].message_id not in sink.handler.message_ids
    assert _statuses(engine)[rows[0].recipient] == "suppressed"


def test_an_unreachable_server_leaves_notices_pending_for_the_step_retry(settings, engine, tmp_path):
    settings = settings.replace(smtp_url="smtp://127.0.0.1:9", smtp_rate=0, smtp_max_attempts=2,
                                   smtp_backoff_seconds=0.01)
    _, [key] = _prepare(engine, settings, tmp_path, rows=3)
    outcome = notify_stage(engine, settings, chunk_key=key)
    assert (outcome.sent, outcome.still_pending) == (0, 3)
    assert outbox.counts(engine, chunk_key=key)["pending"] == 3


def test_the_rate_limit_spaces_messages():
    now = [0.0]
    slept = []
    limiter = RateLimiter(4, clock=lambda: now[0], sleep=lambda s: (slept.append(s), now.__setitem__(0, now[0] + s)))
    for _ in range(5):
        limiter.wait()
    assert slept == pytest.approx([0.25, 0.25, 0.25, 0.25])


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_killed_mid_batch_then_rerun_sends_each_notice_exactly_once(billing_env, engine, tmp_path, sink):
    settings = billing_env.replace(smtp_url=sink.url)
    file_id, [key] = _prepare(engine, settings, tmp_path)
    env = {**os.environ, "BILLING_SMTP_URL": sink.url, "BILLING_SMTP_RATE": "10"}
    worker = subprocess.Popen(billing_command("notify", "--file", file_id), env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)

    # Kill between two messages: the server has accepted N and the store has marked the same N as sent.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        received = len(sink.handler.accepted)
        if received >= 8 and outbox.counts(engine, file_id=file_id)["sent"] == received:
            break
        time.sleep(0.01)
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=30)
    interrupted_at = len(sink.handler.accepted)
    assert 8 <= interrupted_at < ROWS

    rerun = run_billing("notify", "--file", file_id, env={**env, "BILLING_SMTP_RATE": "0"}, json=False, timeout=120)
    assert rerun.out.startswith(f"sent {ROWS - interrupted_at}, failed 0")
    ids = sink.handler.message_ids
    assert len(ids) == len(set(ids)) == ROWS


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_redropping_a_file_sends_nothing_and_the_file_outbox_is_the_default(billing_env, tmp_path, cli):
    source = tmp_path / "debts.csv"
    write_sample(source, rows=12, seed=8)
    first = cli("process", source).json
    assert first["notified"] == 12
    written = sorted(p.name for p in billing_env.outbox_dir.iterdir())
    assert len(written) == 12 and all(name.endswith(".eml") for name in written)

    renamed = tmp_path / "again.csv"
    renamed.write_bytes(source.read_bytes())
    second = cli("process", renamed).json
    assert second["already_received"].endswith("nothing new to do")
    assert second["notified"] is None  # not claimed as sent again
    assert sorted(p.name for p in billing_env.outbox_dir.iterdir()) == written
    assert all(p.stat().st_mtime_ns for p in billing_env.outbox_dir.iterdir())

    assert cli("outbox").json == {"pending": 0, "sent": 12, "failed": 0, "suppressed": 0}


def test_a_server_that_stays_down_is_given_up_on_after_a_few_messages_not_after_every_one(settings, engine, tmp_path):
    settings = settings.replace(smtp_url="smtp://127.0.0.1:9", smtp_rate=0, smtp_max_attempts=3,
                                   smtp_backoff_seconds=0.5)
    _, [key] = _prepare(engine, settings, tmp_path, rows=40)
    waits = []
    outcome = notify_stage(engine, settings, chunk_key=key, sleep=waits.append)
    assert (outcome.sent, outcome.still_pending) == (0, 40)
    assert "cannot connect to" in outcome.last_error
    # Three messages spent their three tries (two waits each); the other 37 were left pending untried.
    assert len(waits) == GIVE_UP_AFTER_MESSAGES * 2
    with engine.connect() as connection:
        attempts = sorted(connection.execute(select(outbox_table.c.attempts)).scalars())
    assert attempts == [0] * 37 + [3] * 3
    assert outbox.counts(engine, chunk_key=key)["pending"] == 40


def test_an_smtp_target_never_prints_its_password():
    from billing_pipeline.mail.smtp_url import parse_smtp_url

    target = parse_smtp_url("smtp+starttls://mailer:s3cr%40t-pw@smtp.example.com:2525")
    assert (target.username, target.password, target.port) == ("mailer", "s3cr@t-pw", 2525)
    for shown in (repr(target), str(target), f"{target}", target.redacted, repr([target])):
        assert "s3cr" not in shown and "%40t-pw" not in shown
    assert "mailer" in repr(target) and target.redacted == "smtp+starttls://mailer:***@smtp.example.com:2525"


def test_notify_stage_tells_its_reporter_at_each_tenth_and_when_done(settings, engine, tmp_path):
    settings = settings.replace(smtp_url="", smtp_rate=0)  # the file outbox
    _, [key] = _prepare(engine, settings, tmp_path, rows=40)
    lines: list[str] = []

    outcome = notify_stage(engine, settings, chunk_key=key, progress=lines.append)

    assert outcome.sent == 40
    assert all(line.startswith(f"Notices of chunk {key}: ") for line in lines)
    assert [line.split(": ")[1].split(" ")[0] for line in lines] == [f"{n}/40" for n in range(4, 41, 4)]
    assert re.fullmatch(r".*: 40/40 \(100%\), [\d,.]+/s, done in \d+ s", lines[-1])


def test_a_delivery_given_up_on_ends_its_progress_with_where_it_stopped(settings, engine, tmp_path):
    settings = settings.replace(smtp_url="smtp://127.0.0.1:9", smtp_rate=0, smtp_max_attempts=1)
    _, [key] = _prepare(engine, settings, tmp_path, rows=20)
    lines: list[str] = []

    outcome = notify_stage(engine, settings, chunk_key=key, sleep=lambda _: None, progress=lines.append)

    assert outcome.still_pending == 20
    # The first two messages spent their one try; the third one's made it give up, the rest were left untried.
    assert re.fullmatch(rf"Notices of chunk {key}: 2/20 \(10%\), [\d,.]+/s, stopped after \d+ s", lines[-1])


PROGRESS_LINE = re.compile(r"Notices of file [0-9a-f]{12}: [\d,]+/300 \(\d+%\), [\d,.]+/s, (ETA .+|done in \d+ s)")


def _file_outbox_environment() -> dict[str, str]:
    """This process's environment (billing_env's store and data folder), mail to the file outbox at no rate."""
    return {**{name: value for name, value in os.environ.items() if name != "BILLING_SMTP_URL"},
            "BILLING_SMTP_RATE": "0"}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_billing_notify_off_a_terminal_prints_progress_lines_on_stderr(billing_env, engine, tmp_path):
    file_id, _ = _prepare(engine, billing_env, tmp_path, rows=300)

    run = run_billing("notify", "--file", file_id, env=_file_outbox_environment(), json=False, timeout=120)

    assert run.out.startswith("sent 300, failed 0, suppressed 0, still pending 0")
    lines = run.err.splitlines()
    assert [line for line in lines if not PROGRESS_LINE.fullmatch(line)] == []
    assert [line.split(": ")[1].split(" ")[0] for line in lines] == [f"{n}/300" for n in range(30, 301, 30)]
    assert lines[-1].startswith(f"Notices of file {file_id[:12]}: 300/300 (100%), ") and "done in" in lines[-1]


def _with_stderr_on_a_terminal(command: list[str], env: dict[str, str], timeout: float = 120) -> tuple[str, str, int]:
    """Runs `command` with its stderr on a pseudo-terminal and its stdout on a pipe: (what the terminal received,
    stdout, exit status)."""
    controller, terminal = pty.openpty()
    # A terminal of no size shows tqdm no room for a bar: give it a real one.
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))
    received = bytearray()
    with subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=terminal) as process, selectors.DefaultSelector() as readable:
        os.close(terminal)
        readable.register(controller, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout
        while True:
            if not readable.select(max(deadline - time.monotonic(), 0)):
                process.kill()
                raise AssertionError(f"{command} wrote to its terminal for more than {timeout} s")
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # EIO: the command closed its end of the terminal
                break
            if not chunk:
                break
            received += chunk
        out = process.stdout.read().decode()
        status = process.wait(timeout=timeout)
    os.close(controller)
    return received.decode(errors="replace"), out, status


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_billing_notify_on_a_terminal_draws_a_bar_instead_of_lines(billing_env, engine, tmp_path):
    file_id, _ = _prepare(engine, billing_env, tmp_path, rows=300)

    drawn, out, status = _with_stderr_on_a_terminal(billing_command("notify", "--file", file_id),
                                                    _file_outbox_environment())

    assert (status, out.splitlines()[0][:9]) == (0, "sent 300,")
    # tqdm redraws the line in place ("\r" then the bar); the terminal itself turns each "\n" into "\r\n".
    bar = re.compile(rf"\rNotices of file {file_id[:12]}: +(\d+)%\|[^\r\n]*\| ([\d,]+)/300 ")
    redraws = bar.findall(drawn)
    assert redraws and redraws[-1] == ("100", "300"), drawn
    assert not PROGRESS_LINE.search(drawn)  # no plain lines besides the bar

