"""The outbox: which notice goes to whom, and where each one stands (pending -> sent | failed | suppressed).

A row is marked sent only after the server accepted the message, one commit per message, so a crash leaves at
most the message in flight unmarked; its Message-ID is derived from the debt and the notice, so a resend of it is
recognisable as the same message.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, func, literal_column, select, text

from billing_pipeline.issued_boleto import IssuedBoleto
from billing_pipeline.statuses import NoticeStatus
from billing_pipeline.store.boletos import ISSUED_BOLETO_COLUMNS
from billing_pipeline.store.tables import chunks, outbox

BOLETO_NOTICE = "boleto_issued"
# A literal, not a parameter: the planners then use the partial index outbox_chunk_status (first notices only).
FIRST_NOTICES = f"{{table}}.notice_kind = '{BOLETO_NOTICE}'"
MESSAGE_ID_DOMAIN = "smart-billing.invalid"


def _scope(table: str, chunk_key: str | None, file_id: str | None) -> tuple[list[str], dict[str, object]]:
    """SQL conditions for one chunk (on `table`'s chunk_key), one file (on the joined debts `d`), or both."""
    conditions: list[str] = []
    params: dict[str, object] = {}
    if chunk_key is not None:
        conditions.append(f"{table}.chunk_key = :chunk_key")
        params["chunk_key"] = chunk_key
    if file_id is not None:
        conditions.append("d.file_id = :file_id")
        params["file_id"] = file_id
    return conditions, params


def create_rows(engine: Engine, chunk_key: str | None = None, file_id: str | None = None,
                notice_kind: str = BOLETO_NOTICE) -> int:
    """One pending notice per boleto (of the chunk, of the file, or anywhere) that has none yet.

    Written when delivery starts rather than with the boletos: storing a file's debts and boletos then does not
    also wait on the outbox's indexes. The Message-ID is `<debt_id.notice_kind@MESSAGE_ID_DOMAIN>`, so a resend
    of a notice carries the same one."""
    conditions, params = _scope("b", chunk_key, file_id)
    with engine.begin() as connection:
        return connection.execute(
            text(
                "INSERT INTO outbox (debt_id, notice_kind, chunk_key, recipient, message_id, status, attempts)"
                " SELECT b.debt_id, :kind, b.chunk_key, d.email,"
                " '<' || CAST(b.debt_id AS TEXT) || '.' || :kind || '@' || :domain || '>', :pending, 0"
                " FROM boletos b JOIN debts d ON d.debt_id = b.debt_id"
                f" WHERE {' AND '.join(['true', *conditions])} ON CONFLICT (debt_id, notice_kind) DO NOTHING"
            ),
            {**params, "kind": notice_kind, "domain": MESSAGE_ID_DOMAIN, "pending": NoticeStatus.PENDING.value},
        ).rowcount


@dataclass(frozen=True, slots=True)
class OutgoingNotice:
    id: int
    chunk_key: str
    recipient: str
    message_id: str
    attempts: int
    boleto: IssuedBoleto
    notice_kind: str = BOLETO_NOTICE


def rows_to_send(engine: Engine, chunk_key: str | None = None, file_id: str | None = None,
                 statuses: tuple[NoticeStatus, ...] = (NoticeStatus.PENDING,)) -> list[OutgoingNotice]:
    """First notices in `statuses`, with the boleto their message prints, in the order they were created.
    Reminders go out through stages.remind, never with a chunk's delivery."""
    conditions, params = _scope("o", chunk_key, file_id)
    conditions.append(FIRST_NOTICES.format(table="o"))
    conditions.append(f"o.status IN ({', '.join(f':s{i}' for i in range(len(statuses)))})")
    params.update({f"s{i}": str(status) for i, status in enumerate(statuses)})
    query = text(f"{OUTGOING_NOTICES} WHERE {' AND '.join(conditions)} ORDER BY o.id")
    with engine.connect() as connection:
        return [outgoing_notice(row) for row in connection.execute(query, params).mappings()]


# Outbox rows `o` with the boleto and payer their message prints; a caller adds its WHERE.
OUTGOING_NOTICES = (
    f"SELECT o.id, o.chunk_key, o.recipient, o.message_id, o.attempts, o.notice_kind, {ISSUED_BOLETO_COLUMNS}"
    " FROM outbox o JOIN boletos b ON b.debt_id = o.debt_id JOIN debts d ON d.debt_id = o.debt_id"
)


def outgoing_notice(row: Mapping[Any, Any]) -> OutgoingNotice:
    return OutgoingNotice(row["id"], row["chunk_key"], row["recipient"], row["message_id"], row["attempts"],
                          IssuedBoleto.from_row(row), row["notice_kind"])


# What one try at a notice came to: a final status, or a transient failure that leaves its status as it was.
SENT, FAILED, SUPPRESSED = NoticeStatus.SENT, NoticeStatus.FAILED, NoticeStatus.SUPPRESSED
ATTEMPT_FAILED = "attempt_failed"
_MARKS = {
    SENT: f"UPDATE outbox SET status = '{SENT}', attempts = attempts + 1, last_error = NULL, sent_at = {{now}},"
          " updated_at = {now} WHERE id = :id",
    # A transient failure: the row keeps its status (pending, or failed when retrying) and counts the attempt.
    ATTEMPT_FAILED: "UPDATE outbox SET attempts = attempts + 1, last_error = :detail, updated_at = {now} WHERE id = :id",
    FAILED: f"UPDATE outbox SET status = '{FAILED}', attempts = attempts + 1, last_error = :detail, updated_at = {{now}}"
            " WHERE id = :id",
    SUPPRESSED: f"UPDATE outbox SET status = '{SUPPRESSED}', last_error = :detail, updated_at = {{now}} WHERE id = :id",
}


def record(engine: Engine, marks: list[tuple[str, int, str | None]]) -> None:
    """Apply (mark, row id, detail) outcomes in one transaction, one executemany per kind of mark. A row's failed
    tries always come before its final outcome, so applying every ATTEMPT_FAILED first keeps each row's order."""
    by_kind: dict[str, list[dict]] = {kind: [] for kind in (ATTEMPT_FAILED, SENT, FAILED, SUPPRESSED)}
    for mark, row_id, detail in marks:
        by_kind[mark].append({"id": row_id, "detail": (detail or "")[:1000]})
    with engine.begin() as connection:
        for kind, parameters in by_kind.items():
            if parameters:
                connection.execute(text(_MARKS[kind].format(now="CURRENT_TIMESTAMP")), parameters)


@dataclass(frozen=True)
class Undelivered:
    """What a chunk's delivery has left to do: notices pending, and boletos whose notice was never created (the
    delivery stopped before it started sending)."""

    pending: int
    without_notice: int
    last_error: str | None

    @property
    def total(self) -> int:
        return self.pending + self.without_notice

    @property
    def waits_on_the_mail_server(self) -> bool:
        """Pending notices that a server answered: the rest of the delivery waits on it, not on a bug."""
        return bool(self.pending and self.last_error)


def undelivered(engine: Engine, chunk_key: str) -> Undelivered:
    """One pass over the chunk's first notices (on the chunk_key index) and a count of its boletos. Reminders are
    not the chunk's delivery: one waiting for the quiet hours' end never brings its chunk's redelivery."""
    with engine.connect() as connection:
        pending, notices, last_error = connection.execute(
            text(f"SELECT COALESCE(SUM(CASE WHEN status = '{NoticeStatus.PENDING}' THEN 1 ELSE 0 END), 0),"
                 " COUNT(*),"
                 f" MAX(CASE WHEN status = '{NoticeStatus.PENDING}' THEN last_error END)"
                 f" FROM outbox o WHERE o.chunk_key = :key AND {FIRST_NOTICES.format(table='o')}"),
            {"key": chunk_key},
        ).one()
        issued = connection.execute(
            text("SELECT COUNT(*) FROM boletos WHERE chunk_key = :key"), {"key": chunk_key}
        ).scalar_one()
    return Undelivered(int(pending), max(issued - int(notices), 0), last_error)


def counts(engine: Engine, file_id: str | None = None, chunk_key: str | None = None) -> dict[str, int]:
    """First notices by state (store.reminders.reminder_counts counts the reminders)."""
    query = (select(outbox.c.status, func.count()).where(outbox.c.notice_kind == literal_column(f"'{BOLETO_NOTICE}'"))
             .group_by(outbox.c.status))
    if chunk_key is not None:
        query = query.where(outbox.c.chunk_key == chunk_key)
    if file_id is not None:
        query = query.join(chunks, chunks.c.chunk_key == outbox.c.chunk_key).where(chunks.c.file_id == file_id)
    with engine.connect() as connection:
        found: Counter[str] = Counter(dict(connection.execute(query).all()))
    return {status.value: found.get(status.value, 0) for status in NoticeStatus}
