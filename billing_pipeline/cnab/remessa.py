"""Writing a CNAB 240 cobrança remessa: the titles of one account, vectorised.

Header arquivo, then lotes of at most `MAX_TITLES_PER_LOTE` titles (header lote, P + Q per entrada, P per
baixa, trailer lote), then the trailer arquivo; 240 Latin-1 bytes + CRLF a line. Each record starts from its
template (every field at its default, the lote's constants in) and its other fields are filled from vectors, a few
thousand lines at a time: uint8 matrices, a row a line, no Python string per title.
The bank module says where its fields differ (`banks.*.OVERRIDES`) and what goes into the account's fields and the
nosso número.

A baixa (02) is a P segment alone: FEBRABAN asks for the Q with an entrada, and the title is identified by its
nosso número.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import ModuleType
from typing import BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa

from billing_pipeline.boleto.account import BeneficiaryAccount
from billing_pipeline.cnab.banks import CNAB_BANKS
from billing_pipeline.cnab.codes import RemessaMovement
from billing_pipeline.cnab.layout import (
    RECORD_WIDTH,
    Field,
    date_numbers,
    put_constant,
    put_numbers,
    record_layout,
    template,
    text_matrix,
)
from billing_pipeline.cnab.text import TextColumn, cnab_text_one

REMESSA_COLUMNS = ("movement", "sequence", "document_number", "company_use", "due_date", "issued_on", "amount_cents",
                   "payer_document", "payer_name", "address", "district", "cep", "city", "uf")
MAX_TITLES_PER_LOTE = 49_999
"""The record number in a lote has 5 digits: 99,999 detail lines hold 49,999 titles of P + Q."""
MAX_TITLES_PER_FILE = 450_000
"""The trailer arquivo counts lines in 6 digits (999,999): a remessa of more titles is split into several files."""

_CRLF = np.frombuffer(b"\r\n", dtype=np.uint8)


@dataclass(frozen=True)
class RemessaWritten:
    lines: int
    titles: int
    entradas: int
    baixas: int
    bytes: int


@dataclass(frozen=True)
class _Layouts:
    header_arquivo: dict[str, Field]
    header_lote: dict[str, Field]
    p: dict[str, Field]
    q: dict[str, Field]
    trailer_lote: dict[str, Field]
    trailer_arquivo: dict[str, Field]


def layouts(bank_code: str, kind: str = "remessa") -> _Layouts:
    """The bank's records for a remessa (or, `kind="retorno"`, the headers of a retorno)."""
    overrides = CNAB_BANKS[bank_code].OVERRIDES
    suffix = "_retorno" if kind == "retorno" else ""

    def header(record: str) -> dict[str, Field]:
        own = overrides.get(record + suffix, overrides.get(record, ()))
        return record_layout(record, {record: own})

    return _Layouts(header("header_arquivo"), header("header_lote"), record_layout("P", overrides),
                    record_layout("Q", overrides), record_layout("trailer_lote", overrides),
                    record_layout("trailer_arquivo", overrides))


