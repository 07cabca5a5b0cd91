"""The FEBRABAN "Layout Padrão 240 posições" (v10.x) for cobrança, as data: record -> fields.

Positions are 1-based and inclusive, as the manuals print them. A `numeric` field is right-aligned and zero-filled,
an `alpha` field left-aligned and space-filled; `default` is the constant a writer puts there when it has no value
of its own (None: zeros for numeric, blanks for alpha). The banks differ from this table in a few places (where the
convênio, the carteira or the nosso número sit; Santander's T segment is shifted by the agência/conta it leaves
out): a bank module lists those fields and `record_layout` lays them over the generic ones, dropping every generic
field they overlap, so a layout never has two fields on one column.

>>> layout = record_layout("T", {"T": (Field("nosso_numero", 41, 53, "alpha"),)})
>>> layout["nosso_numero"].width, "conta" in layout, layout["due_date"].start
(13, True, 74)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

RECORD_WIDTH = 240

Kind = Literal["numeric", "alpha"]


@dataclass(frozen=True)
class Field:
    name: str
    start: int
    end: int
    kind: Kind
    default: str | None = None

    @property
    def width(self) -> int:
        return self.end - self.start + 1

    @property
    def columns(self) -> slice:
        return slice(self.start - 1, self.end)


def _n(name: str, start: int, end: int, default: str | None = None) -> Field:
    return Field(name, start, end, "numeric", default)


def _a(name: str, start: int, end: int, default: str | None = None) -> Field:
    return Field(name, start, end, "alpha", default)


def _control(record_type: str, lote: str | None = None) -> tuple[Field, ...]:
    return (_n("bank_code", 1, 3), _n("lote", 4, 7, lote), _n("record_type", 8, 8, record_type))


def _detail(segment: str) -> tuple[Field, ...]:
    return (*_control("3"), _n("record_number", 9, 13), _a("segment", 14, 14, segment), _a("cnab_15", 15, 15),
            _n("movement", 16, 17))


FEBRABAN: dict[str, tuple[Field, ...]] = {
    "header_arquivo": (
        *_control("0", "0000"), _a("cnab_9", 9, 17),
        _n("company_document_type", 18, 18), _n("company_document", 19, 32), _a("convenio", 33, 52),
        _n("agencia", 53, 57), _a("agencia_dv", 58, 58), _n("conta", 59, 70), _a("conta_dv", 71, 71),
        _a("agencia_conta_dv", 72, 72), _a("company_name", 73, 102), _a("bank_name", 103, 132),
        _a("cnab_133", 133, 142), _n("file_kind", 143, 143), _n("generated_date", 144, 151),
        _n("generated_time", 152, 157), _n("nsa", 158, 163), _n("layout_version", 164, 166),
        _n("density", 167, 171), _a("bank_reserved", 172, 191), _a("company_reserved", 192, 211),
        _a("cnab_212", 212, 240),
    ),
    "header_lote": (
        *_control("1"), _a("operation", 9, 9, "R"), _n("service", 10, 11, "01"), _a("cnab_12", 12, 13),
        _n("layout_version", 14, 16), _a("cnab_17", 17, 17), _n("company_document_type", 18, 18),
        _n("company_document", 19, 33), _a("convenio", 34, 53), _n("agencia", 54, 58), _a("agencia_dv", 59, 59),
        _n("conta", 60, 71), _a("conta_dv", 72, 72), _a("agencia_conta_dv", 73, 73), _a("company_name", 74, 103),
        _a("message_1", 104, 143), _a("message_2", 144, 183), _n("nsa", 184, 191), _n("recorded_date", 192, 199),
        _n("credit_date", 200, 207), _a("cnab_208", 208, 240),
    ),
    "P": (
        *_detail("P"), _n("agencia", 18, 22), _a("agencia_dv", 23, 23), _n("conta", 24, 35), _a("conta_dv", 36, 36),
        _a("agencia_conta_dv", 37, 37), _a("nosso_numero", 38, 57), _n("carteira_code", 58, 58, "1"),
        _n("registration", 59, 59, "1"), _a("document_type", 60, 60, "1"), _n("issuance", 61, 61, "2"),
        _a("distribution", 62, 62, "2"), _a("document_number", 63, 77), _n("due_date", 78, 85),
        _n("amount", 86, 100), _n("collecting_agencia", 101, 105), _a("collecting_agencia_dv", 106, 106, "0"),
        _n("species", 107, 108, "02"), _a("acceptance", 109, 109, "N"), _n("issued_on", 110, 117),
        _n("interest_code", 118, 118, "3"), _n("interest_date", 119, 126), _n("interest_value", 127, 141),
        _n("discount_code", 142, 142), _n("discount_date", 143, 150), _n("discount_value", 151, 165),
        _n("iof", 166, 180), _n("rebate", 181, 195), _a("company_use", 196, 220), _n("protest_code", 221, 221, "3"),
        _n("protest_days", 222, 223), _n("write_off_code", 224, 224, "2"), _n("write_off_days", 225, 227),
        _n("currency", 228, 229, "09"), _n("contract", 230, 239), _a("cnab_240", 240, 240),
    ),
    "Q": (
        *_detail("Q"), _n("payer_document_type", 18, 18), _n("payer_document", 19, 33), _a("payer_name", 34, 73),
        _a("address", 74, 113), _a("district", 114, 128), _n("cep", 129, 136), _a("city", 137, 151),
        _a("uf", 152, 153), _n("guarantor_document_type", 154, 154), _n("guarantor_document", 155, 169),
        _a("guarantor_name", 170, 209), _n("correspondent_bank", 210, 212), _a("correspondent_nosso_numero", 213, 232),
        _a("cnab_233", 233, 240),
    ),
    "R": (
        *_detail("R"), _n("discount_2_code", 18, 18), _n("discount_2_date", 19, 26), _n("discount_2_value", 27, 41),
        _n("discount_3_code", 42, 42), _n("discount_3_date", 43, 50), _n("discount_3_value", 51, 65),
        _n("fine_code", 66, 66), _n("fine_date", 67, 74), _n("fine_value", 75, 89),
        _a("payer_information", 90, 99), _a("message_3", 100, 139), _a("message_4", 140, 179),
        _a("cnab_180", 180, 199), _n("payer_occurrence_code", 200, 207), _n("debit_bank", 208, 210),
        _n("debit_agencia", 211, 215), _a("debit_agencia_dv", 216, 216), _n("debit_conta", 217, 228),
        _a("debit_conta_dv", 229, 229), _a("debit_agencia_conta_dv", 230, 230), _n("debit_notice", 231, 231),
        _a("cnab_232", 232, 240),
    ),
    "T": (
        *_detail("T"), _n("agencia", 18, 22), _a("agencia_dv", 23, 23), _n("conta", 24, 35), _a("conta_dv", 36, 36),
        _a("agencia_conta_dv", 37, 37), _a("nosso_numero", 38, 57), _n("carteira_code", 58, 58),
        _a("document_number", 59, 73), _n("due_date", 74, 81), _n("amount", 82, 96), _n("collecting_bank", 97, 99),
        _n("collecting_agencia", 100, 104), _a("collecting_agencia_dv", 105, 105), _a("company_use", 106, 130),
        _n("currency", 131, 132), _n("payer_document_type", 133, 133), _a("payer_document", 134, 148),
        _a("payer_name", 149, 188), _a("contract", 189, 198), _n("fee", 199, 213), _a("reasons", 214, 223),
        _a("cnab_224", 224, 240),
    ),
    "U": (
        *_detail("U"), _n("interest", 18, 32), _n("discount", 33, 47), _n("rebate", 48, 62), _n("iof", 63, 77),
        _n("paid", 78, 92), _n("credited", 93, 107), _n("other_expenses", 108, 122), _n("other_credits", 123, 137),
        _n("occurrence_date", 138, 145), _n("credit_date", 146, 153), _a("payer_occurrence_code", 154, 157),
        _n("payer_occurrence_date", 158, 165), _n("payer_occurrence_amount", 166, 180),
        _a("payer_occurrence_text", 181, 210), _n("correspondent_bank", 211, 213),
        _a("correspondent_nosso_numero", 214, 233), _a("cnab_234", 234, 240),
    ),
    "trailer_lote": (
        *_control("5"), _a("cnab_9", 9, 17), _n("records", 18, 23), _n("simple_count", 24, 29),
        _n("simple_total", 30, 46), _n("linked_count", 47, 52), _n("linked_total", 53, 69),
        _n("caucionada_count", 70, 75), _n("caucionada_total", 76, 92), _n("discounted_count", 93, 98),
        _n("discounted_total", 99, 115), _a("notice", 116, 123), _a("cnab_124", 124, 240),
    ),
    "trailer_arquivo": (
        *_control("9", "9999"), _a("cnab_9", 9, 17), _n("lotes", 18, 23), _n("records", 24, 29),
        _n("accounts", 30, 35), _a("cnab_36", 36, 240),
    ),
}
"""FEBRABAN 240 v10.x, cobrança: header/trailer of file and lote, remessa segments P, Q and R, retorno T and U.

