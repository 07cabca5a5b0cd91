"""Notify: every pending notice of a chunk (or file) composed, sent and marked, one by one.

Each message is marked in the store right after the server accepted it (one commit per message), so a crash
re-sends at most the one message in flight, under the same Message-ID. Transient trouble is retried in place with
exponential backoff and jitter; what is still pending after BILLING_SMTP_MAX_ATTEMPTS is left pending for the
step's retry, and once a few messages in a row have spent their tries the rest of the batch is left pending
untried. A 5xx marks that notice failed with the server's reply and the batch goes on.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta

from sqlalchemy import Engine

from billing_pipeline.boleto import format_linha
from billing_pipeline.charge_terms import instruction_lines
from billing_pipeline.mail.attachments import Attachments
from billing_pipeline.mail.compose import Composed, Notice, compose
from billing_pipeline.mail.delivery import backoff_seconds, load_suppressions, make_sender
from billing_pipeline.mail.links import PUBLIC_PDF_ROUTE as PUBLIC_PDF_ROUTE  # the API serves the links there
from billing_pipeline.mail.links import boleto_link, signature_matches
from billing_pipeline.mail.senders import PermanentSendError, Sender, TransientSendError
from billing_pipeline.money import brazilian_amount
from billing_pipeline.pdf.stamp import brazilian_date
from billing_pipeline.pix.brcode import boleto_brcode
from billing_pipeline.progress_log import ProgressLog
from billing_pipeline.settings import Settings
from billing_pipeline.stages.lookup import boleto_pdf
from billing_pipeline.statuses import NoticeStatus
from billing_pipeline.store import outbox
from billing_pipeline.store.reminders import offset_of

_RECORD_BATCH = 200
# Outcomes accepted within this window are committed together: a crash can then leave at most this window's
# messages sent but unmarked (they would be re-sent under the same Message-ID), in exchange for one commit per
# window instead of one per message.
_RECORD_WINDOW_SECONDS = 0.01
# A step retry waits at most this long (before jitter): the redelivery sensor takes over for longer outages.
STEP_RETRY_CEILING = 600.0
# After this many messages in a row have spent all their tries, the server is taken to be down: the rest of the
# batch is left pending for the step's retry (else a 100,000-notice chunk would wait out every message's backoff).
GIVE_UP_AFTER_MESSAGES = 3


@dataclass
class NotifyOutcome:
    sent: int = 0
    failed: int = 0
    suppressed: int = 0
    still_pending: int = 0
    seconds: float = 0.0
    last_error: str | None = None  # the server's last transient answer for a notice left pending

    @property
    def per_second(self) -> float:
        return self.sent / self.seconds if self.seconds else 0.0


def attachments_for(engine: Engine, settings: Settings) -> Attachments:
    def render_missing(debt_id: str) -> bytes:
        pdf = boleto_pdf(engine, settings, debt_id)
        if pdf is None:
            raise LookupError(f"debt {debt_id} has a notice but no boleto")
        return pdf

    return Attachments(settings.boleto_archive_path, render_missing)


def step_retry_wait(retry: int, settings: Settings) -> float:
    """Seconds before the notifications step's retry number `retry` (1 for the first) while the mail server is down:
    BILLING_SMTP_STEP_RETRY_SECONDS, doubling, with jitter."""
    return backoff_seconds(retry, settings.smtp_step_retry_seconds, STEP_RETRY_CEILING)


def sender_for(settings: Settings) -> Sender:
    return make_sender(settings.smtp_url, settings.smtp_timeout, settings.smtp_rate, settings.outbox_dir)


def notice_for(notice: outbox.OutgoingNotice, settings: Settings | None = None) -> Notice:
    """What the message of an outbox row prints. The BR Code is computed only with a PIX receiver configured, so
    a store without BILLING_PIX_KEY never calls into pix/."""
    boleto = notice.boleto
    original = boleto.original_due_date  # the debt's; the boleto's is later when that had passed or was too near
    receiver = settings.pix_receiver if settings is not None else None
    reminder_days = offset_of(notice.notice_kind)
    terms = boleto.terms
    if reminder_days is not None and terms.discount_until is not None and \
            terms.discount_until < boleto.due_date + timedelta(days=reminder_days):
        terms = replace(terms, discount_basis_points=0, discount_until=None)  # expired by the reminder's day
    # The static BR Code pays the face value only: after the due date it would let a payer skip the fine and the
    # interest the bank charges on the boleto, so overdue reminders leave it out.
    overdue = reminder_days is not None and reminder_days > 0
    return Notice(
        debt_id=boleto.debt_id,
        recipient=notice.recipient,
        name=boleto.payer_name,
        document=boleto.payer_document_label,
        amount=brazilian_amount(boleto.amount_cents),
        due_date=brazilian_date(boleto.due_date),
        linha=format_linha(boleto.linha_digitavel),
        nosso_numero=boleto.nosso_numero,
        original_due_date=brazilian_date(original) if original is not None and original != boleto.due_date else None,
        original_due_date_passed=original is not None and original < boleto.issued_on,
        pix_copia_e_cola=boleto_brcode(receiver, boleto) if receiver is not None and not overdue else None,
        instructions=instruction_lines(terms, boleto.due_date, boleto.amount_cents),
        reminder_days=reminder_days,
    )


def notify_stage(
    engine: Engine,
    settings: Settings,
    chunk_key: str | None = None,
    file_id: str | None = None,
    retry_failed: bool = False,
    sender: Sender | None = None,
    sleep: Callable[[float], None] = time.sleep,
    *,
    progress: Callable[[str], None] | None = None,
) -> NotifyOutcome:
    """Message N+1 is composed while the server works on message N (the sender hands a message over, then
    collects the verdict), and outcomes are committed by a second thread in short batches, so neither adds to the
    time per message. Every row is still marked sent only after the server accepted its message. `progress` is
    told how many of the notices tried now are dealt with every 10 s or 10% (progress_log)."""
    if not retry_failed:
        outbox.create_rows(engine, chunk_key=chunk_key, file_id=file_id)
    rows = outbox.rows_to_send(engine, chunk_key=chunk_key, file_id=file_id,
                               statuses=(NoticeStatus.FAILED,) if retry_failed else (NoticeStatus.PENDING,))
    sender = sender or sender_for(settings)
    try:
        return send_notices(engine, settings, rows, _notices_label(chunk_key, file_id), sender, sleep,
                            progress=progress)
    finally:
        sender.close()


def send_notices(engine: Engine, settings: Settings, rows: list[outbox.OutgoingNotice], label: str,
                 sender: Sender, sleep: Callable[[float], None] = time.sleep, *,
                 progress: Callable[[str], None] | None = None) -> NotifyOutcome:
    """`rows` composed, sent and marked as notify_stage says (first notices and reminders alike). The sender stays
    open: its caller may hand it more batches, and closes it."""
    suppressions = load_suppressions(settings.suppressions_path)
    attachments = attachments_for(engine, settings)
    outcome = NotifyOutcome()
    marks: queue.Queue = queue.Queue()
    errors: list[BaseException] = []

    def record_all() -> None:
        finished = False
        while not finished:
            batch = [marks.get()]
            deadline = time.monotonic() + _RECORD_WINDOW_SECONDS
            while batch[-1] is not None and len(batch) < _RECORD_BATCH:
                try:
                    batch.append(marks.get(timeout=max(deadline - time.monotonic(), 0)))
                except queue.Empty:
                    break
            finished = batch[-1] is None
            try:
                outbox.record(engine, [item for item in batch if item is not None])
            except BaseException as error:  # noqa: BLE001 - handed to the calling thread
                errors.append(error)

    log = ProgressLog(label, len(rows), progress)

    looked_at = 0  # rows the generator below has taken (composed or suppressed)

    def messages():
        nonlocal looked_at
        for row in rows:
            looked_at += 1
            if row.recipient.lower() in suppressions:
                marks.put((outbox.SUPPRESSED, row.id, f"{row.recipient} is on the suppression list"))
                outcome.suppressed += 1
                log.advance()
                continue
            yield row.id, message_for(row, settings, attachments)

    recorder = threading.Thread(target=record_all, name="notify-record", daemon=True)
    started = time.perf_counter()
    recorder.start()
    try:
        pending = messages()
        current = next(pending, None)
        given_up_in_a_row = 0
        while current is not None and not errors:
            row_id, message = current
            error = _attempt(sender.begin, message)
            upcoming = next(pending, None)  # composed while the server works on the message in flight
            error = error or _attempt(sender.finish)
            if error is None:
                marks.put((outbox.SENT, row_id, None))
                outcome.sent += 1
                given_up_in_a_row = 0
            elif isinstance(error, PermanentSendError):
                marks.put((outbox.FAILED, row_id, str(error)))
                outcome.failed += 1
                given_up_in_a_row = 0
            else:
                marks.put((outbox.ATTEMPT_FAILED, row_id, str(error)))
                outcome.last_error = str(error)
                delivered = _deliver(settings, sender, row_id, message, marks, outcome, sleep, first_attempt=2)
                given_up_in_a_row = 0 if delivered else given_up_in_a_row + 1
                if given_up_in_a_row >= GIVE_UP_AFTER_MESSAGES:
                    outcome.still_pending += (upcoming is not None) + len(rows) - looked_at  # not tried
                    break
            log.advance()
            current = upcoming
    finally:
        marks.put(None)
        recorder.join()
        attachments.close()
        outcome.seconds = time.perf_counter() - started
    log.done()
    if errors:
        raise errors[0]
    return outcome


def message_for(row: outbox.OutgoingNotice, settings: Settings, attachments: Attachments) -> Composed:
    """The e-mail of one outbox row, exactly as it is sent. With BILLING_NOTICE_PDF=link it carries the signed link
    of its boleto instead of the PDF, and `attachments` (so the chunk's archive) is never read."""
    notice = notice_for(row, settings)
    if settings.notice_pdf == "link":
        return compose(notice, row.message_id, settings.mail_from, settings.beneficiary_name,
                       settings.beneficiary_contact, settings.is_demo_account,
                       pdf_url=boleto_link(settings.public_url, settings.link_secret, row.boleto.debt_id))
    return compose(notice, row.message_id, settings.mail_from, settings.beneficiary_name,
                   settings.beneficiary_contact, settings.is_demo_account,
                   attachments.pdf(row.chunk_key, row.boleto.debt_id))


def public_link_matches(settings: Settings, debt_id: str, signature: str) -> bool:
    """Whether `signature` is the `sig` of the link that notices carry for this debt (a normalised debt id); False
    while BILLING_LINK_SECRET is not set, as no link was made then."""
    return bool(settings.link_secret) and signature_matches(settings.link_secret, debt_id, signature)


def _notices_label(chunk_key: str | None, file_id: str | None) -> str:
    if chunk_key is not None:
        return f"Notices of chunk {chunk_key}"
    return "Notices" if file_id is None else f"Notices of file {file_id[:12]}"


def _attempt(step: Callable, *args) -> TransientSendError | PermanentSendError | None:
    try:
        step(*args)
    except (TransientSendError, PermanentSendError) as error:
        return error
    return None


def _deliver(settings: Settings, sender: Sender, row_id: int, message, marks: queue.Queue,
             outcome: NotifyOutcome, sleep: Callable[[float], None], first_attempt: int = 1) -> bool:
    """Send with retries, starting at `first_attempt` (the first try may have been made already). False when every
    try met a transient error: the notice stays pending."""
    for attempt in range(first_attempt, settings.smtp_max_attempts + 1):
        if attempt > 1:
            sleep(backoff_seconds(attempt - 1, settings.smtp_backoff_seconds))
        try:
            sender.send(message)
        except PermanentSendError as error:
            marks.put((outbox.FAILED, row_id, str(error)))
            outcome.failed += 1
            return True
        except TransientSendError as error:
            marks.put((outbox.ATTEMPT_FAILED, row_id, str(error)))
            outcome.last_error = str(error)
            continue
        marks.put((outbox.SENT, row_id, None))
        outcome.sent += 1
        return True
    outcome.still_pending += 1
    return False
