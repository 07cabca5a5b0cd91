"""Boletos: a nosso número, due date, barcode and linha digitável for every loaded debt of a chunk."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine

from billing_pipeline.settings import Settings
from billing_pipeline.store.boletos import BoletoOutcome, create_boletos


def boleto_stage(engine: Engine, settings: Settings, chunk_key: str, today: date | None = None) -> BoletoOutcome:
    """Number and store a boleto for every loaded debt of the chunk that has none yet."""
    return create_boletos(engine, chunk_key, settings.account, today or date.today(), settings.min_days_to_due)
