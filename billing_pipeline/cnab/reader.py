"""Reading any CNAB 240 cobrança file, remessa or retorno, into one row per title (vectorised).

The bytes become an (n, 240) matrix first (`_records`): LF or CRLF, lines whose trailing blanks were stripped
are padded, 241-character lines (an extra trailing blank) cut, and a UTF-8 file, whose accents made some lines
241 or 243 bytes, is decoded and written back as Latin-1. Every field is then a slice of columns.

A title is a P segment joined with the Q that follows it (remessa) or a T with its U (retorno), by position in
the lote; a remessa's R, after its Q, adds the multa to the P's juros and discount. A partner that is missing, and any count in a trailer that does not add up, is a warning: a title is
never dropped for it. Santander's retorno counts only the detail lines in the lote trailer; that is said, not
hidden.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from types import ModuleType

import numpy as np
import pandas as pd
import pyarrow as pa

from billing_pipeline.cnab.banks import READ_ONLY_NAMES, bank_module
from billing_pipeline.cnab.codes import movement_text, reason_text, remessa_movement_text, split_reasons
from billing_pipeline.cnab.errors import CnabError, CnabErrorCode
from billing_pipeline.cnab.layout import (
    RECORD_WIDTH,
    SPACE,
    ZERO,
    Field,
    block_text,
    read_dates,
    read_digits,
    read_numbers,
    read_text,
    record_layout,
)

SIMULATION_MARK = "SIMULACAO"
"""Written by `simulate.simulate_retorno` into the header's bank name: a retorno no bank sent."""


@dataclass
class CnabFile:
    """One CNAB 240 file as read.

    Header strings: `company_document` the beneficiary's CPF (11) or CNPJ (14) without padding zeros;
    `agencia` 4 digits; `conta` and `convenio` without leading zeros (convênio: BB's 7 digits, Caixa's and
    Santander's código do beneficiário, Bradesco's código do convênio; "" where the bank has none).
    """

    kind: str
    bank_code: str
    bank_name: str
    nsa: int
    generated_on: date | None
    company_document: str
    company_name: str
    agencia: str
    conta: str
    convenio: str
    layout_version: str
    lines: int
    titles: pd.DataFrame
    warnings: list[str] = field(default_factory=list)

    @property
    def simulated(self) -> bool:
        return SIMULATION_MARK in self.bank_name


def looks_like_cnab240(head: bytes) -> bool:
    """The first line is a CNAB 240 header arquivo: 3-digit bank, lote 0000, record type 0, and about 240 long.

    >>> looks_like_cnab240(b"34100000" + b" " * 232 + b"\\r\\n")
    True
    >>> looks_like_cnab240(b"name;cpf;amount\\n")
    False
    """
    line = head.split(b"\n", 1)[0].rstrip(b"\r")
    complete = b"\n" in head
    if complete and not 140 <= len(line) <= 250:
        return False
    return len(line) >= 8 and line[:3].isdigit() and line[3:8] == b"00000"


# --- bytes -> (n, 240) -------------------------------------------------------------------------------------------