def write_remessa(out: BinaryIO, account: BeneficiaryAccount, nsa: int, generated_at: datetime,
                  titles: pd.DataFrame) -> RemessaWritten:
    """Write the remessa of `titles` (columns `REMESSA_COLUMNS`) for `account` to `out`; NSA is the file's
    sequence number at the bank (1..999999)."""
    bank = CNAB_BANKS.get(account.bank_code)
    if bank is None:
        raise ValueError(f"no CNAB 240 remessa for bank {account.bank_code!r}")
    missing = [c for c in REMESSA_COLUMNS if c not in titles.columns]
    if missing:
        raise ValueError(f"remessa titles lack columns {missing}")
    if not 1 <= nsa <= 999_999:
        raise ValueError(f"NSA must be 1..999999, got {nsa}")
    if len(titles) > MAX_TITLES_PER_FILE:
        raise ValueError(f"{len(titles)} titles exceed {MAX_TITLES_PER_FILE} a file: split the remessa")
    movement = titles["movement"].astype(str)
    known = {m.value for m in RemessaMovement}
    if not movement.isin(list(known)).all():
        raise ValueError(f"remessa movements must be among {sorted(known)}")
    entrada = (movement == RemessaMovement.ENTRADA).to_numpy(dtype=bool)
    fixed = bank.account_fields(account)
    lay = layouts(account.bank_code)
    details = _Details(lay, bank, account, titles.reset_index(drop=True), entrada, fixed)
    # a remessa without titles still has its lote, so the file keeps its shape
    lote_starts = list(range(0, max(len(titles), 1), MAX_TITLES_PER_LOTE))
    lote_lines = [2 + details.lines(start, start + MAX_TITLES_PER_LOTE) for start in lote_starts]
    total_lines = 2 + sum(lote_lines)
    trailer = np.tile(template(lay.trailer_arquivo), (1, 1))
    put_constant(trailer, lay.trailer_arquivo["bank_code"], bank.code)
    put_constant(trailer, lay.trailer_arquivo["lotes"], str(len(lote_starts)))
    put_constant(trailer, lay.trailer_arquivo["records"], str(total_lines))
    # everything that can refuse the titles ran above: from here on the file is only laid out, a few thousand
    # lines at a time (they stay in the processor's cache while their fields are filled)
    written = _write(out, _header_arquivo(lay.header_arquivo, bank, account, nsa, generated_at, fixed))
    for lote, (start, lines) in enumerate(zip(lote_starts, lote_lines, strict=True), 1):
        stop = min(start + MAX_TITLES_PER_LOTE, len(titles))
        written += _write(out, header_lote(lay.header_lote, bank, account, lote, nsa, generated_at, fixed))
        for block in details.blocks(lote, start, stop):
            written += _write(out, block)
        written += _write(out, trailer_lote(lay.trailer_lote, account.bank_code, lote, lines, stop - start,
                                            details.total_cents(start, stop)))
    written += _write(out, trailer)
    entradas = int(entrada.sum())
    return RemessaWritten(total_lines, len(titles), entradas, len(titles) - entradas, written)


def _write(out: BinaryIO, records: np.ndarray) -> int:
    if records.shape[1] == RECORD_WIDTH:
        records = _with_crlf(records)
    out.write(np.ascontiguousarray(records).data.cast("B"))
    return records.nbytes


def _with_crlf(records: np.ndarray) -> np.ndarray:
    lines = np.empty((len(records), RECORD_WIDTH + 2), dtype=np.uint8)
    lines[:, :RECORD_WIDTH] = records
    lines[:, RECORD_WIDTH:] = _CRLF
    return lines


def _fill(matrix: np.ndarray, layout: Mapping[str, Field], values: Mapping[str, str]) -> None:
    for name, value in values.items():
        put_constant(matrix, layout[name], value)


def _company(account: BeneficiaryAccount) -> tuple[str, str]:
    document = account.beneficiary_document
    return ("1" if len(document) == 11 else "2"), document


def _header_arquivo(layout: dict[str, Field], bank: ModuleType, account: BeneficiaryAccount, nsa: int,
                    generated_at: datetime, fixed: Mapping[str, Mapping[str, str]], *, file_kind: str = "1",
                    bank_name: str | None = None) -> np.ndarray:
    header = np.tile(template(layout), (1, 1))
    document_type, document = _company(account)
    values = {
        "bank_code": account.bank_code, "company_document_type": document_type, "company_document": document,
        "company_name": cnab_text_one(account.beneficiary_name, layout["company_name"].width),
        "bank_name": bank_name or bank.name, "file_kind": file_kind,
        "generated_date": generated_at.strftime("%d%m%Y"), "generated_time": generated_at.strftime("%H%M%S"),
        "nsa": str(nsa), "layout_version": bank.FILE_VERSION,
    }
    _fill(header, layout, {k: v for k, v in values.items() if k in layout})
    _fill(header, layout, fixed["header_arquivo"])
    return header


def header_lote(layout: dict[str, Field], bank: ModuleType, account: BeneficiaryAccount, lote: int, nsa: int,
                generated_at: datetime, fixed: Mapping[str, Mapping[str, str]], *, operation: str = "R") -> np.ndarray:
    header = np.tile(template(layout), (1, 1))
    document_type, document = _company(account)
    values = {
        "bank_code": account.bank_code, "lote": str(lote), "operation": operation,
        "layout_version": bank.LOTE_VERSION, "company_document_type": document_type,
        "company_document": document,
        "company_name": cnab_text_one(account.beneficiary_name, layout["company_name"].width),
        "nsa": str(nsa), "recorded_date": generated_at.strftime("%d%m%Y"),
    }
    _fill(header, layout, {k: v for k, v in values.items() if k in layout})
    _fill(header, layout, fixed["header_lote"])
    return header


