"""Writing a CNAB 240 cobrança remessa: the titles of one account, vectorised.

Header arquivo, then lotes of at most `titles_per_lote` titles (header lote, P + Q per entrada, + R for an
entrada with a multa, P per baixa, trailer lote), then the trailer arquivo; 240 Latin-1 bytes + CRLF a line. Each record starts from its
template (every field at its default, the lote's constants in) and its other fields are filled from vectors, a few
thousand lines at a time: uint8 matrices, a row a line, no Python string per title.
The bank module says where its fields differ (`banks.*.OVERRIDES`) and what goes into the account's fields and the
nosso número.

A baixa (02) is a P segment alone: FEBRABAN asks for the Q with an entrada, and the title is identified by its
nosso número.

Charge terms (the optional `TERMS_COLUMNS`, charge_terms.ChargeTerms resolved per title): juros as a taxa mensal
(código 2) from the day after the due date and discount 1 as a percent until its date (código 2) in the P; the
multa as a percent (código 2) from the day after the due date in an R, written only for a title that has one. A
title without terms is written exactly as before they existed. Bank modules differ where they say so:
`INTEREST_RATE_DECIMALS` (Santander: 5), `INTEREST_AS_DAILY_VALUE` and `DISCOUNT_AS_VALUE` (Itaú: values in reais,
no código).
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
from billing_pipeline.charge_terms import (
    BASIS_POINTS,
    INTEREST_DAYS_A_MONTH,
    MAX_DISCOUNT_BASIS_POINTS,
    MAX_FINE_BASIS_POINTS,
    MAX_INTEREST_MONTHLY_BASIS_POINTS,
)
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
TERMS_COLUMNS = ("fine_basis_points", "interest_monthly_basis_points", "discount_basis_points", "discount_until")
"""Optional: a titles frame without them (or with zeros and NaT) has no charge terms."""
MAX_DETAIL_LINES_PER_LOTE = 99_999
"""The record number in a lote has 5 digits."""
MAX_TITLES_PER_LOTE = 49_999
"""99,999 detail lines hold 49,999 titles of P + Q (`titles_per_lote` gives the cap for P + Q + R)."""
MAX_TITLES_PER_FILE = 450_000
"""The trailer arquivo counts lines in 6 digits (999,999): a remessa of more titles of P + Q is split into several
files (`titles_per_file` gives the cap for P + Q + R)."""


def segments_per_title(titles: pd.DataFrame) -> int:
    """The most segments one title of `titles` takes: 3 when an entrada has a multa (its R), else 2."""
    if "fine_basis_points" not in titles or titles.empty:
        return 2
    entrada = titles["movement"].astype(str).to_numpy() == RemessaMovement.ENTRADA
    return 3 if (entrada & (titles["fine_basis_points"].to_numpy(dtype=np.int64) > 0)).any() else 2


def titles_per_lote(segments: int) -> int:
    """
    >>> titles_per_lote(2), titles_per_lote(3)
    (49999, 33333)
    """
    return min(MAX_TITLES_PER_LOTE, MAX_DETAIL_LINES_PER_LOTE // max(segments, 2))


def titles_per_file(segments: int) -> int:
    """The most titles a file of titles of `segments` segments holds, its lotes' headers and trailers included, in
    the trailer's 6-digit line count: 300,000 of three segments are 900,022 lines.

    >>> titles_per_file(2), titles_per_file(3)
    (450000, 300000)
    """
    return MAX_TITLES_PER_FILE * 2 // max(segments, 2)


def title_lines(titles: pd.DataFrame) -> np.ndarray:
    """Each title's detail lines: P, + Q for an entrada, + R for an entrada with a multa."""
    entrada = (titles["movement"].astype(str).to_numpy() == RemessaMovement.ENTRADA)
    fine = titles["fine_basis_points"].to_numpy(dtype=np.int64) if "fine_basis_points" in titles else 0
    return 1 + entrada.astype(np.int64) + (entrada & (fine > 0)).astype(np.int64)


def first_lines(lines_per_title: np.ndarray, lote_size: int) -> np.ndarray:
    """Each title's first line (its P) in the file: a header arquivo, then lotes of `lote_size` titles, each a
    header lote, the titles' lines and a trailer lote.

    >>> first_lines(np.array([2, 1, 3, 2]), 2).tolist()
    [3, 5, 8, 11]
    """
    lines = np.asarray(lines_per_title, dtype=np.int64)
    lote = np.arange(len(lines)) // lote_size
    before = np.cumsum(lines) - lines
    return 1 + before + 2 * lote + 1 + 1


