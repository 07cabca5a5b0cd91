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
