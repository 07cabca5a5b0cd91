"""Boletos: a nosso número, due date, barcode and linha digitável for every loaded debt of a chunk, and the proof
that what the store holds is right."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Engine

from billing_pipeline.boleto.vectorized import verify_many
from billing_pipeline.settings import Settings
from billing_pipeline.store.boletos import BoletoOutcome, chunk_boletos, create_boletos
from billing_pipeline.store.chunk_results import stored_debt_ids

SHOWN_INVALID = 10


def boleto_stage(engine: Engine, settings: Settings, chunk_key: str, today: date | None = None) -> BoletoOutcome:
    """Number and store a boleto for every loaded debt of the chunk that has none yet."""
    return create_boletos(engine, chunk_key, settings.account, today or date.today(), settings.min_days_to_due)


@dataclass(frozen=True)
class BoletoVerification:
    checked: int  # boletos whose barcode and linha were verified
    invalid_debt_ids: list[str]  # the first SHOWN_INVALID of those that failed
    invalid: int
    debts: int  # the chunk's stored debts
    boletos: int  # the chunk's boletos
    first_linha: str

    @property
    def numbers_verify(self) -> bool:
        return self.invalid == 0

    @property
    def one_boleto_per_debt(self) -> bool:
        return self.boletos == self.debts


def verify_boletos(engine: Engine, chunk_key: str, outcome: BoletoOutcome) -> BoletoVerification:
    """Every barcode's general check digit verifies and its linha converts back to exactly that barcode: the values
    this run wrote when it wrote them all, else every boleto of the chunk read back from the store."""
    stored = outcome.written if outcome.created == outcome.total else chunk_boletos(engine, chunk_key)
    valid = verify_many(stored["barcode"].to_numpy(dtype=str), stored["linha_digitavel"].to_numpy(dtype=str))
    debts, _ = stored_debt_ids(engine, chunk_key)
    return BoletoVerification(
        checked=len(stored),
        invalid_debt_ids=stored.loc[~valid, "debt_id"].astype(str).head(SHOWN_INVALID).tolist(),
        invalid=int((~valid).sum()),
        debts=debts,
        boletos=outcome.total,
        first_linha=str(stored["linha_digitavel"].iloc[0]) if len(stored) else "",
    )
