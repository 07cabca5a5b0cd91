"""Lookups an operator or a client makes (the CLI, later the API): one debt's boleto, where it stands with the bank
and its events, its PDF, notices by state, a file's collection figures."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Engine

from billing_pipeline.boleto.banks import BANKS
from billing_pipeline.boleto.linha import format_linha
from billing_pipeline.boleto_lifecycle import shown_status
from billing_pipeline.government_id import mask
from billing_pipeline.pdf.documents import render_pdfs
from billing_pipeline.settings import Settings
from billing_pipeline.store import outbox
from billing_pipeline.store.boleto_events import boleto_state, events_of
from billing_pipeline.store.boletos import boleto_of, boleto_rows
from billing_pipeline.store.collection import CollectionFigures
from billing_pipeline.store.collection import file_collection as collection_of
from billing_pipeline.store.files import utc


def debt_id_of(raw: str) -> str:
    """A debtId as the store keeps it (a UUID, lower case); raises ValueError with the sentence to show."""
    try:
        return str(uuid.UUID(raw.strip()))
    except ValueError:
        raise ValueError(f"{raw!r} is not a debtId (a UUID)") from None


def boleto_summary(engine: Engine, debt_id: str, today: date | None = None) -> dict[str, str] | None:
    """One debt's boleto as `billing boleto show` prints it; None when the debt has no boleto (yet). `status` is
    where it stands with the bank, `overdue` for an open boleto past its due date."""
    row = boleto_of(engine, debt_id)
    if row is None:
        return None
    state = boleto_state(engine, debt_id)
    due = row["due_date"] if isinstance(row["due_date"], date) else date.fromisoformat(str(row["due_date"]))
    lifecycle = {"status": shown_status(state.status, due, today or date.today())}
    if state.amount_paid is not None:
        lifecycle["amount_paid"] = f"{state.amount_paid:.2f}"
        lifecycle["paid_on"] = str(state.paid_on) if state.paid_on else ""
    if state.baixa_requested_at is not None:
        lifecycle["baixa"] = f"sent in remessa NSA {state.baixa_nsa}" if state.baixa_nsa else "requested"
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
        **lifecycle,
    }


@dataclass(frozen=True)
class BoletoEventView:
    """One event of a boleto's life, as `billing boleto show` lists them."""

    recorded_at: datetime
    kind: str
    status: str | None  # the status it moved the boleto to; None when it moved nothing
    source_kind: str  # remessa, retorno or command
    source: str  # the remessa's file name, the retorno's sha256, the command
    line_number: int | None
    movement_code: str | None
    movement_text: str | None
    reasons: str | None
    reason_texts: str | None
    amount_paid: str | None
    paid_on: str | None
    credited_on: str | None
    fees: str | None


def boleto_events(engine: Engine, debt_id: str) -> list[BoletoEventView]:
    """A boleto's events in the order they were recorded (empty for one never sent nor cancelled)."""
    views = []
    for row in events_of(engine, debt_id):
        texts = {name: None if row[name] is None else str(row[name])
                 for name in ("amount_paid", "paid_on", "credited_on", "fees")}
        if texts["amount_paid"] is not None:
            texts["amount_paid"] = f"{Decimal(texts['amount_paid']):.2f}"
        if texts["fees"] is not None:
            texts["fees"] = f"{Decimal(texts['fees']):.2f}"
        views.append(BoletoEventView(
            utc(row["recorded_at"]), row["kind"], row["status"], row["source_kind"], row["source"], row["line_number"],
            row["movement_code"], row["movement_text"], row["reasons"], row["reason_texts"], **texts))
    return views


def file_collection(engine: Engine, file_id: str, today: date | None = None) -> CollectionFigures:
    """Where a file's boletos stand with the bank: paid, outstanding, overdue, rejected, written off, protested."""
    return collection_of(engine, file_id, today)


def boleto_pdf(engine: Engine, settings: Settings, debt_id: str, today: date | None = None) -> bytes | None:
    """One debt's boleto rendered now, as its chunk's archive holds it; None when the debt has no boleto."""
    boletos = boleto_rows(engine, debt_id=debt_id)
    if not boletos:
        return None
    [(_, pdf)] = render_pdfs(boletos, settings.account, settings.is_demo_account, today or date.today(),
                             settings.pix_receiver)
    return pdf


def notice_counts(engine: Engine, file_id: str | None = None, chunk_key: str | None = None) -> dict[str, int]:
    """Notices by state: of one file, one chunk, or all."""
    return outbox.counts(engine, file_id=file_id, chunk_key=chunk_key)
