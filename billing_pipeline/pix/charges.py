"""Who issues a boleto's PIX charge: today a static BR Code we compute; later, a dynamic charge from the bank.

A **static** code (what `StaticPixCharges` makes) holds the beneficiary's key, the amount and a txid, all
computed here, so it costs nothing and needs no bank contract. But the bank learns of it only when the money
arrives: it cannot reconcile the payment with the boleto by itself. The payer's app may let them change the
amount, nothing stops a second payment of the same code, and a PIX paid this way does not settle the boleto
at the bank: the boleto stays registered, and payable, until the beneficiary asks for its baixa (`billing
boleto cancel`). The txid (the boleto's nosso número) comes back with the PIX credit in the beneficiary's
statement: that is what matches the two, by hand or by a statement import.

A **dynamic** charge is created through the bank's PIX API (BCB's API Pix: `PUT /cob/{txid}` for an immediate
charge, `PUT /cobv/{txid}` for one with a due date, fine, interest and discount). The bank then returns a
location, and the BR Code carries that URL (field 26.25) instead of the key and the amount; the payer's app
fetches the charge from it, the bank settles it against the txid and notifies the beneficiary (webhook). That
needs a PSP account with API credentials (OAuth2 client and an mTLS certificate), so it is left as the
`PixChargeIssuer` interface below: an implementation calls the API once per boleto, keeps the location, and
returns the payload the bank's location gives.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from billing_pipeline.issued_boleto import IssuedBoleto
from billing_pipeline.pix.brcode import PixReceiver, boleto_brcode, txid


@dataclass(frozen=True)
class PixCharge:
    """What a boleto carries for PIX: the copia-e-cola payload (also drawn as the QR code) and its txid."""

    payload: str
    txid: str


class PixChargeIssuer(Protocol):
    """Issues the PIX charge of one boleto. The same boleto must always get the same charge: PDFs and e-mails are
    rendered again (a rebuilt archive, `billing boleto pdf`), and the code they carry must not change."""

    def charge_for(self, boleto: IssuedBoleto) -> PixCharge: ...


@dataclass(frozen=True)
class StaticPixCharges:
    """Static BR Codes computed here from the receiver's key: no bank call, no automatic reconciliation."""

    receiver: PixReceiver

    def charge_for(self, boleto: IssuedBoleto) -> PixCharge:
        return PixCharge(boleto_brcode(self.receiver, boleto), txid(boleto.nosso_numero))
