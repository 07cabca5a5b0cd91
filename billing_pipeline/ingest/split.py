"""Stream a CSV file once and cut it into chunk spans (byte ranges of whole records).

The file is never held in memory: it is read line by line, tracking quote parity so that a quoted field with a
newline stays inside one record. The same pass checks the encoding (UTF-8, with or without BOM) and notes each
record's debtId so that a debtId repeated anywhere in the file is known before any chunk runs: chunks then run in
parallel without racing each other over which copy wins.
"""

from __future__ import annotations

import csv
import io
from array import array
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

import numpy as np

from billing_pipeline.ingest.file_rejected import FileRejected
from billing_pipeline.ingest.header import parse_header
from billing_pipeline.rejects import RejectCode
from billing_pipeline.statuses import VerdictKind
from billing_pipeline.storage.location import AnyPath
from billing_pipeline.storage.objects import open_stream

UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


@dataclass(frozen=True)
class ChunkSpan:
    chunk_no: int
    byte_start: int
    byte_end: int
    start_line: int  # physical line number at byte_start (blank lines may precede the first record)
    first_line: int
    last_line: int
    rows: int


@dataclass(frozen=True)
class LineVerdict:
    """A decision about one record taken from the whole file (first seen at `first_line` for a debtId that
    repeats)."""

    line_number: int
    verdict: VerdictKind
    debt_id: str
    first_line: int


@dataclass
class FileLayout:
    columns: list[str]
    data_rows: int
    chunks: list[ChunkSpan] = field(default_factory=list)
    verdicts: list[LineVerdict] = field(default_factory=list)
    data_offset: int = 0


@dataclass(frozen=True)
class _Record:
    line_number: int
    end_line: int
    end_offset: int
    raw: bytes
    terminated: bool


def _check_utf8(line: bytes, line_number: int) -> None:
    if line.isascii():
        return
    try:
        line.decode("utf-8")
    except UnicodeDecodeError as error:
        raise FileRejected(
            RejectCode.NOT_UTF8,
            f"line {line_number} has bytes that are not UTF-8 (byte 0x{line[error.start]:02x} at column "
            f"{error.start + 1}); save the file as UTF-8",
            line_number,
        ) from None


def _iter_records(stream: BinaryIO, offset: int, line_number: int) -> Iterator[_Record]:
    """Yield the non-blank records after the header; offsets are absolute byte positions."""
    parts: list[bytes] = []
    in_quotes = False
    record_line = line_number + 1
    for line in stream:
        line_number += 1
        offset += len(line)
        _check_utf8(line, line_number)
        if not parts:
            record_line = line_number
        if in_quotes or b'"' in line:
            in_quotes ^= bool(line.count(b'"') & 1)
        if in_quotes:
            parts.append(line)
            continue
        raw = b"".join(parts) + line if parts else line
        parts.clear()
        if raw.strip():
            yield _Record(record_line, line_number, offset, raw, True)
    if parts:
        yield _Record(record_line, line_number, offset, b"".join(parts), False)


def _debt_id(raw: bytes, id_index: int, column_count: int) -> str | None:
    if b'"' not in raw:
        fields = raw.split(b",")
        if len(fields) != column_count:
            return None
        return fields[id_index].strip().lower().decode("utf-8")
    try:
        row = next(csv.reader(io.StringIO(raw.decode("utf-8"), newline="")))
    except (csv.Error, StopIteration):
        return None
    return row[id_index].strip().lower() if len(row) == column_count else None


def _read_header(stream: BinaryIO) -> tuple[list[str], int]:
    first = stream.readline()
    if not first:
        raise FileRejected(RejectCode.EMPTY_FILE, "the file is empty: it needs a header line and data rows", 1)
    if first.startswith(_UTF16_BOMS):
        raise FileRejected(RejectCode.NOT_UTF8, "the file is UTF-16; save it as UTF-8", 1)
    size = len(first)
    if first.startswith(UTF8_BOM):
        first = first[len(UTF8_BOM) :]
    _check_utf8(first, 1)
    text = first.decode("utf-8").strip("\r\n")
    if not text.strip():
        raise FileRejected(RejectCode.EMPTY_FILE, "the first line is blank: the file must start with its header", 1)
    return parse_header(text), size