def p_line_numbers(titles: pd.DataFrame) -> np.ndarray:
    """Each title's P line in the file `write_remessa` writes of `titles`."""
    return first_lines(title_lines(titles), titles_per_lote(segments_per_title(titles)))

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
    r: dict[str, Field]
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
                    record_layout("Q", overrides), record_layout("R", overrides),
                    record_layout("trailer_lote", overrides),
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
    segments = segments_per_title(titles)
    if len(titles) > titles_per_file(segments):
        raise ValueError(f"{len(titles)} titles of {segments} segments exceed {titles_per_file(segments)} a file: "
                         "split the remessa")
    movement = titles["movement"].astype(str)
    known = {m.value for m in RemessaMovement}
    if not movement.isin(list(known)).all():
        raise ValueError(f"remessa movements must be among {sorted(known)}")
    entrada = (movement == RemessaMovement.ENTRADA).to_numpy(dtype=bool)
    fixed = bank.account_fields(account)
    lay = layouts(account.bank_code)
    details = _Details(lay, bank, account, titles.reset_index(drop=True), entrada, fixed)
    # a remessa without titles still has its lote, so the file keeps its shape
    lote_size = titles_per_lote(segments)
    lote_starts = list(range(0, max(len(titles), 1), lote_size))
    lote_lines = [2 + details.lines(start, start + lote_size) for start in lote_starts]
    total_lines = 2 + sum(lote_lines)
    trailer = np.tile(template(lay.trailer_arquivo), (1, 1))
    put_constant(trailer, lay.trailer_arquivo["bank_code"], bank.code)
    put_constant(trailer, lay.trailer_arquivo["lotes"], str(len(lote_starts)))
    put_constant(trailer, lay.trailer_arquivo["records"], str(total_lines))
    # everything that can refuse the titles ran above: from here on the file is only laid out, a few thousand
    # lines at a time (they stay in the processor's cache while their fields are filled)
    written = _write(out, _header_arquivo(lay.header_arquivo, bank, account, nsa, generated_at, fixed))
    for lote, (start, lines) in enumerate(zip(lote_starts, lote_lines, strict=True), 1):
        stop = min(start + lote_size, len(titles))
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
        self._terms = _TitleTerms(titles, entrada, bank, p, lay.r)
        self._has_r = self._terms.has_r
        self._lines_before = np.concatenate([[0], np.cumsum(1 + entrada.astype(np.int64) + self._has_r)])
        self._entradas_before = np.concatenate([[0], np.cumsum(entrada)])
        self._rs_before = np.concatenate([[0], np.cumsum(self._has_r)])
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
        p, q, r = self._lay.p, self._lay.q, self._lay.r
        p_template = self._template(p, lote, self._fixed["P"])
        q_template = self._template(q, lote, {"movement": RemessaMovement.ENTRADA.value})
        r_template = self._template(r, lote, {"movement": RemessaMovement.ENTRADA.value}) if self._has_r.any() \
            else None
        for a in range(start, stop, self.CHUNK):
            b = min(a + self.CHUNK, stop)
            entrada = self._entrada[a:b]
            first_q, last_q = int(self._entradas_before[a]), int(self._entradas_before[b])
            record_numbers = self._lines_before[a:b] - self._lines_before[start] + 1
            q_count = last_q - first_q
            r_count = int(self._rs_before[b] - self._rs_before[a])
            lines = np.empty((b - a + q_count + r_count, RECORD_WIDTH + 2), dtype=np.uint8)
            if r_count:  # P, Q and R records apart, then each to its line
                records = np.empty((b - a, RECORD_WIDTH + 2), dtype=np.uint8)
                q_records = np.empty((q_count, RECORD_WIDTH + 2), dtype=np.uint8)
            elif q_count == b - a:  # all entradas: P, Q, P, Q...
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
            for name, block in self._terms.p_fields.items():
                _put(records, p[name], block[a:b])
            if q_count:
                _items(q_records)[...] = q_template
                _put(q_records, q["record_number"], _digits(record_numbers[entrada] + 1, q["record_number"].width))
                _put(q_records, q["payer_document_type"],
                     _digits(self._payer_type[first_q:last_q], q["payer_document_type"].width))
                _put(q_records, q["payer_document"], self._payer_document[first_q:last_q])
                for column, text in self._q_text.items():
                    _put(q_records, q[column], text.block(q[column].width, first_q, last_q))
                _put(q_records, q["cep"], self._cep[first_q:last_q])
            if r_count:
                assert r_template is not None
                has_r = self._has_r[a:b]
                r_records = np.empty((r_count, RECORD_WIDTH + 2), dtype=np.uint8)
                _items(r_records)[...] = r_template
                _put(r_records, r["record_number"], _digits(record_numbers[has_r] + 2, r["record_number"].width))
                for name, block in self._terms.r_fields.items():
                    _put(r_records, r[name], block[int(self._rs_before[a]):int(self._rs_before[b])])
                at = record_numbers - record_numbers[0]
                rows = _items(lines)
                rows[at] = _items(records)
                rows[at[entrada] + 1] = _items(q_records)
                rows[at[has_r] + 2] = _items(r_records)
            elif q_count and q_count != b - a:
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


