"""One issued boleto with its payer, as the store returns it and the PDF and the e-mail print it.

The same names from the store to the page: the PDF layout's boxes carry the form's own labels (vencimento, valor,
pagador), and pdf/documents.py is the one place that fills them from these fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from billing_pipeline import government_id
from billing_pipeline.charge_terms import ChargeTerms, policy_snapshot, resolve_terms


@dataclass(frozen=True, slots=True)
class IssuedBoleto:
    debt_id: str
    nosso_numero: str  # as printed, with its check digit where the bank has one
    barcode: str  # 44 digits
    linha_digitavel: str  # 47 digits, unformatted
    due_date: date
    issued_on: date
    amount_cents: int
    payer_name: str
    payer_document: str  # a CPF or CNPJ, normalised
    original_due_date: date | None = None  # the debt's own; due_date is later when that had passed or was too near
    terms: ChargeTerms = ChargeTerms()  # fine, interest and discount, resolved when the boleto was issued

    @property
    def payer_document_label(self) -> str:
        """`CPF ***.982.247-**` or `CNPJ 11.222.333/0001-81`: the payer's id as every document prints it.

        >>> IssuedBoleto("", "", "", "", date.min, date.min, 0, "", "52998224725").payer_document_label
        'CPF ***.982.247-**'
        """
        kind = "CNPJ" if len(self.payer_document) == 14 else "CPF"
        return f"{kind} {government_id.mask(self.payer_document)}"

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> IssuedBoleto:
        """From a store row of boletos joined with debts (dates as dates, or ISO text on SQLite): a dict or a
        SQLAlchemy RowMapping, whose keys are typed as column names or column objects, hence Mapping[Any, Any]."""
        return cls(
            debt_id=str(row["debt_id"]),
            nosso_numero=row["nosso_numero"],
            barcode=row["barcode"],
            linha_digitavel=row["linha_digitavel"].strip(),
            due_date=as_date(row["due_date"]),
            issued_on=as_date(row["issued_on"]),
            amount_cents=int(row["amount_cents"]),
            payer_name=row["payer_name"],
            payer_document=government_id.normalise(str(row["payer_document"])),
            original_due_date=as_date(row["original_due_date"]) if row.get("original_due_date") else None,
            terms=_terms(row),
        )


def _terms(row: Mapping[Any, Any]) -> ChargeTerms:
    """The boleto's resolved terms, from the row's overrides and its file's policy snapshot (store.boletos'
    ISSUED_BOLETO_COLUMNS); a row without them (a query that does not ask) has none."""
    if "charge_policy" not in row:
        return ChargeTerms()
    own_until = row.get("discount_until")
    return resolve_terms(
        policy_snapshot(row["charge_policy"]), as_date(row["due_date"]), as_date(row["issued_on"]),
        fine=_points(row.get("fine_basis_points")), interest_monthly=_points(row.get("interest_monthly_basis_points")),
        discount=_points(row.get("discount_basis_points")), discount_until=as_date(own_until) if own_until else None,
    )


def _points(value: object) -> int | None:
    return None if value is None else int(str(value))


def as_date(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])
