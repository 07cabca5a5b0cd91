"""Boleto rows: numbered and written in one transaction per chunk, idempotently (one boleto per debt)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import Engine, RowMapping, func, select, text, update

from billing_pipeline.boleto.account import BeneficiaryAccount
from billing_pipeline.boleto.vectorized import boleto_due_dates, boleto_numbers
from billing_pipeline.charge_terms import ChargePolicy
from billing_pipeline.issued_boleto import IssuedBoleto
from billing_pipeline.money import format_cents
from billing_pipeline.store.bulk import copy_frame
from billing_pipeline.store.sequences import allocate
from billing_pipeline.store.tables import boletos, chunks, debts, source_files

WRITTEN_COLUMNS = ["debt_id", "barcode", "linha_digitavel"]


@dataclass(frozen=True)
class BoletoOutcome:
    created: int
    total: int
    # The numbers of the boletos created now, exactly as written (COPY stores CHAR(44)/CHAR(47) text unchanged).
    written: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=WRITTEN_COLUMNS), compare=False)


def create_boletos(
    engine: Engine, chunk_key: str, account: BeneficiaryAccount, today: date, min_days_to_due: int
) -> BoletoOutcome:
    with engine.begin() as connection:
        # A debt's boleto is only ever written for its own chunk, so a chunk without any boleto (its first run)
        # needs no anti-join against the whole boletos table.
        numbered_before = connection.execute(
            select(boletos.c.debt_id).where(boletos.c.chunk_key == chunk_key).limit(1)).first() is not None
        # Text and integers only: building UUID, Decimal and date objects for 50,000 rows cost more than the
        # query.
        rows = connection.execute(
            text(
                "SELECT CAST(d.debt_id AS TEXT), CAST(ROUND(d.amount * 100) AS BIGINT), CAST(d.due_date AS TEXT)"
                " FROM debts d"
                + (" LEFT JOIN boletos b ON b.debt_id = d.debt_id" if numbered_before else "")
                + " WHERE d.chunk_key = :chunk_key"
                + (" AND b.debt_id IS NULL" if numbered_before else "")
                + " ORDER BY d.line_number"
            ),
            {"chunk_key": chunk_key},
        ).all()
        written = pd.DataFrame(columns=WRITTEN_COLUMNS)
        if rows:
            debt_ids, all_cents, due_dates = zip(*rows, strict=True)
            first = allocate(connection, account.sequence_name, len(rows))
            sequences = np.arange(first, first + len(rows), dtype=np.int64)
            original = np.array(due_dates, dtype="datetime64[D]")
            due = boleto_due_dates(original, np.datetime64(today, "D"), min_days_to_due)
            cents = np.array(all_cents, dtype=np.int64)
            numbers = boleto_numbers(account, sequences, cents, due)
            new_boletos = pd.DataFrame({
                "debt_id": debt_ids,
                "chunk_key": chunk_key,
                "bank_code": account.bank_code,
                "account_key": account.sequence_name,
                "sequence": sequences,
                "nosso_numero": numbers.nosso_numero,
                "barcode": numbers.barcode,
                "linha_digitavel": numbers.linha_digitavel,
                "amount": format_cents(pd.Series(cents)),
                "due_date": due.astype(str),
                "original_due_date": original.astype(str),
            })
            copy_frame(connection, "boletos", new_boletos)
            written = new_boletos[WRITTEN_COLUMNS]
        total = connection.execute(
            select(func.count()).select_from(boletos).where(boletos.c.chunk_key == chunk_key)
        ).scalar_one()
    return BoletoOutcome(len(rows), int(total), written)


def chunk_boletos(engine: Engine, chunk_key: str) -> pd.DataFrame:
    query = text(
        "SELECT CAST(debt_id AS TEXT), barcode, linha_digitavel FROM boletos WHERE chunk_key = :chunk_key"
    )
    with engine.connect() as connection:
        rows = connection.execute(query, {"chunk_key": chunk_key}).all()
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(WRITTEN_COLUMNS)
    return pd.DataFrame(dict(zip(WRITTEN_COLUMNS, columns, strict=True)))


def file_boleto_count(engine: Engine, file_id: str) -> int:
    """Through the file's chunk keys, which index boletos (debts.file_id has no index)."""
    query = select(func.count()).select_from(boletos).where(
        boletos.c.chunk_key.in_(select(chunks.c.chunk_key).where(chunks.c.file_id == file_id)))
    with engine.connect() as connection:
        return connection.execute(query).scalar_one()


def boleto_of(engine: Engine, debt_id: str) -> RowMapping | None:
    query = (
        select(boletos, debts.c.name, debts.c.government_id, debts.c.email)
        .join(debts, debts.c.debt_id == boletos.c.debt_id)
        .where(boletos.c.debt_id == debt_id)
    )
    with engine.connect() as connection:
        return connection.execute(query).mappings().first()


# The file's charge policy snapshot as one text column ("fine,interest,discount,days"; NULL before migration 0012):
# one lookup on source_files' unique file_id per boleto, and no join the queries using these columns must add.
_CHARGE_POLICY = (
    "(SELECT CAST(f.policy_fine_basis_points AS TEXT) || ',' || CAST(f.policy_interest_monthly_basis_points AS TEXT)"
    " || ',' || CAST(f.policy_discount_basis_points AS TEXT) || ',' || CAST(f.policy_discount_days_before_due AS TEXT)"
    " FROM source_files f WHERE f.file_id = d.file_id) AS charge_policy"
)
# An IssuedBoleto's fields, from boletos `b` joined with debts `d`: IssuedBoleto.from_row resolves the terms.
ISSUED_BOLETO_COLUMNS = (
    "b.debt_id, b.nosso_numero, b.barcode, b.linha_digitavel, b.due_date, b.original_due_date,"
    " b.created_at AS issued_on,"
    " CAST(ROUND(b.amount * 100) AS BIGINT) AS amount_cents, d.name AS payer_name,"
    " d.government_id AS payer_document, d.fine_basis_points, d.interest_monthly_basis_points,"
    f" d.discount_basis_points, d.discount_until, {_CHARGE_POLICY}"
)


def boleto_rows(engine: Engine, chunk_key: str | None = None, debt_id: str | None = None) -> list[IssuedBoleto]:
    """Stored boletos with their payers, in file order: what a boleto document and its notice print."""
    query = text(
        f"SELECT {ISSUED_BOLETO_COLUMNS} FROM boletos b JOIN debts d ON d.debt_id = b.debt_id"
        + (" WHERE b.chunk_key = :key ORDER BY d.line_number" if chunk_key else " WHERE b.debt_id = :key")
    )
    with engine.connect() as connection:
        rows = connection.execute(query, {"key": chunk_key or debt_id}).mappings().all()
    return [IssuedBoleto.from_row(row) for row in rows]


def record_charge_policy(engine: Engine, file_id: str, policy: ChargePolicy) -> None:
    """Snapshot the policy a newly registered file's boletos will carry; a file keeps the first one it got, so a
    re-registration after a settings change does not move the terms of boletos already issued."""
    with engine.begin() as connection:
        connection.execute(
            update(source_files)
            .where(source_files.c.file_id == file_id, source_files.c.policy_fine_basis_points.is_(None))
            .values(policy_fine_basis_points=policy.fine_basis_points,
                    policy_interest_monthly_basis_points=policy.interest_monthly_basis_points,
                    policy_discount_basis_points=policy.discount_basis_points,
                    policy_discount_days_before_due=policy.discount_days_before_due)
        )