class _TitleTerms:
    """The charge terms' fields of each title: P juros and discount 1 (only where a title has terms, the rest as
    the template has them) and the multa of the R each title with one gets. Refuses what a bank would."""

    def __init__(self, titles: pd.DataFrame, entrada: np.ndarray, bank: ModuleType, p: dict[str, Field],
                 r: dict[str, Field]) -> None:
        n = len(titles)
        self.p_fields: dict[str, np.ndarray] = {}
        self.r_fields: dict[str, np.ndarray] = {}
        if not n or "fine_basis_points" not in titles:
            self.has_r = np.zeros(n, dtype=bool)
            return
        # a baixa identifies a registered title: its terms are the bank's already, and are not sent again
        fine, interest, discount = (np.where(entrada, titles[c].to_numpy(dtype=np.int64), 0)
                                    for c in TERMS_COLUMNS[:3])
        until = titles["discount_until"].to_numpy(dtype="datetime64[D]")
        due = titles["due_date"].to_numpy(dtype="datetime64[D]")
        _refuse_what_banks_refuse(fine, interest, discount, until, due)
        self.has_r = fine > 0
        amounts = titles["amount_cents"].to_numpy(dtype=np.int64)
        after_due = due + np.timedelta64(1, "D")
        has_interest, has_discount = interest > 0, discount > 0
        if has_interest.any():
            if getattr(bank, "INTEREST_AS_DAILY_VALUE", False):
                value = _rounded(amounts * interest, BASIS_POINTS * INTEREST_DAYS_A_MONTH)
            else:
                value = interest * 10 ** (getattr(bank, "INTEREST_RATE_DECIMALS", 2) - 2)
                self.p_fields["interest_code"] = _coded(p["interest_code"], n, has_interest, "2")
            self.p_fields["interest_date"] = _date_digits(pd.Series(np.where(has_interest, after_due, _NAT)),
                                                          p["interest_date"].width)
            self.p_fields["interest_value"] = _digits(np.where(has_interest, value, 0), p["interest_value"].width)
        if has_discount.any():
            if getattr(bank, "DISCOUNT_AS_VALUE", False):
                value = _rounded(amounts * discount, BASIS_POINTS)
            else:
                value = discount
                self.p_fields["discount_code"] = _coded(p["discount_code"], n, has_discount, "2")
            self.p_fields["discount_date"] = _date_digits(pd.Series(np.where(has_discount, until, _NAT)),
                                                          p["discount_date"].width)
            self.p_fields["discount_value"] = _digits(np.where(has_discount, value, 0), p["discount_value"].width)
        if self.has_r.any():
            with_fine = self.has_r
            self.r_fields["fine_code"] = _digits(np.full(int(with_fine.sum()), 2), r["fine_code"].width)
            self.r_fields["fine_date"] = _date_digits(pd.Series(after_due[with_fine]), r["fine_date"].width)
            self.r_fields["fine_value"] = _digits(fine[with_fine], r["fine_value"].width)


_NAT = np.datetime64("NaT", "D")


def _refuse_what_banks_refuse(fine: np.ndarray, interest: np.ndarray, discount: np.ndarray, until: np.ndarray,
                              due: np.ndarray) -> None:
    """charge_terms.bank_problems over every title: the store never holds such terms, so this is a bug's guard."""
    checks = (
        ((fine < 0) | (fine > MAX_FINE_BASIS_POINTS), "a multa outside 0..100%"),
        ((interest < 0) | (interest > MAX_INTEREST_MONTHLY_BASIS_POINTS), "juros outside 0..100% a month"),
        ((discount < 0) | (discount > MAX_DISCOUNT_BASIS_POINTS), "a discount not less than the amount"),
        ((discount > 0) & (np.isnat(until) | (until > due)), "a discount without a date on or before the due date"),
    )
    for bad, what in checks:
        if bad.any():
            raise ValueError(f"{int(bad.sum())} titles with {what}, first at title {int(np.argmax(bad)) + 1}")


def _coded(field: Field, rows: int, where: np.ndarray, code: str) -> np.ndarray:
    """A one-digit código: `code` where `where`, the field's default (template) elsewhere."""
    default = (field.default or "").rjust(field.width, "0" if field.kind == "numeric" else " ")
    block = np.tile(np.frombuffer(default.encode("latin-1"), dtype=np.uint8), (rows, 1))
    block[where] = np.frombuffer(code.rjust(field.width, "0").encode("latin-1"), dtype=np.uint8)
    return block


def _rounded(numerator: np.ndarray, denominator: int) -> np.ndarray:
    """numerator / denominator rounded half up, in integers (cents x basis points fit an int64)."""
    return (2 * numerator + denominator) // (2 * denominator)


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
