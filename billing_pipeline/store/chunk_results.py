"""Write what a chunk's stages decided: validation rejects, then debts loaded set-based and idempotently.

A stage's writes are one transaction, so a run killed anywhere leaves the chunk either before or after the
stage, and re-running the stage replaces (never adds to) what it wrote before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import psycopg
from sqlalchemy import Connection, Engine, RowMapping, func, select, text, update

from billing_pipeline.money import format_cents
from billing_pipeline.rejects import MESSAGES, REJECT_COLUMNS, RejectCode
from billing_pipeline.statuses import ChunkStatus, RejectStage, VerdictKind
from billing_pipeline.store.bulk import copy_frame
from billing_pipeline.store.files import ChunkRef
from billing_pipeline.store.tables import chunks, debts, line_verdicts, rejects
from billing_pipeline.validation.validate import CHARGE_TERMS_COLUMNS, PAYER_ADDRESS_COLUMNS, ChunkValidation

STAGING_COLUMNS = ["debt_id", "government_id", "name", "email", "amount", "due_date", "line_number"]
# Optional: a chunk's frame carries the ones its file has, the rest stay NULL.
PAYER_COLUMNS = list(PAYER_ADDRESS_COLUMNS.values())
_PAYER_DDL = "".join(f", {column} TEXT" for column in PAYER_COLUMNS)
# The row's own charge terms, likewise optional: NULL is the file's policy.
TERMS_COLUMNS = list(CHARGE_TERMS_COLUMNS.values())
_TERMS_DDL = "".join(f", {column} {'DATE' if column == 'discount_until' else 'INTEGER'}" for column in TERMS_COLUMNS)
_OPTIONAL_COLUMNS = PAYER_COLUMNS + TERMS_COLUMNS
_STAGING_DDL = {
    "postgresql": (
        "CREATE TEMP TABLE staging_debts (debt_id uuid, government_id varchar(14), name text, email text,"
        f" amount numeric(12,2), due_date date, line_number integer{_PAYER_DDL}{_TERMS_DDL}) ON COMMIT DROP"
    ),
    "sqlite": (
        "CREATE TEMP TABLE staging_debts (debt_id TEXT, government_id TEXT, name TEXT, email TEXT,"
        f" amount NUMERIC(12,2), due_date DATE, line_number INTEGER{_PAYER_DDL}{_TERMS_DDL})"
    ),
}
# NULL equals NULL here: a debt stored without an address and sent again without one is the same content.
_SAME = {"postgresql": "IS NOT DISTINCT FROM", "sqlite": "IS"}


@dataclass(frozen=True)
class LoadOutcome:
    accepted: int
    duplicates: int
    conflicts: int


def _replace_rejects(connection: Connection, ref: ChunkRef, stage: str, frame: pd.DataFrame) -> None:
    connection.execute(rejects.delete().where(rejects.c.chunk_key == ref.chunk_key, rejects.c.stage == stage))
    if frame.empty:
        return
    rows = pd.DataFrame(
        {
            "file_id": ref.file_id,
            "chunk_key": ref.chunk_key,
            "stage": stage,
            "line_number": frame["line_number"].to_numpy(),
            "column_name": frame["column"].to_numpy(),
            "code": frame["code"].to_numpy(),
            "message": frame["message"].to_numpy(),
            "raw_line": frame["raw_line"].to_numpy(),
        }
    )
    copy_frame(connection, "rejects", rows)


def record_validation(engine: Engine, ref: ChunkRef, validation: ChunkValidation) -> None:
    with engine.begin() as connection:
        _replace_rejects(connection, ref, RejectStage.VALIDATE, validation.rejects)
        _replace_rejects(connection, ref, RejectStage.LOAD, validation.rejects.iloc[0:0])
        connection.execute(
            update(chunks)
            .where(chunks.c.chunk_key == ref.chunk_key)
            .values(status=ChunkStatus.VALIDATED, rejected=validation.rejected_rows,
                    duplicates=len(validation.duplicate_lines), accepted=None, validated_at=func.now())
        )


def load_debts(engine: Engine, ref: ChunkRef, accepted: pd.DataFrame) -> LoadOutcome:
    """Store the chunk's accepted debts set-based: one COPY, or COPY into staging and one INSERT ... ON CONFLICT.

    A debtId already stored by another chunk (this file or an earlier one) is a duplicate when its content is
    identical and a DUPLICATE_CONFLICT reject otherwise; rows stored by this same chunk count as accepted, so
    re-running a chunk gives the same numbers and adds nothing.
    """
    staging = pd.DataFrame(
        {
            "debt_id": accepted["debt_id"],
            "government_id": accepted["government_id"],
            "name": accepted["name"],
            "email": accepted["email"],
            "amount": format_cents(accepted["amount_cents"]),
            "due_date": accepted["due_date"],
            "line_number": accepted["line_number"],
        },
        columns=STAGING_COLUMNS,
    ).assign(**_payer_address(accepted), **_charge_terms(accepted))
    dialect = engine.dialect.name
    with engine.begin() as connection:
        if dialect == "postgresql" and _copied_straight_in(connection, ref, staging):
            clashes: Sequence[RowMapping] = []
        else:
            clashes = _insert_through_staging(connection, ref, staging)

        conflicts = [c for c in clashes if not c["identical"]]
        raw_by_line = dict(zip(accepted["line_number"], accepted["raw_line"], strict=True))
        conflict_rejects = pd.DataFrame(
            [
                {
                    "line_number": c["line_number"],
                    "column": "debtId",
                    "code": RejectCode.DUPLICATE_CONFLICT.value,
                    "message": f"{MESSAGES[RejectCode.DUPLICATE_CONFLICT]}: debtId {c['debt_id']} is already"
                    f" stored with other content (file {str(c['file_id']).strip()[:12]}, line {c['stored_line']})",
                    "raw_line": raw_by_line.get(c["line_number"], ""),
                }
                for c in conflicts
            ],
            columns=REJECT_COLUMNS,
        )
        _replace_rejects(connection, ref, RejectStage.LOAD, conflict_rejects)
        outcome = LoadOutcome(
            accepted=len(staging) - len(clashes),
            duplicates=len(clashes) - len(conflicts),
            conflicts=len(conflicts),
        )
        rejected_lines = connection.execute(
            select(func.count(rejects.c.line_number.distinct())).where(rejects.c.chunk_key == ref.chunk_key)
        ).scalar_one()
        repeated_in_file = connection.execute(
            select(func.count()).where(
                line_verdicts.c.file_id == ref.file_id,
                line_verdicts.c.verdict == VerdictKind.DUPLICATE,
                line_verdicts.c.line_number.between(ref.span.first_line, ref.span.last_line),
            )
        ).scalar_one()
        connection.execute(
            update(chunks)
            .where(chunks.c.chunk_key == ref.chunk_key)
            .values(status=ChunkStatus.LOADED, accepted=outcome.accepted, rejected=rejected_lines,
                    duplicates=repeated_in_file + outcome.duplicates, loaded_at=func.now())
        )
    return outcome


def _payer_address(accepted: pd.DataFrame) -> dict[str, pd.Series]:
    """The address columns the frame has, with None for a missing or empty value (a frame read back from Parquet
    has NaN there, which SQLite would store as a REAL)."""
    return {
        column: accepted[column].astype(object).where(accepted[column].notna() & (accepted[column] != ""), None)
        for column in PAYER_COLUMNS
        if column in accepted
    }


def _charge_terms(accepted: pd.DataFrame) -> dict[str, pd.Series]:
    """The charge terms columns the frame has, as Python ints, text or None: SQLite binds neither pandas' NA nor
    a float NaN of a frame read back from Parquet."""
    found = {}
    for column in TERMS_COLUMNS:
        if column not in accepted:
            continue
        values = accepted[column].to_numpy(dtype=object)
        python: list[object]
        if column == "discount_until":
            python = [None if pd.isna(v) or v == "" else str(v) for v in values]
        else:
            python = [None if pd.isna(v) else int(v) for v in values]
        found[column] = pd.Series(np.array(python, dtype=object), index=accepted.index, dtype=object)
    return found


def stored_debt_ids(engine: Engine, chunk_key: str) -> tuple[int, int]:
    """(rows, distinct debt ids) stored for a chunk: the asset check's evidence that nothing was stored twice."""
    query = select(func.count(), func.count(debts.c.debt_id.distinct())).where(debts.c.chunk_key == chunk_key)
    with engine.connect() as connection:
        rows, distinct = connection.execute(query).one()
    return int(rows), int(distinct)