def trailer_lote(layout: dict[str, Field], bank_code: str, lote: int, records: int, titles: int,
                 total_cents: int) -> np.ndarray:
    trailer = np.tile(template(layout), (1, 1))
    values = {"bank_code": bank_code, "lote": str(lote), "records": str(records), "simple_count": str(titles),
              "simple_total": str(total_cents)}
    _fill(trailer, layout, {k: v for k, v in values.items() if k in layout})
    return trailer


def _start(layout: dict[str, Field], rows: int, bank_code: str, lote: int, record_numbers: np.ndarray) -> np.ndarray:
    matrix = np.tile(template(layout), (rows, 1))
    put_constant(matrix, layout["bank_code"], bank_code)
    put_constant(matrix, layout["lote"], str(lote))
    put_numbers(matrix, layout["record_number"], record_numbers)
    return matrix


_MOVEMENTS = np.frombuffer(b"0201", dtype=np.uint8).reshape(2, 2)
"""The P movement field of a baixa (row 0) and an entrada (row 1)."""
_QUADS = np.frombuffer(b"".join(b"%04d" % i for i in range(10_000)), dtype=np.uint32)
"""The four ASCII digits of 0..9999, one 32-bit word each."""
_Q_TEXT = ("payer_name", "address", "district", "city", "uf")


class _Details:
    """The detail records of the titles: a P for each, a Q after an entrada's.

    Whatever can refuse a title (a seu número too long, a value that does not fit its field, the bank's nosso
    número) runs when this is built, before a byte is written; `blocks` then lays the lines out.
    """

    CHUNK = 8192
    """Titles laid out at a time: their lines, a couple of MB, stay in the processor's cache while filled."""

    def __init__(self, lay: _Layouts, bank: ModuleType, account: BeneficiaryAccount, titles: pd.DataFrame,
                 entrada: np.ndarray, fixed: Mapping[str, Mapping[str, str]]) -> None:
        p, q = lay.p, lay.q
        self._lay, self._bank_code, self._fixed = lay, account.bank_code, fixed
        self._entrada = entrada
        self._lines_before = np.concatenate([[0], np.cumsum(np.where(entrada, 2, 1))])
        self._entradas_before = np.concatenate([[0], np.cumsum(entrada)])
        self._nosso_numero = _checked(p["nosso_numero"],
                                      bank.nosso_numero(account, titles["sequence"].to_numpy(dtype=np.int64)))
        documents = titles["document_number"].astype(str)
        width = p["document_number"].width
        if (documents.str.len() > width).any():
            raise ValueError(f"seu número longer than this bank's {width} characters")
        self._documents = TextColumn(documents)
        self._company_use = TextColumn(titles["company_use"])
        self._due = _date_digits(titles["due_date"], p["due_date"].width)
        self._issued = _date_digits(titles["issued_on"], p["issued_on"].width)
        self._amounts = titles["amount_cents"].to_numpy(dtype=np.int64)
        _check_fits(self._amounts, p["amount"].width)
        payers = titles[["payer_document", "cep", *_Q_TEXT]].iloc[np.flatnonzero(entrada)]
        self._payer_type, self._payer_document = _payer_documents(payers["payer_document"],
                                                                  q["payer_document"].width)
        self._cep = _ceps(payers["cep"])
        self._q_text = {column: TextColumn(payers[column]) for column in _Q_TEXT}

    def lines(self, start: int, stop: int) -> int:
        """Detail lines of titles start:stop."""
        stop = min(stop, len(self._entrada))
        return int(self._lines_before[stop] - self._lines_before[start]) if stop > start else 0

    def total_cents(self, start: int, stop: int) -> int:
        return int(self._amounts[start:stop].sum())

    def blocks(self, lote: int, start: int, stop: int) -> Iterator[np.ndarray]:
        """The detail lines of titles start:stop, lote `lote`, as (lines, 242) blocks with their CRLF."""
        p, q = self._lay.p, self._lay.q
        p_template = self._template(p, lote, self._fixed["P"])
        q_template = self._template(q, lote, {"movement": RemessaMovement.ENTRADA.value})
        for a in range(start, stop, self.CHUNK):
            b = min(a + self.CHUNK, stop)
            entrada = self._entrada[a:b]
            first_q, last_q = int(self._entradas_before[a]), int(self._entradas_before[b])
            record_numbers = self._lines_before[a:b] - self._lines_before[start] + 1
            q_count = last_q - first_q
            lines = np.empty((b - a + q_count, RECORD_WIDTH + 2), dtype=np.uint8)
            if q_count == b - a:  # all entradas: P, Q, P, Q...
                records, q_records = lines[0::2], lines[1::2]
            elif q_count == 0:
                records, q_records = lines, lines[:0]
            else:  # the P and Q records apart, then each to its line
                records = np.empty((b - a, RECORD_WIDTH + 2), dtype=np.uint8)
                q_records = np.empty((q_count, RECORD_WIDTH + 2), dtype=np.uint8)
            _items(records)[...] = p_template
            _put(records, p["record_number"], _digits(record_numbers, p["record_number"].width))
            _put(records, p["movement"], _MOVEMENTS[entrada.astype(np.intp)])
            _put(records, p["nosso_numero"], self._nosso_numero[a:b])
            _put(records, p["document_number"], self._documents.block(p["document_number"].width, a, b))
            _put(records, p["due_date"], self._due[a:b])
            _put(records, p["amount"], _digits(self._amounts[a:b], p["amount"].width))
            _put(records, p["issued_on"], self._issued[a:b])
            _put(records, p["company_use"], self._company_use.block(p["company_use"].width, a, b))
            if q_count:
                _items(q_records)[...] = q_template
                _put(q_records, q["record_number"], _digits(record_numbers[entrada] + 1, q["record_number"].width))
                _put(q_records, q["payer_document_type"],
                     _digits(self._payer_type[first_q:last_q], q["payer_document_type"].width))
                _put(q_records, q["payer_document"], self._payer_document[first_q:last_q])
                for column, text in self._q_text.items():
                    _put(q_records, q[column], text.block(q[column].width, first_q, last_q))
                _put(q_records, q["cep"], self._cep[first_q:last_q])
            if q_count and q_count != b - a:
                at = record_numbers - record_numbers[0]
                rows = _items(lines)
                rows[at] = _items(records)
                rows[at[entrada] + 1] = _items(q_records)
            yield lines

    def _template(self, layout: dict[str, Field], lote: int, values: Mapping[str, str]) -> np.void:
        record = np.tile(template(layout), (1, 1))
        put_constant(record, layout["bank_code"], self._bank_code)
        put_constant(record, layout["lote"], str(lote))
        _fill(record, layout, values)
        return _items(_with_crlf(record))[0]