P 118-165 carry the juros (código 1 valor por dia, 2 taxa mensal, 3 isento; the date they start; the value or
rate, 2 decimals) and discount 1 (código 0 none, 1 valor fixo, 2 percentual até a data; its date; value or
percent); R 66-89 the multa (código 0 none, 1 valor fixo, 2 percentual; the date it starts; value or percent)."""

Overrides = Mapping[str, Sequence[Field]]


def record_layout(record: str, overrides: Overrides | None = None) -> dict[str, Field]:
    """The fields of one record for a bank: the generic ones, with the bank's laid over them."""
    own = tuple((overrides or {}).get(record, ()))
    taken = np.zeros(RECORD_WIDTH + 1, dtype=bool)
    for field in own:
        if taken[field.start:field.end + 1].any():
            raise ValueError(f"{record}: override {field.name} overlaps another override")
        taken[field.start:field.end + 1] = True
    names = {field.name for field in own}
    kept = [f for f in FEBRABAN[record] if f.name not in names and not taken[f.start:f.end + 1].any()]
    return {field.name: field for field in sorted((*kept, *own), key=lambda f: f.start)}


def template(layout: Mapping[str, Field]) -> np.ndarray:
    """The 240 bytes of a record with every field at its default: the line a writer starts from."""
    line = np.full(RECORD_WIDTH, ord(" "), dtype=np.uint8)
    for field in layout.values():
        if field.default is not None:
            text = field.default.rjust(field.width, "0") if field.kind == "numeric" else field.default.ljust(field.width)
            if len(text) != field.width:
                raise ValueError(f"default of {field.name} does not fit {field.width} columns")
            line[field.columns] = np.frombuffer(text.encode("latin-1"), dtype=np.uint8)
        elif field.kind == "numeric":
            line[field.columns] = ord("0")
    return line


