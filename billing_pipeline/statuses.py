"""The states a file, a chunk and a notice go through, and the kinds of line verdicts and reject stages.

The store's CHECK constraints hold the same values (billing_pipeline_tests/test_statuses.py compares them), and
reports and the CLI print them as they are.
"""

from __future__ import annotations

from enum import StrEnum


class FileStatus(StrEnum):
    REGISTERED = "registered"  # archived by its sha256, not split yet
    SPLIT = "split"  # cut into chunks; chunks are being stored
    PROCESSED = "processed"  # every chunk loaded; counts rolled up
    REJECTED = "rejected"  # unreadable as a whole (a file-level reject code); nothing of it is stored


class ReceivedVia(StrEnum):
    """How a file's bytes came in; the daemon's sensors follow inbox files only."""

    INBOX = "inbox"  # dropped into the inbox (or `billing submit`): the daemon's runs process it
    PROCESS = "process"  # given to `billing process`, which processes it itself


class ChunkStatus(StrEnum):
    PENDING = "pending"
    VALIDATED = "validated"
    LOADED = "loaded"


class NoticeStatus(StrEnum):
    PENDING = "pending"  # to send, or being retried
    SENT = "sent"  # accepted by the mail server (or written to the file outbox)
    FAILED = "failed"  # refused for good (a 5xx); `billing notify --retry-failed` tries again
    SUPPRESSED = "suppressed"  # the address is on the suppression list: never written to


class VerdictKind(StrEnum):
    """What the whole file says about one of its records (the split decides; validation acts on it)."""

    DUPLICATE = "duplicate"  # an identical earlier copy exists: counted, not stored again
    CONFLICT = "conflict"  # the debtId appears with other content: every copy is rejected
    UNTERMINATED = "unterminated"  # a quoted field runs to the end of the file


class RejectStage(StrEnum):
    """Which stage rejected a row (a chunk's re-run replaces that stage's rejects only)."""

    FILE = "file"  # the file as a whole (a file-level reject code)
    VALIDATE = "validate"
    LOAD = "load"


# Files whose work is over: nothing more will happen to them without a new drop.
FINISHED_FILE_STATUSES = (FileStatus.PROCESSED, FileStatus.REJECTED)


class BoletoStatus(StrEnum):
    """Where a boleto stands with the bank. `boleto_states` holds it; no row there means ISSUED. Overdue is not a
    status: it is shown for a boleto not settled whose due date has passed (boleto_lifecycle.shown_status)."""

    ISSUED = "issued"  # numbered and stored, never sent to the bank in a remessa
    REGISTRATION_SENT = "registration_sent"  # in a remessa (entrada), no retorno about it yet
    REGISTERED = "registered"  # the bank confirmed the entrada (movement 02)
    REGISTRATION_REJECTED = "registration_rejected"  # the bank refused the entrada (03), with its reasons
    PAID = "paid"  # settled (06, or 17 after a write-off)
    WRITTEN_OFF = "written_off"  # baixa: cancelled at the bank (09), or locally before it was ever sent
    PROTESTED = "protested"  # protested at a notary's office (25)


class BoletoEventKind(StrEnum):
    """What happened to a boleto, as its append-only event log (`boleto_events`) records it."""

    REGISTRATION_SENT = "registration_sent"
    REGISTERED = "registered"
    REGISTRATION_REJECTED = "registration_rejected"
    PAID = "paid"
    WRITTEN_OFF = "written_off"
    PROTESTED = "protested"
    BAIXA_REQUESTED = "baixa_requested"  # an operator cancelled a boleto the bank knows: queued for the next remessa
    BAIXA_SENT = "baixa_sent"  # the pedido de baixa went out in a remessa
    PROTEST_SENT = "protest_sent"  # the bank sent the title to the notary (23)
    INSTRUCTION_REJECTED = "instruction_rejected"  # the bank refused an instruction (26, 30)
    FEES_DEBITED = "fees_debited"  # the bank charged its fees (28)
    OTHER = "other"  # any other retorno movement: kept with its code and text, changes no status


class EventSource(StrEnum):
    """Where a boleto event came from; with `source` and the line it names the event once (idempotence)."""

    REMESSA = "remessa"  # a remessa we wrote; source is its file name
    RETORNO = "retorno"  # a retorno the bank sent; source is its sha256
    COMMAND = "command"  # an operator's command (a cancel)


class RetornoStatus(StrEnum):
    REGISTERED = "registered"  # archived by its sha256, not applied yet
    PROCESSED = "processed"  # its movements applied to the boletos
    REJECTED = "rejected"  # unreadable as a CNAB 240 retorno of this account: nothing of it applied
