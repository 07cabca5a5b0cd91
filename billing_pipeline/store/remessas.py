"""Remessas: the titles an account owes its bank (entradas never sent, baixas requested), numbered by a per-account
NSA and recorded with their states in the transaction that hands them out.

Set-based throughout, because a remessa may carry a million titles: one COPY out of the pending titles, and the
new states COPYed in. A title goes out once: an entrada is a boleto without a state row, and the remessa gives it
one (registration_sent, with the NSA and P line that are its registration_sent event); a baixa is a state with a
request and no remessa yet, and its baixa_sent is an event row (a handful per remessa). A boleto the bank
rejected stays rejected: sending it again is an operator's decision (after fixing the payer's address, say), not
the next remessa's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, func, insert, select, text, update
from upath import UPath

from billing_pipeline.boleto.account import BeneficiaryAccount
from billing_pipeline.charge_terms import resolve_discounts
from billing_pipeline.cnab.identifiers import SEU_NUMERO_WIDTH, company_use, seu_numero
from billing_pipeline.statuses import BoletoEventKind, BoletoStatus, EventSource
from billing_pipeline.storage.location import location
from billing_pipeline.store.boleto_events import Clock, append_events, lock_lifecycle, read_text_frame
from billing_pipeline.store.bulk import copy_frame
from billing_pipeline.store.sequences import allocate
from billing_pipeline.store.tables import boleto_states, remessas, sequences

ENTRADA, BAIXA = "01", "02"  # C004 movement codes (cnab.codes.RemessaMovement)
# The titles frame the CNAB writer takes (cnab.remessa.REMESSA_COLUMNS), with the debt it is for.
TITLE_COLUMNS = ["movement", "sequence", "document_number", "company_use", "due_date", "issued_on", "amount_cents",
                 "payer_document", "payer_name", "address", "district", "cep", "city", "uf", "fine_basis_points",
                 "interest_monthly_basis_points", "discount_basis_points", "discount_until"]
_ADDRESS_PARTS = ["address", "cep", "city", "uf"]  # what a bank needs to register a title (segment Q)

_PENDING_COLUMNS = ["movement", "sequence", "debt_id", "due_date", "issued_on", "amount_cents", "payer_document",
                    "payer_name", "address", "district", "cep", "city", "uf", "fine_basis_points",
                    "interest_monthly_basis_points", "discount_basis_points", "own_discount_until",
                    "discount_days_before_due"]
# Text and integers only, as COPY writes them: no UUID, Decimal or date object is built for a million rows.
_TITLE_FIELDS = (
    "b.sequence, CAST(b.debt_id AS TEXT) AS debt_id, CAST(b.due_date AS TEXT),"
    " SUBSTR(CAST(b.created_at AS TEXT), 1, 10), CAST(ROUND(b.amount * 100) AS BIGINT), d.government_id, d.name, COALESCE(d.payer_address, ''),"
    " COALESCE(d.payer_district, ''), COALESCE(d.payer_zip_code, ''), COALESCE(d.payer_city, ''),"
    " COALESCE(d.payer_state, ''),"
    # The charge terms as charge_terms.resolve_terms resolves them (the row's, else its file's policy snapshot),
    # but for the discount's date, which needs the boleto's due date: resolved after the read.
    " COALESCE(d.fine_basis_points, f.policy_fine_basis_points, 0),"
    " COALESCE(d.interest_monthly_basis_points, f.policy_interest_monthly_basis_points, 0),"
    " COALESCE(d.discount_basis_points, f.policy_discount_basis_points, 0), COALESCE(CAST(d.discount_until AS TEXT), ''),"
    " COALESCE(f.policy_discount_days_before_due, 0)"
)
# Entradas: the account's boletos without a state (never sent). Baixas: requested and not sent yet (a partial index
# holds exactly those). In nosso número order, as the file lists them.
_PENDING = (
    f"SELECT * FROM (SELECT '{ENTRADA}' AS movement, {_TITLE_FIELDS} FROM boletos b"
    " JOIN debts d ON d.debt_id = b.debt_id JOIN source_files f ON f.file_id = d.file_id"
    " WHERE b.account_key = :account_key AND NOT EXISTS (SELECT 1 FROM boleto_states s WHERE s.debt_id = b.debt_id)"
    f" UNION ALL SELECT '{BAIXA}', {_TITLE_FIELDS} FROM boleto_states s JOIN boletos b ON b.debt_id = s.debt_id"
    " JOIN debts d ON d.debt_id = b.debt_id JOIN source_files f ON f.file_id = d.file_id"
    " WHERE s.baixa_requested_at IS NOT NULL AND s.baixa_nsa IS NULL AND b.account_key = :account_key) pending"
    " ORDER BY sequence"
)
_HEX = np.full(256, 0, dtype=np.uint64)
_HEX[np.frombuffer(b"0123456789abcdef", dtype=np.uint8)] = np.arange(16, dtype=np.uint64)
_HEX[np.frombuffer(b"ABCDEF", dtype=np.uint8)] = np.arange(10, 16, dtype=np.uint64)


@dataclass(frozen=True)
class PendingTitles:
    titles: pd.DataFrame  # TITLE_COLUMNS, ordered by sequence
    debt_ids: np.ndarray  # each title's debt, in the same order
    debt_order: np.ndarray  # each title's place in debt_id order (debt_order)

    @property
    def entradas(self) -> int:
        return int((self.titles["movement"] == ENTRADA).sum())

    @property
    def baixas(self) -> int:
        return int((self.titles["movement"] == BAIXA).sum())

    @property
    def missing_address(self) -> int:
        """Entradas without a complete address: sent anyway, the bank accepts or rejects them."""
        entradas = self.titles[self.titles["movement"] == ENTRADA]
        return int((entradas[_ADDRESS_PARTS] == "").any(axis=1).sum())


def pending_titles(connection: Connection, account_key: str) -> PendingTitles:
    frame = read_text_frame(connection, _PENDING, {"account_key": account_key}, _PENDING_COLUMNS)
    sequences = frame["sequence"].to_numpy().astype(np.int64)
    debt_ids = frame["debt_id"].to_numpy()
    due = frame["due_date"].to_numpy().astype("datetime64[D]")
    issued = frame["issued_on"].to_numpy().astype("datetime64[D]")
    own_until = frame["own_discount_until"].replace("", "NaT").to_numpy().astype("datetime64[D]")
    discount, discount_until = resolve_discounts(_integers(frame["discount_basis_points"]), own_until,
                                                 _integers(frame["discount_days_before_due"]), due, issued)
    titles = pd.DataFrame({
        "movement": frame["movement"],
        "sequence": sequences,
        # seu número is the sequence in decimal, which COPY already wrote: seu_numero only checks its width.
        "document_number": frame["sequence"] if _fits_seu_numero(sequences) else seu_numero(sequences),
        "company_use": company_use(debt_ids),
        "due_date": due,
        "issued_on": issued,
        "amount_cents": frame["amount_cents"].to_numpy().astype(np.int64),
        "payer_document": frame["payer_document"],
        "payer_name": frame["payer_name"],
        "address": frame["address"],
        "district": frame["district"],
        "cep": frame["cep"],
        "city": frame["city"],
        "uf": frame["uf"],
        "fine_basis_points": _integers(frame["fine_basis_points"]),
        "interest_monthly_basis_points": _integers(frame["interest_monthly_basis_points"]),
        "discount_basis_points": discount,
        "discount_until": discount_until,
    })
    return PendingTitles(titles, debt_ids, debt_order(debt_ids))


def _integers(texts: pd.Series) -> np.ndarray:
    # SQLite hands back an integer column as text through read_text_frame; COPY as text too
    return texts.to_numpy().astype(np.int64) if len(texts) else np.zeros(0, dtype=np.int64)


def debt_order(debt_ids: np.ndarray) -> np.ndarray:
    """Each debt's place in (nearly) debt_id order, by the UUID's first 32 bits: the order to COPY new states in,
    since a B-tree fed in key order takes a million rows in half the time, and an integer sort is far cheaper than
    one of a million strings (ties among 2**32 values are too few to matter).

    >>> debt_order(np.array(["f0000000-0000", "0a000000-0000", "0b000000-0000"], dtype=object)).tolist()
    [2, 0, 1]
    """
    if not len(debt_ids):
        return np.zeros(0, dtype=np.int64)
    digits = _HEX[np.asarray(debt_ids, dtype="S8").view(np.uint8).reshape(-1, 8)]
    key = (digits << np.arange(28, -1, -4, dtype=np.uint64)).sum(axis=1)
    order = np.argsort(key, kind="stable")
    places = np.empty(len(order), dtype=np.int64)
    places[order] = np.arange(len(order))
    return places


def _fits_seu_numero(sequences: np.ndarray) -> bool:
    return not len(sequences) or (int(sequences.min()) >= 0 and int(sequences.max()) <= 10**SEU_NUMERO_WIDTH - 1)


def account_name(account: BeneficiaryAccount) -> str:
    """The account as remessa files name it: `<bank>-<agência>-<conta>`, and `-<convênio>` where the bank has one.

    >>> account_name(BeneficiaryAccount("341", "0057", "12345", "109", "", "X", "1"))
    '341-0057-12345'
    """
    parts = [account.bank_code, account.agencia, account.conta] + ([account.convenio] if account.convenio else [])
    return "-".join(parts)


def remessa_name(account: BeneficiaryAccount, nsa: int) -> str:
    """`<bank>-<account>-<NSA>.rem`. Two account keys of one conta (another carteira) would share file names: the
    UNIQUE file_name stops the second before it overwrites the first's file.

    >>> remessa_name(BeneficiaryAccount("341", "0057", "12345", "109", "", "X", "1"), 7)
    '341-0057-12345-000007.rem'
    """
    return f"{account_name(account)}-{nsa:06d}.rem"


@dataclass(frozen=True)
class RecordedRemessa:
    nsa: int
    file_name: str
    path: str
    entradas: int
    baixas: int
    lines: int
    missing_address: int


# What the writer returns: the file's line count, and each title's first (P segment) line number.
RemessaWriter = Callable[[int, str, pd.DataFrame], tuple[str, int, np.ndarray]]


def make_remessa(engine: Engine, account: BeneficiaryAccount, write: RemessaWriter,
                 max_titles: int | Callable[[pd.DataFrame], int],
                 seconds: dict[str, float] | None = None) -> list[RecordedRemessa]:
    """The account's pending titles, in files of at most `max_titles` titles (or as many as `max_titles(titles)`
    says: the CNAB trailer's line count has six digits), each with the next NSA, written by `write(nsa, file_name, titles)` -> (its path, its line count,
    each title's P line) and recorded, all in one transaction: a failure anywhere leaves every title pending and
    no NSA used. Nothing pending: no file, no NSA spent. `seconds` gets the time spent by phase (read, write,
    record, commit)."""
    account_key = account.sequence_name
    recorded: list[RecordedRemessa] = []
    clock = Clock(seconds)
    with engine.begin() as connection:
        lock_lifecycle(connection, account_key)
        if connection.dialect.name == "postgresql":
            # The million-row join hashes in memory rather than in batches on disk.
            connection.exec_driver_sql("SET LOCAL work_mem = '256MB'")
        pending = pending_titles(connection, account_key)
        clock.lap("read")
        # a title's R (its multa) makes it three lines: the writer says how many titles a file of them holds
        per_file = max_titles if isinstance(max_titles, int) else max_titles(pending.titles)
        for start in range(0, len(pending.titles), per_file):
            part = slice(start, start + per_file)
            recorded.append(_record_part(connection, account, PendingTitles(
                pending.titles.iloc[part].reset_index(drop=True), pending.debt_ids[part], pending.debt_order[part]),
                write, clock))
    clock.lap("commit")
    return recorded


def _record_part(connection: Connection, account: BeneficiaryAccount, pending: PendingTitles,
                 write: RemessaWriter, clock: Clock) -> RecordedRemessa:
    account_key = account.sequence_name
    # The sequences row stays locked until commit: a concurrent remessa of the account waits for this NSA.
    nsa = allocate(connection, nsa_sequence(account_key), 1)
    file_name = remessa_name(account, nsa)
    # Recorded before the file is written, so that a clash of names fails before it overwrites anything.
    remessa_id = connection.execute(insert(remessas).values(
        account_key=account_key, bank_code=account.bank_code, nsa=nsa, file_name=file_name, path="",
        entradas=pending.entradas, baixas=pending.baixas, lines=0, missing_address=pending.missing_address,
        created_at=func.now()).returning(remessas.c.id)).scalar_one()
    clock.lap("record")
    path, lines, p_lines = write(nsa, file_name, pending.titles)
    clock.lap("write")
    connection.execute(update(remessas).where(remessas.c.id == remessa_id).values(path=path, lines=lines))
    entrada = (pending.titles["movement"] == ENTRADA).to_numpy()
    # The entradas' registration_sent events are their states' entrada_nsa and entrada_line (events_of shows them):
    # one narrow COPY, in debt_id order so that the primary key's inserts touch its pages in order.
    entradas = np.flatnonzero(entrada)
    entradas = entradas[np.argsort(pending.debt_order[entradas])]
    copy_frame(connection, "boleto_states", pd.DataFrame({
        "debt_id": pending.debt_ids[entradas], "status": BoletoStatus.REGISTRATION_SENT.value, "entrada_nsa": nsa,
        "entrada_line": np.asarray(p_lines, dtype=np.int64)[entradas]}))
    baixas = np.flatnonzero(~entrada)
    if len(baixas):
        baixa_ids = list(pending.debt_ids[baixas])
        connection.execute(update(boleto_states).where(boleto_states.c.debt_id.in_(baixa_ids))
                           .values(baixa_nsa=nsa, updated_at=func.now()))
        append_events(connection, pd.DataFrame({
            "debt_id": baixa_ids, "kind": BoletoEventKind.BAIXA_SENT.value, "source_kind": EventSource.REMESSA.value,
            "source": file_name, "line_number": np.asarray(p_lines, dtype=np.int64)[baixas]}))
    clock.lap("record")
    return RecordedRemessa(nsa, file_name, path, pending.entradas, pending.baixas, lines, pending.missing_address)


def nsa_sequence(account_key: str) -> str:
    return f"remessa_nsa:{account_key}"


@dataclass(frozen=True)
class WrittenRemessa:
    id: int
    account_key: str
    nsa: int
    file_name: str
    path: UPath
    entradas: int
    baixas: int
    lines: int
    missing_address: int


def remessas_after(engine: Engine, last_id: int = 0, account_key: str | None = None) -> list[WrittenRemessa]:
    """Remessas recorded after `last_id` (of one account, or all), oldest first."""
    query = select(remessas).where(remessas.c.id > last_id).order_by(remessas.c.id)
    if account_key is not None:
        query = query.where(remessas.c.account_key == account_key)
    with engine.connect() as connection:
        return [WrittenRemessa(row["id"], row["account_key"], row["nsa"], row["file_name"], location(row["path"]),
                               row["entradas"], row["baixas"], row["lines"], row["missing_address"])
                for row in connection.execute(query).mappings()]


@dataclass(frozen=True)
class RemessaPending:
    entradas: int  # boletos never sent
    baixas: int  # cancels queued
    marker: str  # changes whenever the queue does: a remessa written, boletos or baixas added

    @property
    def anything(self) -> bool:
        return bool(self.entradas or self.baixas)


def remessa_pending(engine: Engine, account_key: str) -> RemessaPending:
    """What the next remessa of the account would carry, counted (nothing is read row by row)."""
    with engine.connect() as connection:
        entradas, baixas = connection.execute(text(
            "SELECT (SELECT COUNT(*) FROM boletos b WHERE b.account_key = :account_key"
            "        AND NOT EXISTS (SELECT 1 FROM boleto_states s WHERE s.debt_id = b.debt_id)),"
            "       (SELECT COUNT(*) FROM boleto_states s JOIN boletos b ON b.debt_id = s.debt_id"
            "        WHERE s.baixa_requested_at IS NOT NULL AND s.baixa_nsa IS NULL AND b.account_key = :account_key)"),
            {"account_key": account_key}).one()
        last_nsa = connection.execute(select(sequences.c.value).where(
            sequences.c.name == nsa_sequence(account_key))).scalar_one_or_none() or 0
    return RemessaPending(int(entradas), int(baixas), f"{account_key}:{last_nsa}:{entradas}:{baixas}")


def queue_marker(engine: Engine, account_key: str) -> str:
    """What changes whenever the account's remessa queue may have: its newest boleto, the baixas queued, its last
    NSA. Each read on an index, so a sensor can ask it every tick and count the queue only when it moved."""
    with engine.connect() as connection:
        newest, baixas = connection.execute(text(
            "SELECT (SELECT MAX(sequence) FROM boletos WHERE account_key = :account_key),"
            "       (SELECT COUNT(*) FROM boleto_states"
            "        WHERE baixa_requested_at IS NOT NULL AND baixa_nsa IS NULL)"),
            {"account_key": account_key}).one()
        last_nsa = connection.execute(select(sequences.c.value).where(
            sequences.c.name == nsa_sequence(account_key))).scalar_one_or_none() or 0
    return f"{account_key}:{newest or 0}:{baixas}:{last_nsa}"
