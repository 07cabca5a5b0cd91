"""Lookups an operator or a client makes (the CLI, later the API): one debt's boleto, its PDF, notices by state."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from sqlalchemy import Engine

from billing_pipeline.boleto.banks import BANKS
from billing_pipeline.boleto.linha import format_linha
from billing_pipeline.government_id import mask
from billing_pipeline.pdf.documents import render_pdfs
from billing_pipeline.settings import Settings
from billing_pipeline.store import outbox
from billing_pipeline.store.boletos import boleto_of, boleto_rows


def debt_id_of(raw: str) -> str:
    """A debtId as the store keeps it (a UUID, lower case); raises ValueError with the sentence to show."""
    try:
        return str(uuid.UUID(raw.strip()))
    except ValueError:
        raise ValueError(f"{raw!r} is not a debtId (a UUID)") from None


def boleto_summary(engine: Engine, debt_id: str) -> dict[str, str] | None:
    """One debt's boleto as `billing boleto show` prints it; None when the debt has no boleto (yet)."""
    row = boleto_of(engine, debt_id)
    if row is None:
        return None
    return {
        "debt_id": str(row["debt_id"]),
        "bank": f"{row['bank_code']} {BANKS[row['bank_code']].name}",
        "linha_digitavel": format_linha(row["linha_digitavel"]),
        "barcode": row["barcode"],
        "nosso_numero": row["nosso_numero"],
        "due_date": str(row["due_date"]),
        "original_due_date": str(row["original_due_date"]),
        "amount": f"{Decimal(str(row['amount'])):.2f}",
        "payer": row["name"],
        "payer_document": mask(row["government_id"]),
    }


def boleto_pdf(engine: Engine, settings: Settings, debt_id: str, today: date | None = None) -> bytes | None:
    """One debt's boleto rendered now, as its chunk's archive holds it; None when the debt has no boleto."""
    boletos = boleto_rows(engine, debt_id=debt_id)
    if not boletos:
        return None
    [(_, pdf)] = render_pdfs(boletos, settings.account, settings.is_demo_account, today or date.today())
    return pdf


def notice_counts(engine: Engine, file_id: str | None = None, chunk_key: str | None = None) -> dict[str, int]:
    """Notices by state: of one file, one chunk, or all."""
    return outbox.counts(engine, file_id=file_id, chunk_key=chunk_key)
