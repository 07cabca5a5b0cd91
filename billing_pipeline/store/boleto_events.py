"""A boleto's state and its append-only event log, and what the remessa, retorno and cancel writers share: the lock
that orders them, bulk reads as text and bulk appends of events."""

from __future__ import annotations

import io
import re
import time
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.csv as pa_csv
from psycopg import pq
from sqlalchemy import Connection, Engine, func, insert, select, text, update

from billing_pipeline import boleto_lifecycle as lifecycle
from billing_pipeline.cnab import codes
from billing_pipeline.statuses import BoletoEventKind, BoletoStatus, EventSource
from billing_pipeline.store.bulk import copy_frame
from billing_pipeline.store.tables import boleto_events, boleto_states, boletos, remessas

_LIFECYCLE_LOCK = 7_271_728  # with the account's hash: one remessa, retorno or cancel at a time per account

# The columns a bulk append of events fills (boleto_events' id and recorded_at come from their defaults).
EVENT_COLUMNS = ["debt_id", "kind", "status", "movement_code", "reasons", "amount_paid", "paid_on", "credited_on",
                 "fees", "source_kind", "source", "line_number"]


def lock_lifecycle(connection: Connection, account_key: str) -> None:
    """Hold, until the transaction ends, the right to move the account's boletos: each writer reads states, decides
    in Python and writes them back, so two must not interleave. SQLite's write lock (BEGIN IMMEDIATE) already
    serialises every writer."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:lock, hashtext(:key))"),
                           {"lock": _LIFECYCLE_LOCK, "key": account_key})


class Clock:
    """Seconds spent by phase, for a benchmark's (or a log's) breakdown of a bulk write."""

    def __init__(self, seconds: dict[str, float] | None = None) -> None:
        self.seconds: dict[str, float] = {} if seconds is None else seconds
        self._last = time.perf_counter()

    def lap(self, phase: str) -> None:
        now = time.perf_counter()
        self.seconds[phase] = self.seconds.get(phase, 0.0) + now - self._last
        self._last = now


def _copy_out(driver: psycopg.Connection, statement: str) -> io.BytesIO:
    """COPY ... TO STDOUT through libpq itself: psycopg's Copy hands out one row per Python-level wait, which for a
    million rows costs several times what the server spends on them; PQgetCopyData in a tight loop does not."""
    pgconn = driver.pgconn
    buffer = io.BytesIO()
    result = pgconn.exec_(statement.encode())
    if result.status != pq.ExecStatus.COPY_OUT:
        raise psycopg.errors.error_from_result(result, driver.info.encoding)
    get, write = pgconn.get_copy_data, buffer.write
    while True:
        size, data = get(0)
        if size < 0:
            break
        write(data)
    failed = None
    while (ended := pgconn.get_result()) is not None:
        if ended.status != pq.ExecStatus.COMMAND_OK:
            failed = psycopg.errors.error_from_result(ended, driver.info.encoding)
    if failed is not None:
        raise failed
    return buffer


def read_text_frame(connection: Connection, query: str, params: dict, columns: list[str]) -> pd.DataFrame:
    """The rows of `query` as a frame of strings ("" for NULL), fast: COPY ... TO STDOUT on PostgreSQL (a million
    rows in about a second), a plain fetch on SQLite. Cast what is not text in the query or after."""
    if connection.dialect.name == "postgresql":
        driver = connection.connection.driver_connection
        assert driver is not None, "a connection in use has its DBAPI connection"
        # psycopg binds COPY's parameters on the client (the server takes none): `:name` becomes `%(name)s`.
        statement = re.sub(r"(?<!:):(\w+)\b", lambda match: f"%({match.group(1)})s", query.replace("%", "%%"))
        buffer = _copy_out(driver, psycopg.ClientCursor(driver).mogrify(f"COPY ({statement}) TO STDOUT (FORMAT csv)",
                                                                          params))
        if not buffer.tell():
            return pd.DataFrame({column: pd.Series(dtype=object) for column in columns})
        buffer.seek(0)
        table = pa_csv.read_csv(
            buffer,
            read_options=pa_csv.ReadOptions(column_names=columns, block_size=1 << 26),
            convert_options=pa_csv.ConvertOptions(column_types={column: pa.string() for column in columns},
                                                  strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
        return table.to_pandas()
    rows = connection.execute(text(query), params).all()
    frame = pd.DataFrame.from_records(rows, columns=columns)
    return frame.fillna("").astype(str) if len(frame) else frame.astype(object)


def append_events(connection: Connection, events: pd.DataFrame) -> int:
    """Append events (EVENT_COLUMNS; money as decimal text, dates as ISO text, "" or None for NULL)."""
    frame = events.reindex(columns=EVENT_COLUMNS)
    # COPY's CSV reads an unquoted empty field as NULL; pyarrow quotes "" (an empty string), so send None instead.
    for name in frame.columns:
        if pd.api.types.is_object_dtype(frame[name].dtype):
            values = frame[name].to_numpy()
            blank = values == ""
            if blank.any():
                values = values.copy()
                values[blank] = None
                frame[name] = values
    return copy_rows(connection, "boleto_events", frame)


def copy_rows(connection: Connection, table: str, frame: pd.DataFrame) -> int:
    """bulk.copy_frame, for frames whose columns may be Arrow-backed (with NA) or carry NaN: SQLite's driver binds
    None only, so there they are made plain objects first (SQLite's speed matters less)."""
    if connection.dialect.name != "postgresql" and len(frame):
        frame = frame.astype(object)
        frame = frame.where(frame.notna(), None)
    return copy_frame(connection, table, frame)


@dataclass(frozen=True)
class BoletoState:
    status: BoletoStatus
    amount_paid: Decimal | None = None
    paid_on: date | None = None
    credited_on: date | None = None
    fees: Decimal | None = None
    entrada_nsa: int | None = None
    baixa_requested_at: datetime | None = None
    baixa_nsa: int | None = None

    @property
    def baixa_pending(self) -> bool:
        return self.baixa_requested_at is not None and self.baixa_nsa is None


def state_of(connection: Connection, debt_id: str) -> BoletoState:
    """A boleto's current state; issued when it has no row."""
    row = connection.execute(select(boleto_states).where(boleto_states.c.debt_id == debt_id)).mappings().first()
    if row is None:
        return BoletoState(BoletoStatus.ISSUED)
    return BoletoState(BoletoStatus(row["status"]), _decimal(row["amount_paid"]), _date(row["paid_on"]),
                       _date(row["credited_on"]), _decimal(row["fees"]), row["entrada_nsa"],
                       row["baixa_requested_at"], row["baixa_nsa"])


def boleto_state(engine: Engine, debt_id: str) -> BoletoState:
    with engine.connect() as connection:
        return state_of(connection, debt_id)


def events_of(engine: Engine, debt_id: str) -> list[dict[str, Any]]:
    """A boleto's events, in the order they were recorded: boleto_events' rows (with the texts of their movement
    and reasons, from cnab.codes), preceded by the registration_sent of the remessa that sent its entrada, which
    the state and the remessa's row hold rather than an event row."""
    sent = (
        select(remessas.c.created_at.label("recorded_at"), remessas.c.file_name, boleto_states.c.entrada_line)
        .select_from(boleto_states)
        .join(boletos, boletos.c.debt_id == boleto_states.c.debt_id)
        .join(remessas, (remessas.c.account_key == boletos.c.account_key)
              & (remessas.c.nsa == boleto_states.c.entrada_nsa))
        .where(boleto_states.c.debt_id == debt_id)
    )
    query = (select(boleto_events, boletos.c.bank_code).join(boletos, boletos.c.debt_id == boleto_events.c.debt_id)
             .where(boleto_events.c.debt_id == debt_id).order_by(boleto_events.c.id))
    with engine.connect() as connection:
        registration = connection.execute(sent).first()
        rows = list(connection.execute(query).mappings())
    events: list[dict[str, Any]] = []
    if registration is not None:
        events.append({
            "id": None, "debt_id": debt_id, "kind": BoletoEventKind.REGISTRATION_SENT.value,
            "status": BoletoStatus.REGISTRATION_SENT.value, "movement_code": None, "movement_text": None,
            "reasons": None, "reason_texts": None, "amount_paid": None, "paid_on": None, "credited_on": None,
            "fees": None, "source_kind": EventSource.REMESSA.value, "source": registration.file_name,
            "line_number": registration.entrada_line, "recorded_at": registration.recorded_at})
    for row in rows:
        event = dict(row)
        bank_code = event.pop("bank_code")
        code = event["movement_code"]
        retorno = event["source_kind"] == EventSource.RETORNO.value and code
        event["movement_text"] = codes.movement_text(code, bank_code) if retorno else None
        event["reason_texts"] = "; ".join(
            f"{reason}: {codes.reason_text(code, reason, bank_code)}" for reason in (event["reasons"] or "").split(",")
            if reason) if retorno else None
        events.append(event)
    return events


def _decimal(value: object) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.01"))


def _date(value: object) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


class CancelResult(StrEnum):
    WRITTEN_OFF = "written_off"  # never sent: written off here and now, no baixa needed
    BAIXA_REQUESTED = "baixa_requested"  # the bank knows it: a baixa goes out in the next remessa
    ALREADY_REQUESTED = "already_requested"  # cancelled before, the baixa is queued or sent: nothing changed
    ALREADY_WRITTEN_OFF = "already_written_off"  # nothing changed
    REFUSED = "refused"  # paid, protested or rejected by the bank: there is nothing to cancel


CANCEL_COMMAND = "cancel"


@dataclass(frozen=True)
class CancelDecision:
    result: CancelResult
    status: BoletoStatus  # after the command
    baixa_nsa: int | None = None


def cancel(engine: Engine, debt_id: str) -> CancelDecision:
    """Cancel one boleto, by lifecycle.CANCELLED_LOCALLY / CANCELLED_BY_BAIXA; idempotent. Raises LookupError for a
    debt without a boleto."""
    with engine.begin() as connection:
        account_key = connection.execute(
            select(boletos.c.account_key).where(boletos.c.debt_id == debt_id)).scalar_one_or_none()
        if account_key is None:
            raise LookupError(f"debt {debt_id} has no boleto in the store")
        lock_lifecycle(connection, account_key)
        state = state_of(connection, debt_id)
        if state.status in lifecycle.CANCELLED_LOCALLY:
            connection.execute(insert(boleto_states).values(
                debt_id=debt_id, status=BoletoStatus.WRITTEN_OFF, updated_at=func.now()))
            _command_event(connection, debt_id, BoletoEventKind.WRITTEN_OFF, BoletoStatus.WRITTEN_OFF)
            return CancelDecision(CancelResult.WRITTEN_OFF, BoletoStatus.WRITTEN_OFF)
        if state.status in lifecycle.CANCELLED_BY_BAIXA:
            if state.baixa_requested_at is not None:
                return CancelDecision(CancelResult.ALREADY_REQUESTED, state.status, state.baixa_nsa)
            connection.execute(update(boleto_states).where(boleto_states.c.debt_id == debt_id)
                               .values(baixa_requested_at=func.now(), updated_at=func.now()))
            _command_event(connection, debt_id, BoletoEventKind.BAIXA_REQUESTED, None)
            return CancelDecision(CancelResult.BAIXA_REQUESTED, state.status)
        if state.status == BoletoStatus.WRITTEN_OFF:
            return CancelDecision(CancelResult.ALREADY_WRITTEN_OFF, state.status, state.baixa_nsa)
        return CancelDecision(CancelResult.REFUSED, state.status)


def _command_event(connection: Connection, debt_id: str, kind: BoletoEventKind, status: BoletoStatus | None) -> None:
    connection.execute(insert(boleto_events).values(
        debt_id=debt_id, kind=kind, status=status, source_kind=EventSource.COMMAND, source=CANCEL_COMMAND,
        recorded_at=func.now()))
