"""The Arrow reader of plain chunks (no quotes) gives exactly what the csv module gives, rejects included."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from billing_pipeline.ingest import records
from billing_pipeline.ingest.header import REQUIRED_COLUMNS
from billing_pipeline.ingest.split import ChunkSpan
from billing_pipeline.sample import write_sample

COLUMNS = list(REQUIRED_COLUMNS)
EDGE_LINES = [
    "Ana Silva,123, a@b.com ,10.5,2024-01-01,u1",
    "",
    "   ",
    "x,y",
    "a,b,c,d,e,f,g",
    "Bob\t, 1 ,e@x.io,1,2024-02-02,u2\r",
    "Ção,9,é@x.com,3,2024-03-03,u3",
    ",,,,,",
    "q" * 9000 + ",1,2,3,4,5",
    "\u00a0Zé\u00a0,1,2,3,4,5",
]


def both_readers(tmp_path: Path, text: str, columns: list[str], monkeypatch) -> tuple:
    path = tmp_path / "chunk.csv"
    path.write_bytes(text.encode("utf-8"))
    span = ChunkSpan(chunk_no=0, byte_start=0, byte_end=path.stat().st_size, start_line=2, first_line=2,
                     last_line=2 + text.count("\n"), rows=text.count("\n"))
    assert records._plain(text)
    arrow = records.read_chunk(path, span, columns)
    with monkeypatch.context() as patch:
        patch.setattr(records, "_plain", lambda _text: False)
        csv_module = records.read_chunk(path, span, columns)
    return arrow, csv_module


@pytest.mark.parametrize("ending", ["\n", ""])
def test_edge_lines_read_the_same(tmp_path, monkeypatch, ending):
    arrow, csv_module = both_readers(tmp_path, "\n".join(EDGE_LINES) + ending, COLUMNS, monkeypatch)
    pd.testing.assert_frame_equal(arrow.fields, csv_module.fields)
    pd.testing.assert_frame_equal(arrow.rejects, csv_module.rejects, check_dtype=False)
    assert arrow.rejects["code"].tolist() == ["WRONG_FIELD_COUNT", "WRONG_FIELD_COUNT"]
    assert arrow.fields["name"].tolist()[-1] == "Zé"


def test_a_sample_file_with_columns_reordered_reads_the_same(tmp_path, monkeypatch):
    source = tmp_path / "sample.csv"
    write_sample(source, rows=3_000, seed=5)
    frame = pd.read_csv(source, dtype=str, keep_default_na=False)
    reordered = ["debtId", *COLUMNS[:-1]]
    body = frame[reordered].to_csv(index=False, header=False, lineterminator="\r\n")
    if '"' in body:
        pytest.skip("the sample quoted a value; the csv-module path covers quoted files")
    arrow, csv_module = both_readers(tmp_path, body, reordered, monkeypatch)
    pd.testing.assert_frame_equal(arrow.fields, csv_module.fields)
    assert len(arrow.fields) == 3_000 and arrow.rejects.empty


@pytest.mark.parametrize("text", ['a,"b",c\n', "a,b\x00,c\n", "a,b\rc,d\n"])
def test_quotes_nuls_and_bare_carriage_returns_take_the_csv_module(text):
    assert not records._plain(text)
