"""Retornos: the bank's answers, registered by their sha256 and applied to the account's boletos set-wise.

A retorno's title lines are matched to boletos by (account, nosso número sequence) and, where the uso da empresa
field carries one of our debt ids, checked against it. Every matched line becomes one event, COPYed in: a retorno
is applied once, whole, in the transaction that marks its retorno_files row processed; the boleto moves only along
boleto_lifecycle.TRANSITIONS, each boleto's lines in file order, so 02 then 06 ends paid and an old file imported
late moves nothing back. Lines that name no boleto of the account are kept in retorno_unmatched.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Connection, Engine, RowMapping, func, insert, select, update

from billing_pipeline import boleto_lifecycle as lifecycle
from billing_pipeline.cnab.codes import febraban_movement, movement_text
from billing_pipeline.cnab.identifiers import company_use, debt_ids_from_company_use
from billing_pipeline.statuses import BoletoEventKind, EventSource, ReceivedVia, RetornoStatus
from billing_pipeline.store.boleto_events import (
    Clock,
    append_events,
    copy_rows,
    lock_lifecycle,
    read_text_frame,
)
from billing_pipeline.store.bulk import copy_frame
from billing_pipeline.store.tables import retorno_files, retorno_unmatched

UNKNOWN_NOSSO_NUMERO = "no boleto of the account has this nosso número"
UNREADABLE_NOSSO_NUMERO = "the nosso número is not one of the account's"
OTHER_DEBT = "the uso da empresa names another debt than the nosso número's boleto"
SHOWN_UNMATCHED = 1000  # in the report; retorno_unmatched keeps them all


@dataclass(frozen=True)
class RetornoArrival:
    new: bool  # False: the same bytes were registered before
    status: RetornoStatus


def register_retorno_file(engine: Engine, file_id: str, original_name: str, size_bytes: int,
                          received_via: ReceivedVia, archived: bool = True) -> RetornoArrival:
    """Record a retorno's bytes; known bytes are not registered again, except to complete a first arrival whose
    archiving a crash cut short (`archived` False)."""
    with engine.begin() as connection:
        known = connection.execute(select(retorno_files.c.status).where(retorno_files.c.file_id == file_id)).first()
        if known is None:
            connection.execute(insert(retorno_files).values(
                file_id=file_id, original_name=original_name, size_bytes=size_bytes,
                status=RetornoStatus.REGISTERED, received_via=received_via, registered_at=func.now()))
            return RetornoArrival(True, RetornoStatus.REGISTERED)
    return RetornoArrival(not archived, RetornoStatus(known.status))


def get_retorno(engine: Engine, file_id: str) -> RowMapping | None:
    with engine.connect() as connection:
        return connection.execute(select(retorno_files).where(retorno_files.c.file_id == file_id)).mappings().first()


def same_records_as(engine: Engine, file_id: str, content_key: str) -> RowMapping | None:
    """Another retorno already imported with the same records as `file_id` (other bytes: line ends, blanks), whose
    key is recorded for `file_id` now."""
    with engine.begin() as connection:
        connection.execute(update(retorno_files).where(retorno_files.c.file_id == file_id)
                           .values(content_key=content_key))
        return connection.execute(
            select(retorno_files).where(retorno_files.c.content_key == content_key,
                                        retorno_files.c.file_id != file_id,
                                        retorno_files.c.status == RetornoStatus.PROCESSED.value)
            .order_by(retorno_files.c.processed_at).limit(1)).mappings().first()


def retornos_to_import(engine: Engine) -> list[RowMapping]:
    query = (select(retorno_files.c.file_id, retorno_files.c.original_name)
             .where(retorno_files.c.status == RetornoStatus.REGISTERED).order_by(retorno_files.c.registered_at))
    with engine.connect() as connection:
        return list(connection.execute(query).mappings())


def record_retorno_rejected(engine: Engine, file_id: str, code: str, message: str, header: dict | None = None,
                            warnings: list[str] | None = None) -> None:
    with engine.begin() as connection:
        connection.execute(update(retorno_files).where(retorno_files.c.file_id == file_id).values(
            status=RetornoStatus.REJECTED, error_code=code, error_message=message, processed_at=func.now(),
            warnings=json.dumps(warnings or []), **(header or {})))


@dataclass
class AppliedRetorno:
    titles: int
    applied: int  # lines recorded as events now
    already_applied: int  # lines an earlier import of the same file recorded (it is applied once, whole)
    unmatched: int
    moved: int  # events that changed their boleto's status
    by_movement: dict[str, dict] = field(default_factory=dict)  # code -> {"text", "lines"}
    by_status: dict[str, int] = field(default_factory=dict)  # the named boletos' statuses after the import
    unmatched_lines: list[dict] = field(default_factory=list)  # the first SHOWN_UNMATCHED
    warnings: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)  # where the import spent its time, by phase


def imported_before(engine: Engine, file_id: str) -> AppliedRetorno | None:
    """What an earlier import of this retorno did, None when it was not imported yet: an import asked again applies
    nothing (and need not read the file)."""
    with engine.connect() as connection:
        row = connection.execute(select(retorno_files).where(retorno_files.c.file_id == file_id)).mappings().first()
        if row is None or row["status"] != RetornoStatus.PROCESSED:
            return None
        return _imported_before(connection, row)


def _imported_before(connection: Connection, row: RowMapping) -> AppliedRetorno:
    shown = connection.execute(
        select(retorno_unmatched.c.line_number, retorno_unmatched.c.nosso_numero, retorno_unmatched.c.movement_code,
               retorno_unmatched.c.reason).where(retorno_unmatched.c.file_id == row["file_id"])
        .order_by(retorno_unmatched.c.line_number).limit(SHOWN_UNMATCHED)).mappings()
    matched = (row["applied"] or 0) + (row["already_applied"] or 0)
    return AppliedRetorno(
        titles=row["titles"] or 0, applied=0, already_applied=matched, unmatched=row["unmatched"] or 0, moved=0,
        by_movement=json.loads(row["by_movement"] or "{}"), by_status=json.loads(row["by_status"] or "{}"),
        unmatched_lines=[dict(line) for line in shown],
        warnings=json.loads(row["warnings"] or "[]") + [f"imported before: its {matched} lines were applied then, "
                                                         "nothing applied again"])


def apply_retorno(engine: Engine, account_key: str, file_id: str, titles: pd.DataFrame, data: bytes, header: dict,
                  warnings: list[str]) -> AppliedRetorno:
    """Apply a read retorno's titles (cnab.reader's frame) to the account's boletos and mark the file processed,
    all in one transaction holding the file's row: a retorno is applied once, whole, and asked again (a rerun, the
    same bytes dropped again, two workers at once) it applies nothing. `data` is the file, for the unmatched lines
    as they came."""
    clock = Clock()
    line_numbers = titles["line_number"].to_numpy(dtype=np.int64)
    if len(line_numbers) > 1 and not (np.diff(line_numbers) > 0).all():
        titles = titles.iloc[np.argsort(line_numbers, kind="stable")].reset_index(drop=True)
        line_numbers = titles["line_number"].to_numpy(dtype=np.int64)
    count = len(titles)
    codes = titles["movement_code"].astype(str).str.strip().to_numpy()
    with engine.begin() as connection:
        lock_lifecycle(connection, account_key)
        row = connection.execute(select(retorno_files).where(retorno_files.c.file_id == file_id)
                                 .with_for_update()).mappings().first()
        if row is not None and row["status"] == RetornoStatus.PROCESSED:
            return _imported_before(connection, row)
        if connection.dialect.name == "postgresql":
            # The joins of a million-line retorno hash in memory rather than in batches on disk.
            connection.exec_driver_sql("SET LOCAL work_mem = '256MB'")
        match = _match(connection, account_key, titles)
        clock.lap("match")

        # Each boleto's lines together, in file order, folded from its status before the import. Boletos in debt_id
        # order (the match's rank), so that the events' debt_id index takes its entries in order, page after page.
        lines = np.flatnonzero(match.reasons == "")
        lines = lines[np.lexsort((line_numbers[lines], match.rank[lines]))]
        rank = match.rank[lines]
        starts = np.flatnonzero(np.r_[True, rank[1:] != rank[:-1]]) if len(lines) else np.zeros(0, np.intp)
        group = np.cumsum(np.isin(np.arange(len(lines)), starts)) - 1
        kinds = _kinds(codes[lines], header.get("bank_code"))
        after, moved = lifecycle.apply_in_order(group, match.current[lines], lifecycle.target_codes(kinds))
        fee_cents = _cents(titles, "fee_cents")[lines]
        paid_cents = _cents(titles, "paid_cents")[lines]
        paid_on = _days(titles, "payment_date")[lines]
        credited_on = _days(titles, "credit_date")[lines]
        payment = kinds == BoletoEventKind.PAID.value
        statuses = np.asarray([status.value for status in lifecycle.STATUS_CODES], dtype=object)
        clock.lap("fold")
        append_events(connection, pd.DataFrame({
            "debt_id": match.debt_ids[lines],
            "kind": kinds,
            "status": _where_moved(moved, statuses[after]),
            "movement_code": codes[lines],
            "reasons": _blank_as_null(_column(titles, "reasons", "").to_numpy()[lines]),
            "amount_paid": _money(paid_cents, payment),
            "paid_on": _date(paid_on, payment),
            "credited_on": _date(credited_on, payment),
            "fees": _money(fee_cents, fee_cents > 0),
            "source_kind": EventSource.RETORNO.value,
            "source": file_id,
            "line_number": line_numbers[lines],
        }))
        clock.lap("events")
        # A boleto reaches paid once (paid leads nowhere): its moving payment is the one its state keeps.
        last = np.r_[starts[1:], len(lines)] - 1
        final = after[last] if len(lines) else np.zeros(0, np.int8)
        paid_at = np.full(len(starts), -1, dtype=np.int64)
        paying = np.flatnonzero(moved & payment)
        paid_at[group[paying]] = paying
        fees = np.add.reduceat(np.maximum(fee_cents, 0), starts) if len(lines) else np.zeros(0, np.int64)
        first = lines[starts]
        # Fees alone on a boleto without a state row stay in its event: an 'issued' row would take it out of the
        # next remessa, which sends the boletos that have none.
        touched = ((np.maximum.reduceat(moved, starts) if len(lines) else np.zeros(0, bool))
                   | ((fees > 0) & match.has_row[first]))
        take = np.where(paid_at >= 0, paid_at, 0)
        has_payment = paid_at >= 0
        _write_states(connection, pd.DataFrame({
            "debt_id": match.debt_ids[first],
            "status": statuses[final],
            "amount_paid": _money(paid_cents[take], has_payment),
            "paid_on": _date(paid_on[take], has_payment),
            "credited_on": _date(credited_on[take], has_payment),
            "fees": _money(fees, fees > 0),
        })[touched], match.has_row[first][touched])
        clock.lap("states")
        unmatched = match.reasons != ""
        _record_unmatched(connection, file_id, titles[unmatched], match.reasons[unmatched], data)
        by_status = np.bincount(final.astype(np.int64), minlength=len(statuses))
        result = AppliedRetorno(
            titles=count, applied=len(lines), already_applied=0, unmatched=int(unmatched.sum()),
            moved=int(moved.sum()), by_movement=_by_movement(codes, header.get("bank_code")),
            by_status={str(statuses[i]): int(n) for i, n in sorted(enumerate(by_status), key=lambda x: statuses[x[0]])
                       if n},
            unmatched_lines=_unmatched_view(titles[unmatched], match.reasons[unmatched]),
            warnings=list(warnings),
        )
        unmoved = int((~moved & (lifecycle.target_codes(kinds) != lifecycle.NO_STATUS)).sum())
        if unmoved:
            result.warnings.append(f"{unmoved} lines reported a status their boleto had already passed (or cannot "
                                   "reach from where it stands): recorded as events, no status changed")
        if result.unmatched:
            result.warnings.append(f"{result.unmatched} lines match no boleto of the account: kept in "
                                   "retorno_unmatched")
        connection.execute(update(retorno_files).where(retorno_files.c.file_id == file_id).values(
            status=RetornoStatus.PROCESSED, titles=count, applied=result.applied, already_applied=0,
            unmatched=result.unmatched, moved=result.moved, by_movement=json.dumps(result.by_movement),
            by_status=json.dumps(result.by_status), warnings=json.dumps(result.warnings), error_code=None,
            error_message=None, processed_at=func.now(), **header))
        clock.lap("unmatched and file")
    clock.lap("commit")
    result.seconds = clock.seconds
    return result


def _kinds(codes: np.ndarray, bank_code: str | None) -> np.ndarray:
    """Movement codes -> event kinds, through the few distinct codes a file has, each read as its bank numbers
    it (Itaú's own codes, Caixa's 46) before it is given its FEBRABAN effect."""
    index, distinct = pd.factorize(codes)
    kinds = np.asarray([_kind(str(code), bank_code) for code in distinct], dtype=object)
    return kinds[index] if len(index) else np.zeros(0, dtype=object)


def _kind(code: str, bank_code: str | None) -> str:
    effect = febraban_movement(code, bank_code)
    return (lifecycle.event_of_movement(effect) if effect is not None else BoletoEventKind.OTHER).value


@dataclass(frozen=True)
class _Match:
    rank: np.ndarray  # int64, each line's boleto's place in debt_id order (-1: unmatched)
    debt_ids: np.ndarray  # each line's boleto's debt ("": unmatched)
    current: np.ndarray  # int8, its status code before the import
    has_row: np.ndarray  # bool, it has a boleto_states row
    reasons: np.ndarray  # why the line is unmatched ("": matched)


def _match(connection: Connection, account_key: str, titles: pd.DataFrame) -> _Match:
    """Each line's boleto: one join of the file's sequences (COPYed into a temporary table) with the account's
    boletos on their UNIQUE (account_key, sequence), read back as text; then the uso da empresa cross-check."""
    count = len(titles)
    debt_ids = np.full(count, "", dtype=object)
    current = np.zeros(count, dtype=np.int8)
    has_row = np.zeros(count, dtype=bool)
    reasons = np.full(count, "", dtype=object)
    sequence = titles["sequence"].astype("Int64")
    readable = ~sequence.isna().to_numpy()
    reasons[~readable] = UNREADABLE_NOSSO_NUMERO
    sequences = sequence.fillna(-1).to_numpy(dtype=np.int64)
    if not readable.any():
        return _Match(np.full(count, -1, dtype=np.int64), debt_ids, current, has_row, reasons)
    wanted = np.sort(sequences[readable])  # a sort (the file is mostly in order already) beats numpy's hashed unique
    wanted = wanted[np.r_[True, wanted[1:] != wanted[:-1]]]
    _temp_table(connection, "retorno_sequences", "sequence BIGINT")
    copy_frame(connection, "retorno_sequences", pd.DataFrame({"sequence": wanted}))
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("ANALYZE retorno_sequences")
    boletos = read_text_frame(
        connection,
        "SELECT b.sequence, CAST(b.debt_id AS TEXT), COALESCE(s.status, '') FROM retorno_sequences w"
        " JOIN boletos b ON b.account_key = :account_key AND b.sequence = w.sequence"
        " LEFT JOIN boleto_states s ON s.debt_id = b.debt_id ORDER BY b.debt_id",
        {"account_key": account_key}, ["sequence", "debt_id", "status"])
    connection.exec_driver_sql("DROP TABLE retorno_sequences")
    known = boletos["sequence"].to_numpy().astype(np.int64)
    order = np.argsort(known)
    known = known[order]
    rows = np.flatnonzero(readable)
    at = np.minimum(np.searchsorted(known, sequences[rows]), max(len(known) - 1, 0))
    found = known[at] == sequences[rows] if len(known) else np.zeros(len(rows), dtype=bool)
    hit, miss = rows[found], rows[~found]
    reasons[miss] = UNKNOWN_NOSSO_NUMERO
    source = order[at[found]]
    rank = np.full(count, -1, dtype=np.int64)
    rank[hit] = source
    debt_ids[hit] = boletos["debt_id"].to_numpy()[source]
    stored = boletos["status"].to_numpy()[source]
    current[hit] = lifecycle.status_codes(stored)
    has_row[hit] = stored != ""
    if "company_use" in titles and len(hit):
        # Ours name the nosso número's own debt: encoding our debts is cheaper than decoding every field, and only
        # the fields that differ are decoded, to tell another debt of ours from a value that is not ours.
        field = titles["company_use"].fillna("").astype(str).str.strip().to_numpy()[hit]
        differ = np.flatnonzero(company_use(debt_ids[hit]) != field)
        if len(differ):
            named = debt_ids_from_company_use(field[differ])
            other = differ[np.array([value is not None for value in named], dtype=bool)
                           & (named != debt_ids[hit[differ]])]
            reasons[hit[other]] = OTHER_DEBT
            debt_ids[hit[other]] = ""
            rank[hit[other]] = -1
    return _Match(rank, debt_ids, current, has_row, reasons)


def _cents(titles: pd.DataFrame, name: str) -> np.ndarray:
    """A money column as int64 cents, -1 where absent."""
    if name not in titles:
        return np.full(len(titles), -1, dtype=np.int64)
    return titles[name].astype("Int64").fillna(-1).to_numpy(dtype=np.int64)


def _days(titles: pd.DataFrame, name: str) -> np.ndarray:
    if name not in titles:
        return np.full(len(titles), np.datetime64("NaT"), dtype="datetime64[D]")
    return pd.to_datetime(titles[name], errors="coerce").to_numpy().astype("datetime64[D]")


def _money(cents: np.ndarray, keep: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """Cents as decimal text ("12.34") where `keep` and given, NULL elsewhere: Arrow's string kernels rather than a
    Python string per row, kept as Arrow until the COPY writes them."""
    present = keep & (cents >= 0)
    digits = pc.utf8_lpad(pc.cast(pa.array(np.maximum(cents, 0)), pa.string()), 3, "0")
    text = pc.binary_join_element_wise(pc.utf8_slice_codeunits(digits, 0, -2), pc.utf8_slice_codeunits(digits, -2),
                                       ".")
    return pd.arrays.ArrowExtensionArray(pc.if_else(pa.array(present), text, pa.scalar(None, pa.string())))


def _date(days: np.ndarray, keep: np.ndarray) -> pd.api.extensions.ExtensionArray:
    return pd.arrays.ArrowExtensionArray(pa.array(days, mask=~keep | np.isnat(days), type=pa.date32()))


def _where_moved(moved: np.ndarray, statuses: np.ndarray) -> np.ndarray:
    """The status an event moved its boleto to; None (NULL) for an event that moved nothing."""
    out = statuses.astype(object)  # a copy
    out[~moved] = None
    return out


def _blank_as_null(values: np.ndarray) -> np.ndarray:
    values = values.astype(object)  # a copy
    values[(values == "") | pd.isna(values)] = None
    return values


def _column(frame: pd.DataFrame, name: str, default: object = None) -> pd.Series:
    return frame[name] if name in frame else pd.Series(default, index=frame.index, dtype=object)


def _temp_table(connection: Connection, name: str, columns: str) -> None:
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"CREATE TEMP TABLE {name} ({columns}) ON COMMIT DROP")
    else:
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS temp.{name}")
        connection.exec_driver_sql(f"CREATE TEMP TABLE {name} ({columns})")


def _uuid(connection: Connection) -> str:
    return "UUID" if connection.dialect.name == "postgresql" else "TEXT"


def _write_states(connection: Connection, states: pd.DataFrame, had_row: np.ndarray) -> None:
    """States of boletos without a row (issued) are COPYed in; the others updated in one UPDATE ... FROM a COPYed
    staging table, which PostgreSQL runs as one hash join. No indexed column changes, so (with boleto_states'
    fillfactor) most rows are updated in place (HOT)."""
    if states.empty:
        return
    fresh = states[~had_row]
    if len(fresh):
        copy_rows(connection, "boleto_states", fresh)
    changed = states[had_row]
    if not len(changed):
        return
    _temp_table(connection, "staged_states",
                f"debt_id {_uuid(connection)}, status TEXT, amount_paid NUMERIC(12, 2), paid_on DATE,"
                " credited_on DATE, fees NUMERIC(12, 2)")
    copy_rows(connection, "staged_states", changed)
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("ANALYZE staged_states")
    connection.exec_driver_sql(
        "UPDATE boleto_states SET status = n.status,"
        " amount_paid = COALESCE(n.amount_paid, boleto_states.amount_paid),"
        " paid_on = COALESCE(n.paid_on, boleto_states.paid_on),"
        " credited_on = COALESCE(n.credited_on, boleto_states.credited_on),"
        " fees = CASE WHEN n.fees IS NULL THEN boleto_states.fees ELSE COALESCE(boleto_states.fees, 0) + n.fees END,"
        " updated_at = CURRENT_TIMESTAMP"
        " FROM staged_states n WHERE boleto_states.debt_id = n.debt_id")
    connection.exec_driver_sql("DROP TABLE staged_states")


def _raw(raw_lines: list[bytes], number: int) -> str:
    index = number - 1
    if not 0 <= index < len(raw_lines):
        return ""
    line = raw_lines[index].rstrip(b"\r\n")
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        return line.decode("latin-1")


def _record_unmatched(connection: Connection, file_id: str, lines: pd.DataFrame, reasons: np.ndarray,
                      data: bytes) -> None:
    if lines.empty:
        return
    raw_lines = data.splitlines()
    u_lines = _column(lines, "u_line_number").fillna(0).astype(np.int64).tolist()
    raw = [_raw(raw_lines, t) + ("\n" + _raw(raw_lines, u) if 0 < u != t else "")
           for t, u in zip(lines["line_number"].astype(np.int64).tolist(), u_lines, strict=True)]
    copy_frame(connection, "retorno_unmatched", pd.DataFrame({
        "file_id": file_id,
        "line_number": lines["line_number"].to_numpy(dtype=np.int64),
        "nosso_numero": _column(lines, "nosso_numero", "").fillna("").astype(str).to_numpy(),
        "movement_code": lines["movement_code"].astype(str).str.strip().to_numpy(),
        "amount_cents": _column(lines, "amount_cents").astype("Int64").reset_index(drop=True),
        "reason": reasons,
        "raw_line": raw,
    }))


def _by_movement(codes: np.ndarray, bank_code: str | None) -> dict[str, dict]:
    index, distinct = pd.factorize(codes, sort=True)
    counts = np.bincount(index, minlength=len(distinct)) if len(index) else np.zeros(0, dtype=np.int64)
    return {str(code): {"text": movement_text(str(code), bank_code), "lines": int(lines)}
            for code, lines in zip(distinct, counts, strict=True)}


def _unmatched_view(lines: pd.DataFrame, reasons: np.ndarray) -> list[dict]:
    shown = lines.head(SHOWN_UNMATCHED)
    return [{"line_number": line, "nosso_numero": str(nosso).strip(), "movement_code": str(code).strip(),
             "reason": str(reason)}
            for line, nosso, code, reason in zip(shown["line_number"].astype(np.int64).tolist(),
                                                 _column(shown, "nosso_numero", "").tolist(),
                                                 shown["movement_code"].tolist(), reasons[:SHOWN_UNMATCHED],
                                                 strict=False)]


def unmatched_lines(engine: Engine, file_id: str) -> list[RowMapping]:
    query = (select(retorno_unmatched).where(retorno_unmatched.c.file_id == file_id)
             .order_by(retorno_unmatched.c.line_number))
    with engine.connect() as connection:
        return list(connection.execute(query).mappings())


def header_values(bank_code: str | None, nsa: int | None, generated_on: date | None, kind: str | None) -> dict:
    return {"bank_code": bank_code, "nsa": nsa, "generated_on": generated_on, "kind": kind}