def _records(data: bytes, warnings: list[str]) -> np.ndarray:
    for newline in (b"\r\n", b"\n"):
        width = RECORD_WIDTH + len(newline)
        if len(data) % width == 0 and data:
            flat = np.frombuffer(data, dtype=np.uint8).reshape(-1, width)
            if (flat[:, RECORD_WIDTH:] == np.frombuffer(newline, dtype=np.uint8)).all():
                return flat[:, :RECORD_WIDTH]
    if _is_utf8_text(data):
        text = data.decode("utf-8")
        data = text.encode("latin-1", errors="replace")
        warnings.append("the file was UTF-8: read as Latin-1 after decoding")
    lines = data.replace(b"\r\n", b"\n").split(b"\n")
    while lines and not lines[-1].strip(b"\r\x1a "):
        lines.pop()
    if not lines:
        raise CnabError(CnabErrorCode.EMPTY, "the file has no line")
    lengths = np.fromiter((len(line) for line in lines), dtype=np.int64, count=len(lines))
    short, long = np.flatnonzero(lengths < RECORD_WIDTH), np.flatnonzero(lengths > RECORD_WIDTH)
    if len(short):
        warnings.append(f"{len(short)} lines shorter than 240 characters (trailing blanks stripped?) padded with "
                        f"blanks, first line {short[0] + 1}")
    if len(long):
        cut = [i for i in long if lines[i][RECORD_WIDTH:].strip(b" \r")]
        warnings.append(f"{len(long)} lines longer than 240 characters cut to 240, first line {long[0] + 1}"
                        + (f"; line {cut[0] + 1} lost non-blank characters" if cut else " (only blanks)"))
    if (np.abs(lengths - RECORD_WIDTH) > 100).mean() > 0.5:
        raise CnabError(CnabErrorCode.BAD_LINE_LENGTH, f"lines of {int(np.median(lengths))} characters are not "
                        "CNAB 240", 1)
    joined = b"".join(line.rstrip(b"\r")[:RECORD_WIDTH].ljust(RECORD_WIDTH) for line in lines)
    return np.frombuffer(joined, dtype=np.uint8).reshape(-1, RECORD_WIDTH)


def _is_utf8_text(data: bytes) -> bool:
    if data.isascii():
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# --- reading -----------------------------------------------------------------------------------------------------

def read_cnab(data: bytes) -> CnabFile:
    warnings: list[str] = []
    if not data[:4096].strip() and not data.strip():
        raise CnabError(CnabErrorCode.EMPTY, "the file is empty")
    if not looks_like_cnab240(data[:512]):
        raise CnabError(CnabErrorCode.NOT_CNAB240, "the first line is not a CNAB 240 header arquivo", 1)
    matrix = _records(data, warnings)
    record_type = matrix[:, 7]
    unknown = np.flatnonzero(~np.isin(record_type, np.frombuffer(b"01359", dtype=np.uint8)))
    if len(unknown):
        raise CnabError(CnabErrorCode.BAD_RECORD, f"record type {chr(record_type[unknown[0]])!r} at position 8",
                        int(unknown[0]) + 1)
    if record_type[-1] != ord("9"):
        raise CnabError(CnabErrorCode.TRUNCATED, "no trailer arquivo at the end: the file is incomplete",
                        len(matrix))
    kind, header_row, dates_row = _kind(matrix, warnings)
    bank_code = bytes(matrix[0, :3]).decode("latin-1")
    bank = bank_module(bank_code)
    header = _header(matrix[0], bank, kind)
    _check_lotes(matrix, bank, kind, warnings)
    titles = _titles(matrix, bank, kind, warnings)
    generated_on = read_dates(matrix[dates_row:dates_row + 1], header_row["date"])[0]
    nsa, _ = read_numbers(matrix[dates_row:dates_row + 1], header_row["nsa"])
    agencia, conta, convenio = bank.header_account(header)
    document = header.get("company_document", "").lstrip("0")
    document_type = header.get("company_document_type", "")
    if document:
        document = document.zfill(11 if document_type == "1" else 14)
    return CnabFile(
        kind=kind, bank_code=bank_code, bank_name=header.get("bank_name", "") or READ_ONLY_NAMES.get(bank_code, ""),
        nsa=int(nsa[0]), generated_on=None if np.isnat(generated_on) else pd.Timestamp(generated_on).date(),
        company_document=document, company_name=header.get("company_name", ""), agencia=agencia, conta=conta,
        convenio=convenio, layout_version=header.get("layout_version", "").strip(), lines=len(matrix),
        titles=titles, warnings=warnings,
    )