def count_data_lines(path: AnyPath) -> int:
    """The non-blank lines after the first of a file that could not be split: the rows a rejected file brought,
    all rejected with it. Counted on bytes, as such a file may not decode at all.

    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.NamedTemporaryFile(suffix=".csv", delete=False) as f:
    ...     _ = f.write(b"name;governmentId\\nAna;1\\n\\n  \\nBia;2")
    >>> count_data_lines(Path(f.name))
    2
    """
    count = 0
    with open_stream(path) as stream:
        stream.readline()
        for line in stream:
            count += bool(line.strip())
    return count


def split_file(path: AnyPath, chunk_rows: int) -> FileLayout:
    """Cut `path` into spans of `chunk_rows` records; raise FileRejected for a file that cannot be read at all."""
    with open_stream(path) as stream:
        columns, header_size = _read_header(stream)
        layout = FileLayout(columns=columns, data_rows=0, data_offset=header_size)
        id_index = columns.index("debtId")
        id_hashes, line_numbers = array("q"), array("q")

        chunk_start, chunk_start_line, chunk_first_line, chunk_count = header_size, 2, 0, 0
        for record in _iter_records(stream, header_size, 1):
            layout.data_rows += 1
            if chunk_count == 0:
                chunk_first_line = record.line_number
            chunk_count += 1
            if not record.terminated:
                layout.verdicts.append(LineVerdict(record.line_number, VerdictKind.UNTERMINATED, "", record.line_number))
            elif (debt_id := _debt_id(record.raw, id_index, len(columns))) is not None:
                id_hashes.append(hash(debt_id))
                line_numbers.append(record.line_number)
            if chunk_count == chunk_rows:
                layout.chunks.append(
                    ChunkSpan(len(layout.chunks), chunk_start, record.end_offset, chunk_start_line,
                              chunk_first_line, record.line_number, chunk_count)
                )
                chunk_start, chunk_start_line, chunk_count = record.end_offset, record.end_line + 1, 0
            last_record = record
        if chunk_count:
            layout.chunks.append(
                ChunkSpan(len(layout.chunks), chunk_start, last_record.end_offset, chunk_start_line,
                          chunk_first_line, last_record.line_number, chunk_count)
            )

        candidates = _repeated_id_lines(id_hashes, line_numbers)
        if candidates:
            stream.seek(header_size)
            layout.verdicts.extend(_duplicate_verdicts(stream, header_size, id_index, len(columns), candidates))
    layout.verdicts.sort(key=lambda v: v.line_number)
    return layout


def _repeated_id_lines(id_hashes: array, line_numbers: array) -> set[int]:
    """Lines whose debtId hash occurs more than once: candidates, confirmed on the real values afterwards."""
    if len(id_hashes) < 2:
        return set()
    hashes = np.frombuffer(id_hashes, dtype=np.int64)
    _, inverse, counts = np.unique(hashes, return_inverse=True, return_counts=True)
    repeated = counts[inverse] > 1
    return set(np.frombuffer(line_numbers, dtype=np.int64)[repeated].tolist())


def _duplicate_verdicts(
    stream: BinaryIO, header_size: int, id_index: int, column_count: int, candidates: set[int]
) -> list[LineVerdict]:
    groups: dict[str, list[tuple[int, bytes]]] = defaultdict(list)
    for record in _iter_records(stream, header_size, 1):
        if record.line_number in candidates:
            debt_id = _debt_id(record.raw, id_index, column_count)
            if debt_id is not None:
                groups[debt_id].append((record.line_number, record.raw.rstrip(b"\r\n")))
    verdicts: list[LineVerdict] = []
    for debt_id, copies in groups.items():
        if len(copies) < 2:
            continue
        first_line = copies[0][0]
        if all(content == copies[0][1] for _, content in copies):
            verdicts.extend(LineVerdict(line, VerdictKind.DUPLICATE, debt_id, first_line) for line, _ in copies[1:])
        else:
            verdicts.extend(LineVerdict(line, VerdictKind.CONFLICT, debt_id, first_line) for line, _ in copies)
    return verdicts
