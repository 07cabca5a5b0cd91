"""Cancel: an operator withdraws one boleto. One the bank never saw is written off at once; one it knows is
written off by a baixa in the next remessa; a paid, protested or rejected one has nothing left to cancel."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from billing_pipeline.settings import Settings
from billing_pipeline.statuses import BoletoStatus
from billing_pipeline.store.boleto_events import CancelResult, cancel

_MESSAGES = {
    CancelResult.WRITTEN_OFF: "written off: it was never sent to the bank, so no baixa is needed",
    CancelResult.BAIXA_REQUESTED: "baixa requested: it goes to the bank in the next remessa",
    CancelResult.ALREADY_REQUESTED: "already cancelled: its baixa is {baixa}",
    CancelResult.ALREADY_WRITTEN_OFF: "already written off: nothing to do",
    CancelResult.REFUSED: "cannot be cancelled: it is {status}",
}


class BoletoNotCancellable(Exception):
    """The boleto is paid, protested or was rejected by the bank: there is nothing to cancel. The message says
    which."""


@dataclass(frozen=True)
class CancelOutcome:
    debt_id: str
    result: CancelResult
    status: BoletoStatus  # where the boleto stands now
    message: str  # the sentence to show

    @property
    def changed(self) -> bool:
        return self.result in (CancelResult.WRITTEN_OFF, CancelResult.BAIXA_REQUESTED)


def cancel_boleto(engine: Engine, settings: Settings, debt_id: str) -> CancelOutcome:
    """Idempotent: cancelling again changes nothing and says where the boleto stands. Raises LookupError for a
    debt without a boleto, and BoletoNotCancellable for one that is paid, protested or rejected by the bank."""
    decision = cancel(engine, debt_id)
    baixa = f"sent in remessa NSA {decision.baixa_nsa}" if decision.baixa_nsa else "queued for the next remessa"
    status = decision.status.value.replace("_", " ")
    message = f"boleto of debt {debt_id} " + _MESSAGES[decision.result].format(baixa=baixa, status=status)
    if decision.result == CancelResult.REFUSED:
        raise BoletoNotCancellable(message)
    return CancelOutcome(debt_id, decision.result, decision.status, message)