_FILE_DATES = {"date": Field("generated_date", 144, 151, "numeric"), "nsa": Field("nsa", 158, 163, "numeric")}
_LOTE_DATES = {"date": Field("recorded_date", 192, 199, "numeric"), "nsa": Field("nsa", 184, 191, "numeric")}


def _kind(matrix: np.ndarray, warnings: list[str]) -> tuple[str, dict[str, Field], int]:
    """remessa or retorno (header arquivo 143), and where the NSA and date are read. A header arquivo whose 143
    is neither (brcobranca's stripped Sicoob sample lost its bank name, shifting the rest) falls back on the
    first lote header's operation (R remessa, T retorno) and its NSA and recording date."""
    file_kind = chr(matrix[0, 142])
    if file_kind in "12":
        return ("remessa" if file_kind == "1" else "retorno"), _FILE_DATES, 0
    lotes = np.flatnonzero(matrix[:, 7] == ord("1"))
    operation = chr(matrix[lotes[0], 8]) if len(lotes) else ""
    if operation not in ("R", "T"):
        raise CnabError(CnabErrorCode.BAD_HEADER, f"header arquivo position 143 is {file_kind!r}, not 1 (remessa) "
                        "or 2 (retorno), and no lote header says which", 1)
    kind = "remessa" if operation == "R" else "retorno"
    warnings.append(f"header arquivo position 143 is {file_kind!r}, not 1 or 2: the header is malformed; read as a "
                    f"{kind} (lote operation {operation}), NSA and date taken from the lote header")
    return kind, _LOTE_DATES, int(lotes[0])


def _layout(bank: ModuleType, record: str, kind: str = "remessa") -> dict[str, Field]:
    overrides = bank.OVERRIDES
    own = overrides.get(f"{record}_retorno", overrides.get(record, ())) if kind == "retorno" else \
        overrides.get(record, ())
    return record_layout(record, {record: own})


def _header(line: np.ndarray, bank: ModuleType, kind: str) -> dict[str, str]:
    layout = _layout(bank, "header_arquivo", kind)
    row = line[None, :]
    return {name: str(read_text(row, f)[0]).strip() for name, f in layout.items()}


def _check_lotes(matrix: np.ndarray, bank: ModuleType, kind: str, warnings: list[str]) -> None:
    record_type = matrix[:, 7]
    headers, trailers = np.flatnonzero(record_type == ord("1")), np.flatnonzero(record_type == ord("5"))
    lote_layout = _layout(bank, "header_lote", kind)
    services = block_text(matrix[headers][:, lote_layout["service"].columns])
    other = np.flatnonzero(services != "01")
    if len(other):
        raise CnabError(CnabErrorCode.NOT_COBRANCA, f"lote of service {services[other[0]]!r}, not 01 (cobrança)",
                        int(headers[other[0]]) + 1)
    records = read_numbers(matrix[trailers], Field("records", 18, 23, "numeric"))[0]
    if len(headers) != len(trailers):
        warnings.append(f"{len(headers)} lote headers but {len(trailers)} lote trailers")
    for number, (start, end) in enumerate(zip(headers, trailers, strict=False), 1):
        counted, declared = int(end - start + 1), int(records[number - 1])
        if declared == counted:
            continue
        if declared == counted - 2 and bank.LOTE_TRAILER_COUNTS_DETAILS:
            warnings.append(f"lote {number} trailer (line {end + 1}) counts {declared} records: the detail lines "
                            f"only, a known quirk of this bank's files (FEBRABAN counts {counted}, with header and "
                            "trailer)")
        else:
            warnings.append(f"lote {number} trailer (line {end + 1}) counts {declared} records, the lote has "
                            f"{counted}")
    totals, _ = read_numbers(matrix[-1:], Field("lotes_records", 18, 29, "numeric"))
    lotes, lines = divmod(int(totals[0]), 1_000_000)
    if lotes != len(headers):
        warnings.append(f"trailer arquivo counts {lotes} lotes, the file has {len(headers)}")
    if lines != len(matrix) % 1_000_000:
        warnings.append(f"trailer arquivo counts {lines} records, the file has {len(matrix)}")


