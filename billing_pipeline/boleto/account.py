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


@dataclass(frozen=True)
class AccountProblem:
    """Why one attribute of a BeneficiaryAccount cannot issue boletos at its bank.

    `field` is the attribute's name (agencia, conta, carteira, convenio) and `message` the rest of the sentence;
    whoever reads the account from configuration renders the field as its own setting's name.

    >>> problem = AccountProblem("conta", "must be 5 digits for this bank, got '1'")
    >>> str(problem)
    "conta must be 5 digits for this bank, got '1'"
    """

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field} {self.message}"