def _put(records: np.ndarray, field: Field, block: np.ndarray) -> None:
    """The field of every record from `block` (rows, width), one item of `width` bytes a record."""
    _items(records[:, field.columns])[...] = _items(_checked(field, block))


def _items(block: np.ndarray) -> np.ndarray:
    """The rows of an (n, w) uint8 block as n items of w bytes: numpy copies one item at a time, not byte by byte."""
    if block.strides[1] != 1:
        block = np.ascontiguousarray(block)
    return block.view(f"V{block.shape[1]}")[:, 0]


def _checked(field: Field, block: np.ndarray) -> np.ndarray:
    if block.ndim != 2 or block.shape[1] != field.width:
        raise ValueError(f"{field.name}: {block.shape[-1]} columns for a field of {field.width}")
    return block


def _check_fits(numbers: np.ndarray, width: int) -> None:
    if numbers.size and (numbers.min() < 0 or (width < 19 and numbers.max() >= 10**width)):
        raise ValueError(f"a value does not fit a numeric field of {width} digits")


def _digits(values: np.ndarray, width: int) -> np.ndarray:
    """Non-negative integers -> (n, width) ASCII digits, zero-filled (as `layout.digit_matrix`), four digits at a
    time from a table."""
    numbers = np.asarray(values, dtype=np.int64)
    _check_fits(numbers, width)
    lanes = -(-width // 4)
    quads = np.empty((len(numbers), lanes), dtype=np.uint32)
    for lane in range(lanes - 1, -1, -1):
        numbers, quad = np.divmod(numbers, 10_000)
        quads[:, lane] = _QUADS[quad]
    return quads.view(np.uint8)[:, 4 * lanes - width:]


def _date_digits(dates: pd.Series, width: int) -> np.ndarray:
    """DDMMAAAA of each date (zeros for none); a file holds few distinct dates, each is spelt once."""
    days = dates.to_numpy(dtype="datetime64[D]")
    if width > 8:
        return _digits(date_numbers(days), width)
    codes, distinct = pd.factorize(days.view(np.int64))
    spelt = np.zeros((len(distinct), 8), dtype=np.uint8)
    spelt[:, 8 - width:] = _digits(date_numbers(np.asarray(distinct).view("datetime64[D]")), width)
    return spelt.view(np.uint64)[codes, 0].view(np.uint8).reshape(len(days), 8)[:, 8 - width:]


def _arrow_ascii(series: pd.Series) -> tuple[np.ndarray, np.ndarray] | None:
    """(offsets, bytes) of a str column without missing values whose bytes are all printable ASCII, else None."""
    if not isinstance(series.dtype, pd.StringDtype) or series.isna().any():
        return None
    array = pa.array(series)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if array.type != pa.large_string():
        array = array.cast(pa.large_string())
    _, offsets_buffer, data_buffer = array.buffers()
    offsets = np.frombuffer(offsets_buffer, dtype=np.int64)[array.offset:array.offset + len(array) + 1]
    data = np.frombuffer(data_buffer, dtype=np.uint8) if data_buffer is not None else np.zeros(0, dtype=np.uint8)
    data = data[offsets[0]:offsets[-1]]
    if len(data) and (data.min() < 0x20 or data.max() > 0x7E):
        return None
    return offsets - offsets[0], data


_UPPER = bytes(range(97)) + bytes(range(65, 91)) + bytes(range(123, 256))


def _payer_documents(documents: pd.Series, width: int) -> tuple[np.ndarray, np.ndarray]:
    """(1 for a CPF's 11 characters, else 2; the document uppercase, right-aligned and zero-filled to the width)."""
    strings = _arrow_ascii(documents)
    if strings is None:
        upper = documents.astype(str).str.upper().reset_index(drop=True)
        types = np.where(upper.str.len() == 11, 1, 2)
        return types, text_matrix(upper.str.rjust(width, "0").to_numpy(dtype=str), width)
    offsets, data = strings
    lengths = np.diff(offsets)
    source = np.frombuffer(b"0" * width + data.tobytes().translate(_UPPER) + b" " * width, dtype=np.uint8)
    # a document that fits ends the field: take the `width` bytes ending where it ends, and zero what comes before it
    starts = np.where(lengths <= width, offsets[1:], offsets[:-1] + width)
    block = _windows(source, starts, width)
    for column in range(width):
        np.copyto(block[:, column], _ZERO, where=width - lengths > column)
    return np.where(lengths == 11, 1, 2), block


_ZERO = np.uint8(ord("0"))


def _windows(source: np.ndarray, starts: np.ndarray, width: int) -> np.ndarray:
    """The `width` bytes of `source` from each start, as an (n, width) matrix."""
    windows = np.ndarray((len(source) - width + 1,), dtype=f"V{width}", buffer=source, strides=(1,))
    return windows[starts].view(np.uint8).reshape(len(starts), width)


def _ceps(ceps: pd.Series) -> np.ndarray:
    """The CEP's 8 digits (whatever else is there dropped), or zeros when there are not 8."""
    strings = _arrow_ascii(ceps.fillna("")) if isinstance(ceps.dtype, pd.StringDtype) else None
    if strings is None:
        digits = ceps.fillna("").astype(str).str.replace(r"\D", "", regex=True).reset_index(drop=True)
        return text_matrix(digits.where(digits.str.len() == 8, "").str.rjust(8, "0").to_numpy(dtype=str), 8)
    offsets, data = strings
    is_digit = (data - _ZERO) < 10
    if len(data) == 8 * (len(offsets) - 1) and (np.diff(offsets) == 8).all() and is_digit.all():
        return data.reshape(-1, 8)  # the usual case: every CEP is its 8 digits
    before = np.concatenate([[0], np.cumsum(is_digit)])[offsets]
    stream = np.concatenate([data[is_digit], np.zeros(8, dtype=np.uint8)])
    block = np.full((len(offsets) - 1, 8), _ZERO, dtype=np.uint8)
    eight = np.diff(before) == 8
    block[eight] = _windows(stream, before[:-1][eight], 8)
    return block
