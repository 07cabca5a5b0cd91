"""The beneficiary's bank account that issues the boletos: which bank, agência, conta, carteira, convênio."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BeneficiaryAccount:
    bank_code: str
    agencia: str
    conta: str
    carteira: str
    convenio: str
    beneficiary_name: str
    beneficiary_document: str

    @property
    def sequence_name(self) -> str:
        """Nosso número sequences are per issuing account: two accounts may reuse each other's numbers."""
        return f"nosso_numero:{self.bank_code}:{self.agencia}:{self.conta}:{self.carteira}:{self.convenio}"
