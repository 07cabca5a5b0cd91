from __future__ import annotations

from pathlib import Path

import pytest

from billing_pipeline.ingest.file_rejected import FileRejected
from billing_pipeline.ingest.records import read_chunk
from billing_pipeline.ingest.split import split_file
from billing_pipeline.sample import write_sample

HEADER = "name,governmentId,email,debtAmount,debtDueDate,debtId\n"


def _row(n: int, name: str = "Ana") -> str:
    return f"{name},52998224725,a{n}@example.com,{n}.00,2026-01-01,00000000-0000-4000-8000-{n:012d}\n"


def test_chunks_are_whole_records_and_cover_every_row(tmp_path: Path):
    path = tmp_path / "f.csv"
    path.write_text(HEADER + "".join(_row(n) for n in range(1, 11)))

    layout = split_file(path, chunk_rows=4)

    assert [c.rows for c in layout.chunks] == [4, 4, 2]
    assert [(c.first_line, c.last_line) for c in layout.chunks] == [(2, 5), (6, 9), (10, 11)]
    assert layout.chunks[0].byte_start == len(HEADER)
    assert layout.chunks[-1].byte_end == path.stat().st_size
    lines = [line for chunk in layout.chunks for line in read_chunk(path, chunk, layout.columns).fields["line_number"]]
    assert lines == list(range(2, 12))


def test_quoted_newline_never_splits_a_record_and_line_numbers_stay_physical(tmp_path: Path):
    path = tmp_path / "f.csv"
    path.write_text(HEADER + _row(1) + _row(2, '"Multi\nline\nname"') + "\n" + _row(3))

    layout = split_file(path, chunk_rows=2)

    assert layout.data_rows == 3
    assert [(c.first_line, c.last_line) for c in layout.chunks] == [(2, 3), (7, 7)]
    second = read_chunk(path, layout.chunks[1], layout.columns).fields
    assert second["line_number"].tolist() == [7]
    first = read_chunk(path, layout.chunks[0], layout.columns).fields
    assert first["name"].tolist() == ["Ana", "Multi\nline\nname"]


def test_streaming_split_of_a_large_file_matches_its_row_count(tmp_path: Path):
    path = tmp_path / "big.csv"
    write_sample(path, rows=30_000, seed=1)
    layout = split_file(path, chunk_rows=7_000)
    assert layout.data_rows == 30_000
    assert [c.rows for c in layout.chunks] == [7_000] * 4 + [2_000]


def test_repeated_ids_get_file_wide_verdicts(tmp_path: Path):
    path = tmp_path / "f.csv"
    path.write_text(HEADER + _row(1) + _row(2) + _row(1) + _row(2, "Other") + _row(1) + _row(3))

    verdicts = {(v.line_number, v.verdict, v.first_line) for v in split_file(path, 2).verdicts}

    assert verdicts == {(4, "duplicate", 2), (6, "duplicate", 2), (3, "conflict", 3), (5, "conflict", 3)}


def test_invalid_utf8_names_the_line(tmp_path: Path):
    path = tmp_path / "f.csv"
    path.write_bytes((HEADER + _row(1)).encode() + _row(2, "Jos\xe9").encode("latin-1"))
    with pytest.raises(FileRejected) as raised:
        split_file(path, 10)
    assert raised.value.code == "NOT_UTF8"
    assert raised.value.line_number == 3
