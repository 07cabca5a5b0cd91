"""What a file's boletos have collected: paid (face value and what was actually paid), still open (outstanding or
overdue), rejected by the bank, written off, protested. Through the file's chunk keys, which index boletos."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import Engine, text

from billing_pipeline.boleto_lifecycle import OPEN_STATUSES
from billing_pipeline.statuses import BoletoStatus


@dataclass
class Figure:
    count: int = 0
    amount_cents: int = 0  # face value

    @property
    def amount(self) -> str:
        return _text(self.amount_cents)


@dataclass
class CollectionFigures:
    paid: Figure = field(default_factory=Figure)
    paid_cents: int = 0  # what payers paid: interest and discounts make it differ from the face value
    outstanding: Figure = field(default_factory=Figure)  # issued, sent or registered, not past due
    overdue: Figure = field(default_factory=Figure)  # the same, past due
    rejected_by_bank: Figure = field(default_factory=Figure)
    written_off: Figure = field(default_factory=Figure)
    protested: Figure = field(default_factory=Figure)

    def as_dict(self) -> dict:
        """For a report: each figure's count, cents and amount as text."""
        shown: dict = {}
        for name, value in asdict(self).items():
            if isinstance(value, dict):
                shown[name] = {**value, "amount": _text(value["amount_cents"])}
        shown["paid"]["paid_cents"] = self.paid_cents
        shown["paid"]["paid_amount"] = _text(self.paid_cents)
        return shown


_BUCKETS = {
    BoletoStatus.PAID: "paid",
    BoletoStatus.REGISTRATION_REJECTED: "rejected_by_bank",
    BoletoStatus.WRITTEN_OFF: "written_off",
    BoletoStatus.PROTESTED: "protested",
}


def file_collection(engine: Engine, file_id: str, today: date | None = None) -> CollectionFigures:
    query = text(
        "SELECT COALESCE(s.status, :issued), CASE WHEN b.due_date < :today THEN 1 ELSE 0 END, COUNT(*),"
        " CAST(COALESCE(SUM(ROUND(b.amount * 100)), 0) AS BIGINT),"
        " CAST(COALESCE(SUM(ROUND(s.amount_paid * 100)), 0) AS BIGINT)"
        " FROM boletos b LEFT JOIN boleto_states s ON s.debt_id = b.debt_id"
        " WHERE b.chunk_key IN (SELECT chunk_key FROM chunks WHERE file_id = :f)"
        " GROUP BY 1, 2")
    figures = CollectionFigures()
    with engine.connect() as connection:
        rows = connection.execute(query, {"f": file_id, "today": today or date.today(),
                                          "issued": BoletoStatus.ISSUED.value}).all()
    for status, past_due, count, face_cents, paid_cents in rows:
        if status in OPEN_STATUSES:
            bucket = figures.overdue if past_due else figures.outstanding
        else:
            bucket = getattr(figures, _BUCKETS[BoletoStatus(status)])
        bucket.count += int(count)
        bucket.amount_cents += int(face_cents)
        if status == BoletoStatus.PAID:
            figures.paid_cents += int(paid_cents)
    return figures


def _text(cents: int) -> str:
    """
    >>> _text(123456), _text(5)
    ('1234.56', '0.05')
    """
    return f"{Decimal(cents).scaleb(-2):.2f}"