def _copied_straight_in(connection: Connection, ref: ChunkRef, staging: pd.DataFrame) -> bool:
    """The common case, a chunk's first load with only new debtIds: one COPY straight into debts instead of
    staging + INSERT. Any debtId already stored fails the COPY; the savepoint undoes it and the caller takes the
    staging path, which sorts such rows into duplicates and conflicts."""
    stored_before = select(debts.c.debt_id).where(debts.c.chunk_key == ref.chunk_key).limit(1)
    if connection.execute(stored_before).first() is not None:
        return False
    savepoint = connection.begin_nested()
    try:
        copy_frame(connection, "debts", staging.assign(file_id=ref.file_id, chunk_key=ref.chunk_key))
    except psycopg.errors.UniqueViolation:
        savepoint.rollback()
        return False
    savepoint.commit()
    return True


def _insert_through_staging(connection: Connection, ref: ChunkRef, staging: pd.DataFrame) -> Sequence[RowMapping]:
    """COPY into a temporary staging table, one INSERT ... ON CONFLICT DO NOTHING, then the rows that clashed
    with debts another chunk stored."""
    dialect = connection.dialect.name
    connection.exec_driver_sql("DROP TABLE IF EXISTS staging_debts")
    connection.exec_driver_sql(_STAGING_DDL[dialect])
    copy_frame(connection, "staging_debts", staging)
    payer = ", ".join(_OPTIONAL_COLUMNS)
    inserted = connection.execute(
        text(
            "INSERT INTO debts (debt_id, government_id, name, email, amount, due_date, file_id, chunk_key,"
            f" line_number, {payer}) SELECT debt_id, government_id, name, email, amount, due_date, :file_id,"
            f" :chunk_key, line_number, {payer} FROM staging_debts WHERE true ON CONFLICT (debt_id) DO NOTHING"
        ),
        {"file_id": ref.file_id, "chunk_key": ref.chunk_key},
    ).rowcount
    clashes: Sequence[RowMapping] = []
    # Every row inserted means no debtId was stored before: skip the join, which would otherwise scan the
    # ever-growing debts table.
    if inserted != len(staging):
        connection.exec_driver_sql("ANALYZE staging_debts")
        same_payer = "".join(f" AND d.{c} {_SAME[dialect]} s.{c}" for c in _OPTIONAL_COLUMNS)
        clashes = connection.execute(
            text(
                "SELECT s.line_number, s.debt_id, d.file_id, d.line_number AS stored_line,"
                " CASE WHEN d.government_id = s.government_id AND d.name = s.name AND d.email = s.email"
                f" AND d.amount = s.amount AND d.due_date = s.due_date{same_payer} THEN 1 ELSE 0 END AS identical"
                " FROM staging_debts s JOIN debts d ON d.debt_id = s.debt_id WHERE d.chunk_key <> :chunk_key"
            ),
            {"chunk_key": ref.chunk_key},
        ).mappings().all()
    if dialect == "sqlite":
        connection.exec_driver_sql("DROP TABLE staging_debts")
    return clashes