# --- filling and reading fields of an (n, 240) uint8 matrix, one record per row ------------------------------------

SPACE, ZERO = np.uint8(ord(" ")), np.uint8(ord("0"))


def text_matrix(values: Sequence[str] | np.ndarray, width: int) -> np.ndarray:
    """Strings -> (n, width) Latin-1 bytes, left-aligned and space-filled; longer strings are cut.

    The values are expected to be CNAB text already (`text.cnab_text`); a character outside Latin-1 is an error,
    never a silent '?'.
    """
    codes = np.asarray(values, dtype=f"U{width}").view(np.uint32).reshape(-1, width)
    if codes.size and codes.max() > 255:
        raise ValueError("a CNAB text field holds a character outside Latin-1")
    out = codes.astype(np.uint8)
    out[codes == 0] = SPACE
    return out


def digit_matrix(values: np.ndarray, width: int) -> np.ndarray:
    """Non-negative integers -> (n, width) ASCII digits, zero-filled; a value that does not fit is an error."""
    numbers = np.asarray(values, dtype=np.int64)
    if numbers.size and (numbers.min() < 0 or (width < 19 and numbers.max() >= 10**width)):
        raise ValueError(f"a value does not fit a numeric field of {width} digits")
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return ((numbers[:, None] // powers) % 10 + 48).astype(np.uint8)


def date_numbers(dates: np.ndarray) -> np.ndarray:
    """datetime64 -> DDMMAAAA as integers, 0 for NaT (the manuals' "zeros" for an absent date)."""
    days = np.asarray(dates, dtype="datetime64[D]")
    missing = np.isnat(days)
    safe = np.where(missing, np.datetime64("1970-01-01", "D"), days)
    months = safe.astype("datetime64[M]")
    year = months.astype("datetime64[Y]").astype(np.int64) + 1970
    month = months.astype(np.int64) % 12 + 1
    day = (safe - months.astype("datetime64[D]")).astype(np.int64) + 1
    return np.where(missing, 0, day * 1_000_000 + month * 10_000 + year)


def put(matrix: np.ndarray, field: Field, block: np.ndarray) -> None:
    if block.shape[1] != field.width:
        raise ValueError(f"{field.name}: {block.shape[1]} columns for a field of {field.width}")
    matrix[:, field.columns] = block


def put_numbers(matrix: np.ndarray, field: Field, values: np.ndarray) -> None:
    put(matrix, field, digit_matrix(values, field.width))


def put_text(matrix: np.ndarray, field: Field, values: Sequence[str] | np.ndarray) -> None:
    put(matrix, field, text_matrix(values, field.width))


def put_dates(matrix: np.ndarray, field: Field, dates: np.ndarray) -> None:
    put_numbers(matrix, field, date_numbers(dates))


def put_constant(matrix: np.ndarray, field: Field, text: str) -> None:
    """One value for every row (account data, dates of the file), aligned as the field's kind says."""
    aligned = text.rjust(field.width, "0") if field.kind == "numeric" else text.ljust(field.width)
    if len(aligned) != field.width:
        raise ValueError(f"{field.name}: {text!r} does not fit {field.width} columns")
    matrix[:, field.columns] = np.frombuffer(aligned.encode("latin-1"), dtype=np.uint8)


def read_digits(block: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(n, w) bytes -> (int64 values, True where every byte is a digit); other bytes count as zeros.

    Eight digits at a time, as one 64-bit word (SWAR): three multiply-shift steps turn eight ASCII digits into
    their number, a few passes over n words instead of w passes over n bytes.

    >>> values, valid = read_digits(np.frombuffer(b"0123456789" b" 12A45    ", dtype=np.uint8).reshape(2, 10))
    >>> values.tolist(), valid.tolist()
    ([123456789, 120450000], [True, False])
    """
    rows, width = block.shape
    if width > 18:
        # 19+ digits overflow int64; the fields this long carry identifiers, read as text
        raise ValueError("read_digits reads at most 18 digits")
    words = max(-(-width // 8), 1)
    padded = np.full((rows, words * 8), ZERO, dtype=np.uint8)
    padded[:, words * 8 - width:] = block
    lanes = padded.view("<u8")
    value = np.zeros(rows, dtype=np.uint64)
    valid = np.ones(rows, dtype=bool)
    for word in range(words):
        x = np.ascontiguousarray(lanes[:, word])
        high = x & _HIGH_NIBBLES
        valid &= high == _ASCII_ZEROS
        valid &= ((x + _SIXES) & _HIGH_NIBBLES) == _ASCII_ZEROS
        x &= _LOW_NIBBLES
        x = ((x * np.uint64(10)) + (x >> np.uint64(8))) & _PAIR_MASK
        x = ((x * np.uint64(100)) + (x >> np.uint64(16))) & _QUAD_MASK
        x = ((x * np.uint64(10_000)) + (x >> np.uint64(32))) & _OCTET_MASK
        value = value * np.uint64(100_000_000) + x if word else x
    values = value.astype(np.int64)
    bad = np.flatnonzero(~valid)
    if len(bad):  # the word trick reads a letter as its low nibble: read these rows byte by byte
        values[bad] = _read_digits_bytewise(block[bad])
    return values, valid


_HIGH_NIBBLES, _LOW_NIBBLES = np.uint64(0xF0F0F0F0F0F0F0F0), np.uint64(0x0F0F0F0F0F0F0F0F)
_ASCII_ZEROS, _SIXES = np.uint64(0x3030303030303030), np.uint64(0x0606060606060606)
_PAIR_MASK, _QUAD_MASK, _OCTET_MASK = np.uint64(0x00FF00FF00FF00FF), np.uint64(0x0000FFFF0000FFFF), \
    np.uint64(0x00000000FFFFFFFF)


def _read_digits_bytewise(block: np.ndarray) -> np.ndarray:
    digits = block - ZERO  # uint8: anything below '0' wraps above 9
    digits = np.where(digits <= 9, digits, 0).astype(np.int64)
    powers = 10 ** np.arange(block.shape[1] - 1, -1, -1, dtype=np.int64)
    return np.asarray(digits @ powers, dtype=np.int64)


def read_numbers(matrix: np.ndarray, field: Field) -> tuple[np.ndarray, np.ndarray]:
    return read_digits(matrix[:, field.columns])


def read_text(matrix: np.ndarray, field: Field) -> np.ndarray:
    """The field of each row as str, trailing blanks removed (leading ones kept: they can mean something)."""
    return block_text(matrix[:, field.columns])


def block_text(block: np.ndarray) -> np.ndarray:
    rows, width = block.shape
    if width == 0 or rows == 0:
        return np.full(rows, "", dtype="U1")
    nonblank = block != SPACE
    end = np.where(nonblank.any(axis=1), width - np.argmax(nonblank[:, ::-1], axis=1), 0)
    codes = block.astype(np.uint32)
    codes[np.arange(width)[None, :] >= end[:, None]] = 0
    return np.ascontiguousarray(codes).view(f"U{width}").ravel()


def read_dates(matrix: np.ndarray, field: Field) -> np.ndarray:
    """DDMMAAAA (or DDMMAA, read as 20AA) -> datetime64[D], NaT for zeros, blanks and impossible dates.

    >>> dates = np.frombuffer(b"31122026" b"31022026" b"00000000" b"        ", dtype=np.uint8).reshape(4, 8)
    >>> read_dates(dates, Field("date", 1, 8, "numeric")).tolist()
    [datetime.date(2026, 12, 31), None, None, None]
    """
    value, valid = read_numbers(matrix, field)
    # a file holds few distinct dates: the calendar arithmetic (integer divisions, slow) runs once per date
    codes, distinct = pd.factorize(np.where(valid, value, -1))
    return _civil_dates(distinct, field.width)[codes]


def _civil_dates(value: np.ndarray, width: int) -> np.ndarray:
    valid = value >= 0
    if width == 6:
        day, month, year = value // 10_000, value // 100 % 100, value % 100 + 2000
    else:
        day, month, year = value // 1_000_000, value // 10_000 % 100, value % 10_000
    ok = valid & (month >= 1) & (month <= 12) & (day >= 1) & (year >= 1900)
    month = np.where(ok, month, 1)
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    ok &= day <= _MONTH_DAYS[month] + ((month == 2) & leap)  # 31/02 is not a date
    # days since 1970-01-01 from the civil date (H. Hinnant's days_from_civil), in integers: no datetime casts
    shifted = year - (month <= 2)
    era = shifted // 400
    year_of_era = shifted - era * 400
    day_of_year = (153 * ((month + 9) % 12) + 2) // 5 + day - 1
    days = era * 146_097 + year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year - 719_468
    return np.where(ok, days, _NAT_DAYS).astype("datetime64[D]")


_MONTH_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)
_NAT_DAYS = np.datetime64("NaT", "D").astype(np.int64)