def _pairs(matrix: np.ndarray, first: str, second: str, warnings: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Row of each title's first segment (or of its second when alone) and of its partner (-1: none)."""
    segment = np.where(matrix[:, 7] == ord("3"), matrix[:, 13], 0)
    lote = matrix[:, 3:7]
    a, b = ord(first), ord(second)
    firsts = np.flatnonzero(segment == a)
    nxt = np.minimum(firsts + 1, len(matrix) - 1)
    joined = (segment[nxt] == b) & (lote[nxt] == lote[firsts]).all(axis=1) & (nxt != firsts)
    partners = np.where(joined, nxt, -1)
    seconds = np.flatnonzero(segment == b)
    taken = np.zeros(len(matrix), dtype=bool)
    taken[partners[joined]] = True
    orphans = seconds[~taken[seconds]]
    if len(orphans):
        warnings.append(f"{len(orphans)} {second} segments without a {first} before them, first at line "
                        f"{orphans[0] + 1}: read as titles of their own")
    rows = np.concatenate([firsts, orphans])
    partner = np.concatenate([partners, np.full(len(orphans), -1)])
    order = np.argsort(rows, kind="stable")
    return rows[order], partner[order]


def _titles(matrix: np.ndarray, bank: ModuleType, kind: str, warnings: list[str]) -> pd.DataFrame:
    first, second = ("P", "Q") if kind == "remessa" else ("T", "U")
    known = np.frombuffer(b"PQRSYTUW", dtype=np.uint8) if kind == "remessa" else \
        np.frombuffer(b"TUWYRPQ", dtype=np.uint8)
    strange = np.flatnonzero((matrix[:, 7] == ord("3")) & ~np.isin(matrix[:, 13], known))
    if len(strange):
        raise CnabError(CnabErrorCode.BAD_SEGMENT, f"segment {chr(matrix[strange[0], 13])!r} in a {kind}",
                        int(strange[0]) + 1)
    rows, partner = _pairs(matrix, first, second, warnings)
    main_is_first = matrix[rows, 13] == ord(first) if len(rows) else np.zeros(0, bool)
    has_partner = partner >= 0
    lone_first = main_is_first & ~has_partner
    if kind == "retorno" and lone_first.any():
        warnings.append(f"{int(lone_first.sum())} {first} segments without their {second}, first at line "
                        f"{rows[lone_first][0] + 1}: amounts paid unknown")
    la, lb = record_layout(first, bank.OVERRIDES), record_layout(second, bank.OVERRIDES)
    a = _Segment(matrix, np.where(main_is_first, rows, -1), [la[name] for name in _FIELDS[first]])
    b = _Segment(matrix, np.where(main_is_first, partner, rows), [lb[name] for name in _FIELDS[second]])
    out: dict[str, object] = {"line_number": rows + 1}
    movement_a, movement_b = a.block(la["movement"]), b.block(lb["movement"])
    moves = np.where(main_is_first[:, None], movement_a, movement_b)  # its first segment's, or its second's alone
    mismatch = main_is_first & has_partner & (movement_a != movement_b).any(axis=1)
    if mismatch.any():
        warnings.append(f"{int(mismatch.sum())} {second} segments with another movement code than their {first}, "
                        f"first at line {rows[mismatch][0] + 2}: the {first}'s is kept")
    out["movement_code"] = _mapped(moves, _field_text, empty=np.array([], dtype=str))
    nosso = a.block(la["nosso_numero"])
    out["nosso_numero"] = _stripped(nosso)
    values, valid = bank.sequences(nosso, first)
    valid &= main_is_first
    out["sequence"] = pd.arrays.IntegerArray(np.where(valid, values, 0).astype(np.int64), ~valid)
    out["document_number"] = _stripped(a.block(la["document_number"]))
    out["company_use"] = _stripped(a.block(la["company_use"]))
    out["due_date"] = read_dates(a.block(la["due_date"]), _WHOLE_DATE)
    out["amount_cents"] = read_digits(a.block(la["amount"]))[0]
    if kind == "remessa":
        _remessa_columns(out, a, b, la, lb, partner >= 0)
        _charge_terms_columns(out, matrix, a, la, _r_rows(matrix, np.where(main_is_first & has_partner, partner, -1)),
                              record_layout("R", bank.OVERRIDES))
        out["movement_text"] = _mapped(moves, remessa_movement_text)
    else:
        _retorno_columns(out, a, b, la, lb, bank, moves, has_partner | ~main_is_first)
    return pd.DataFrame(out)


_FIELDS = {
    "P": ("movement", "nosso_numero", "document_number", "company_use", "due_date", "amount", "issued_on",
          "interest_code", "interest_date", "interest_value", "discount_code", "discount_date", "discount_value"),
    "Q": ("movement", "payer_document_type", "payer_document", "payer_name", "address", "district", "city", "uf",
          "cep"),
    "T": ("movement", "nosso_numero", "document_number", "company_use", "due_date", "amount", "payer_document_type",
          "payer_document", "payer_name", "fee", "reasons"),
    "U": ("movement", "paid", "credited", "interest", "discount", "rebate", "occurrence_date", "credit_date"),
}
"""The fields read of each segment."""

_WHOLE_DATE = Field("date", 1, 8, "numeric")
"""A date field's columns, once gathered on their own."""


class _Segment:
    """The lines at `rows` (-1: a segment that is not there, read as blanks), cut into the fields asked for.

    Gathered a few thousand lines at a time, each chunk copied once (it then sits in the CPU cache) and every
    field cut from it: one pass over the file's memory, not one per field (a field's bytes are a few in each
    240-byte line, so a pass per field costs nearly what a pass over the whole file does)."""

    CHUNK = 2048

    def __init__(self, matrix: np.ndarray, rows: np.ndarray, fields: list[Field]) -> None:
        absent = np.flatnonzero(rows < 0)
        safe = np.maximum(rows, 0) if len(absent) else rows
        fields = list(dict.fromkeys(fields))
        self.blocks = {f: np.empty((len(rows), f.width), dtype=np.uint8) for f in fields}
        for start in range(0, len(rows), self.CHUNK):
            lines = matrix[safe[start:start + self.CHUNK]]
            for f, block in self.blocks.items():
                block[start:start + len(lines)] = lines[:, f.columns]
        for block in self.blocks.values():
            block[absent] = SPACE
        self.present = rows >= 0

    def block(self, field: Field) -> np.ndarray:
        return self.blocks[field]


def _field_text(raw: str) -> str:
    """`read_text` of one field: trailing blanks dropped, and then (numpy's str) trailing NULs."""
    return raw.rstrip(" ").rstrip("\x00")


def _groups(block: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows of equal bytes: (group of each row, first row of each group), by hashing 8-byte words (exact: each
    word is factorised on its own, and the codes combined), far faster than sorting strings."""
    rows = len(block)
    width = max(-(-block.shape[1] // 8) * 8, 8)
    padded = np.zeros((rows, width), dtype=np.uint8)
    padded[:, :block.shape[1]] = block
    words = padded.view(np.uint64)
    codes: np.ndarray = pd.factorize(words[:, 0])[0]
    for column in range(1, words.shape[1]):
        word_codes, word_uniques = pd.factorize(words[:, column])
        codes = pd.factorize(codes * len(word_uniques) + word_codes)[0]
    # factorize numbers groups in order of appearance: a group starts where the running maximum grows
    first = np.flatnonzero(np.diff(np.maximum.accumulate(codes), prepend=-1) > 0) if rows else \
        np.zeros(0, dtype=np.int64)
    return codes, first


def _mapped(block: np.ndarray, function: Callable[[str], str], empty: np.ndarray | None = None) -> object:
    """`function` of each row's text (Latin-1, as in the file), computed once per distinct value."""
    if not len(block):
        return np.array([], dtype=object) if empty is None else empty
    codes, first = _groups(block)
    return _taken([function(bytes(block[i]).decode("latin-1")) for i in first], codes)


def _taken(texts: list[str], codes: np.ndarray) -> object:
    """A str column of `texts[codes]`, built by Arrow from the few distinct texts."""
    return _column(pa.array(texts, type=pa.large_string()).take(pa.array(codes)))


_STR = pd.Series([""]).dtype
"""The dtype pandas gives a column of str built from numpy text: what the columns were before Arrow built them."""


def _column(array: pa.Array) -> object:
    if isinstance(_STR, pd.StringDtype) and _STR.storage == "pyarrow":
        return pd.array(array, dtype=_STR)
    return np.asarray(array.to_pylist(), dtype=object)  # an older pandas: object columns, as it made them


_WHITESPACE = np.array([chr(code).isspace() for code in range(256)])
"""Latin-1 bytes that `str.strip` removes (numpy's `char.strip` too): blanks, tabs, CR/LF, NBSP..."""


def _bounds(keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and one-past-last column of each row where `keep` holds (0, 0 where it never does)."""
    width = keep.shape[1]
    any_kept = keep.any(axis=1)
    end = np.where(any_kept, width - keep[:, ::-1].argmax(axis=1), 0)
    if keep[:, 0].all():  # the usual: left-aligned text
        return np.zeros(len(keep), dtype=np.int64), end
    start = np.where(any_kept, keep.argmax(axis=1), 0)
    return start, end


def _stripped(block: np.ndarray) -> object:
    """`np.char.strip(read_text(...))` of each row, straight from the bytes to an Arrow str column."""
    if (block == 0).any():  # numpy's str drops trailing NULs before and after stripping: let it decide
        return np.char.strip(block_text(block))
    start, end = _bounds(~_WHITESPACE[block])
    return _strings(block, start, end)


def _strings(block: np.ndarray, start: np.ndarray, end: np.ndarray, inside: np.ndarray | None = None) -> object:
    """Columns [start, end) of each row of Latin-1 `block` as a str column: the kept bytes are the Arrow data
    buffer (UTF-8: every byte >= 0x80 becomes two), their cumulated lengths its offsets."""
    rows, width = block.shape
    lengths = (end - start).astype(np.int64)
    if inside is None:
        whole = bool(rows) and bool((start == 0).all()) and bool((end == width).all())
        inside = None if whole else (np.arange(width) >= start[:, None]) & (np.arange(width) < end[:, None])
    data = np.ascontiguousarray(block).reshape(-1) if inside is None else block[inside]
    high = data >= 0x80
    if high.any():
        kept_high = block >= 0x80 if inside is None else (block >= 0x80) & inside
        lengths = lengths + np.count_nonzero(kept_high, axis=1)
        position = np.arange(len(data)) + np.cumsum(high) - high
        utf8 = np.empty(len(data) + int(high.sum()), dtype=np.uint8)
        utf8[position] = np.where(high, 0xC0 | (data >> 6), data)
        utf8[position[high] + 1] = 0x80 | (data[high] & 0x3F)
        data = utf8
    offsets = np.zeros(rows + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return _column(pa.LargeStringArray.from_buffers(rows, pa.py_buffer(offsets), pa.py_buffer(data)))


_SIGNS = np.frombuffer(b"+-", dtype=np.uint8)


def _document(types: np.ndarray, documents: np.ndarray) -> object:
    """The payer's CPF (type 1, 11 digits) or CNPJ (type 2, 14), zero-filled, "" when blank; other types as
    they are, without leading zeros."""
    if not len(documents):
        return np.array([], dtype=str)
    kinds = block_text(types)
    if (documents == 0).any() or np.isin(documents, _SIGNS).any():  # NULs, and zfill's signs: numpy decides
        stripped = np.char.lstrip(np.char.strip(block_text(documents)), "0")
        cpf, cnpj = np.char.zfill(stripped, 11), np.char.zfill(stripped, 14)
        return np.where(stripped == "", "", np.where(kinds == "1", cpf, np.where(kinds == "2", cnpj, stripped)))
    rows, width = documents.shape
    start, end = _bounds(~_WHITESPACE[documents])
    columns = np.arange(width)
    significant = (documents != ZERO) & (columns >= start[:, None]) & (columns < end[:, None])
    start = np.where(significant.any(axis=1), significant.argmax(axis=1), end)
    length = end - start
    target = np.where(kinds == "1", 11, np.where(kinds == "2", 14, 0))
    size = np.where(length == 0, 0, np.maximum(length, target))
    if width >= 14 and (end == width).all():  # the usual: the text already ends at the last column
        aligned = np.where(columns >= start[:, None], documents, ZERO).astype(np.uint8)
        return _strings(aligned, width - size, end)
    # right-aligned in `wide` columns, zeros before: the zero-filled text ends at the last column
    wide = max(width, 14)
    source = np.arange(wide)[None, :] - wide + end[:, None]
    aligned = np.take_along_axis(documents, np.clip(source, 0, width - 1), axis=1)
    aligned = np.where(source >= start[:, None], aligned, ZERO).astype(np.uint8)
    return _strings(aligned, wide - size, np.full(rows, wide))


def _remessa_columns(out: dict[str, object], p: _Segment, q: _Segment, lp: dict[str, Field],
                     lq: dict[str, Field], has_q: np.ndarray) -> None:
    out["issued_on"] = read_dates(p.block(lp["issued_on"]), _WHOLE_DATE)
    out["payer_document"] = _document(q.block(lq["payer_document_type"]), q.block(lq["payer_document"]))
    for column in ("payer_name", "address", "district", "city", "uf"):
        out[column] = _stripped(q.block(lq[column]))
    cep = q.block(lq["cep"])
    if cep.shape[1] == 8 and not (cep == 0).any():
        # read_text keeps 8 characters only where the last is not a blank
        kept = (cep[:, 7] != SPACE) & (cep != ZERO).any(axis=1)
        out["cep"] = _strings(cep, np.zeros(len(cep), dtype=np.int64), np.where(kept, 8, 0))
    else:
        text = block_text(cep)
        out["cep"] = np.where((text == "00000000") | (np.char.str_len(text) != 8), "", text)
    out["q_line_number"] = np.where(has_q, out["line_number"] + 1, 0)  # type: ignore[operator]


def _r_rows(matrix: np.ndarray, q_rows: np.ndarray) -> np.ndarray:
    """The R right after each title's Q in the same lote (-1: none)."""
    nxt = np.minimum(np.maximum(q_rows, 0) + 1, len(matrix) - 1)
    is_r = (q_rows >= 0) & (nxt != q_rows) & (matrix[nxt, 7] == ord("3")) & (matrix[nxt, 13] == ord("R")) & \
        (matrix[nxt, 3:7] == matrix[np.maximum(q_rows, 0), 3:7]).all(axis=1)
    return np.where(is_r, nxt, -1)


def _charge_terms_columns(out: dict[str, object], matrix: np.ndarray, p: _Segment, lp: dict[str, Field],
                          r_rows: np.ndarray, lr: dict[str, Field]) -> None:
    """The P's juros and discount 1 and the R's multa, as written: códigos as text, dates, values as integers in
    the field's own decimals (a rate of 1,00 % is 100, or Santander's 100000; Itaú's are reais a day and reais).
    Only the R lines there are are gathered: most titles have none."""
    for name in ("interest_code", "discount_code"):
        out[name] = _mapped(p.block(lp[name]), str.strip)
    for name in ("interest_date", "discount_date"):
        out[name] = read_dates(p.block(lp[name]), _WHOLE_DATE)
    for name in ("interest_value", "discount_value"):
        out[name] = read_digits(p.block(lp[name]))[0]
    rows = len(r_rows)
    present = np.flatnonzero(r_rows >= 0)
    fields = [lr["fine_code"], lr["fine_date"], lr["fine_value"]]
    code, day, value = (np.full((rows, f.width), SPACE, dtype=np.uint8) for f in fields)
    if len(present):
        r = _Segment(matrix, r_rows[present], fields)
        for block, field_ in zip((code, day, value), fields, strict=True):
            block[present] = r.block(field_)
    out["fine_code"] = _mapped(code, str.strip)
    out["fine_date"] = read_dates(day, _WHOLE_DATE)
    out["fine_value"] = read_digits(value)[0]
    out["r_line_number"] = np.where(r_rows >= 0, r_rows + 1, 0)


def _retorno_columns(out: dict[str, object], t: _Segment, u: _Segment, lt: dict[str, Field],
                     lu: dict[str, Field], bank: ModuleType, movement: np.ndarray, has_u: np.ndarray) -> None:
    has_t = t.present
    out["payer_document"] = _document(t.block(lt["payer_document_type"]), t.block(lt["payer_document"]))
    out["payer_name"] = _payer_name(t.block(lt["payer_name"]))

    def money(layout: dict[str, Field], segment: _Segment, name: str, present: np.ndarray) -> pd.arrays.IntegerArray:
        return pd.arrays.IntegerArray(read_digits(segment.block(layout[name]))[0], ~present)

    out["paid_cents"] = money(lu, u, "paid", has_u)
    out["credited_cents"] = money(lu, u, "credited", has_u)
    out["interest_cents"] = money(lu, u, "interest", has_u)
    out["discount_cents"] = money(lu, u, "discount", has_u)
    out["rebate_cents"] = money(lu, u, "rebate", has_u)
    out["fee_cents"] = money(lt, t, "fee", has_t)
    out["payment_date"] = read_dates(u.block(lu["occurrence_date"]), _WHOLE_DATE)
    out["credit_date"] = read_dates(u.block(lu["credit_date"]), _WHOLE_DATE)
    bank_code = bank.code or None

    def reasons(key: str) -> tuple[str, str]:
        split = split_reasons(key[2:])
        return ",".join(split), "; ".join(f"{r}: {reason_text(key[:2], r, bank_code)}" for r in split)

    if len(movement):
        keys = np.hstack([movement, t.block(lt["reasons"])])
        codes, first = _groups(keys)
        distinct = [reasons(bytes(keys[i]).decode("latin-1")) for i in first]
        out["reasons"] = _taken([d[0] for d in distinct], codes)
        out["reason_texts"] = _taken([d[1] for d in distinct], codes)
    else:
        out["reasons"] = out["reason_texts"] = np.array([], dtype=object)
    out["movement_text"] = _mapped(movement, lambda c: movement_text(c, bank_code))
    line = np.asarray(out["line_number"])
    out["u_line_number"] = np.where(has_u & has_t, line + 1, np.where(has_t, 0, line))


def _payer_name(block: np.ndarray) -> object:
    """Stripped; "" where the name is only zeros (BB fills an unknown name with them)."""
    if (block == 0).any():
        names = np.char.strip(block_text(block))
        return np.where(np.char.strip(names, "0") == "", "", names)
    start, end = _bounds(~_WHITESPACE[block])
    columns = np.arange(block.shape[1])
    inside = (columns >= start[:, None]) & (columns < end[:, None])
    zeros_only = ~((block != ZERO) & inside).any(axis=1)
    if zeros_only.any():
        end = np.where(zeros_only, start, end)
        inside &= ~zeros_only[:, None]
    return _strings(block, start, end, inside)
