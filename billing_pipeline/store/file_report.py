"""The file report's numbers: one file's totals, read from the store (rows, rejects by code, amounts, notices)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Engine, text

from billing_pipeline.statuses import FileStatus
from billing_pipeline.store import outbox
from billing_pipeline.store.collection import file_collection
from billing_pipeline.store.files import get_file, reject_codes, utc


def _seconds(start: datetime | str | None, end: datetime | str | None) -> float | None:
    if not start or not end:
        return None
    return max((utc(end) - utc(start)).total_seconds(), 0.0)


def file_report(engine: Engine, file_id: str) -> dict:
    row = get_file(engine, file_id)
    if row is None:
        raise LookupError(f"unknown file {file_id}")
    with engine.connect() as connection:
        # Through the file's chunk keys, which index debts, boletos and outbox (debts.file_id has no index).
        file_chunks = "SELECT chunk_key FROM chunks WHERE file_id = :f"
        debts_count, debts_amount = connection.execute(text(
            f"SELECT COUNT(*), COALESCE(SUM(amount), 0) FROM debts WHERE chunk_key IN ({file_chunks})"),
            {"f": file_id}).one()
        boletos_count, boletos_amount = connection.execute(text(
            f"SELECT COUNT(*), COALESCE(SUM(amount), 0) FROM boletos WHERE chunk_key IN ({file_chunks})"),
            {"f": file_id}).one()
        last_sent = connection.execute(text(
            f"SELECT MAX(sent_at) FROM outbox WHERE chunk_key IN ({file_chunks})"  # the file's delivery, no reminder
            f" AND notice_kind = '{outbox.BOLETO_NOTICE}'"), {"f": file_id}).scalar()
    notices = outbox.counts(engine, file_id=file_id)
    finished = last_sent or row["processed_at"]
    wall = _seconds(row["registered_at"], finished)
    rows = row["rows"] or 0
    rejected_whole = row["status"] == FileStatus.REJECTED
    return {
        "file_id": file_id,
        "original_name": row["original_name"],
        "status": row["status"],
        "error": f"{row['error_code']}: {row['error_message']}" if row["error_code"] else None,
        # A rejected file stops at its first stage; `reason` is the stable code and what to fix.
        "stopped_at": "source_file" if rejected_whole else None,
        "reason": {"code": row["error_code"], "message": row["error_message"]} if rejected_whole else None,
        "rows": rows,
        "accepted": row["accepted"],
        "rejected": row["rejected"],
        "duplicates": row["duplicates"],
        "accounting_holds": row["accepted"] is None
        or (row["accepted"] + row["rejected"] + row["duplicates"] == rows),
        "reject_codes": reject_codes(engine, file_id, row["error_code"] if rejected_whole else None, rows),
        "debts": int(debts_count),
        "debts_amount": str(Decimal(str(debts_amount)).quantize(Decimal("0.01"))),
        "boletos": int(boletos_count),
        "boletos_amount": str(Decimal(str(boletos_amount)).quantize(Decimal("0.01"))),
        "notifications": notices,
        # Where the boletos stand with the bank (remessas and retornos): paid, outstanding, overdue, rejected...
        "collection": file_collection(engine, file_id).as_dict(),
        "wall_seconds": round(wall, 3) if wall is not None else None,
        "rows_per_second": round(rows / wall, 1) if wall and not rejected_whole else None,
    }
