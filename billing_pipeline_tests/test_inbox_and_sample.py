from __future__ import annotations

import hashlib

import pytest

from billing_pipeline.cli import main
from billing_pipeline.ingest import inbox
from billing_pipeline.sample import ERROR_KINDS, generate


def test_ignored_names():
    assert inbox.is_ignored(".hidden.csv")
    assert inbox.is_ignored("upload.csv.part")
    assert inbox.is_ignored("upload.TMP")
    assert not inbox.is_ignored("debts.csv")


def test_submit_never_exposes_a_partial_file(tmp_path):
    source = tmp_path / "debts.csv"
    source.write_bytes(b"x" * 10_000)
    target = inbox.submit(source, tmp_path / "inbox")
    assert target.read_bytes() == source.read_bytes()
    assert [p.name for p in (tmp_path / "inbox").iterdir()] == ["debts.csv"]
    with pytest.raises(FileNotFoundError):
        inbox.submit(tmp_path / "missing.csv", tmp_path / "inbox")


def test_identity_is_the_sha256_of_the_bytes(tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes(b"abc" * 1_000_000)
    assert inbox.sha256_of(path) == hashlib.sha256(b"abc" * 1_000_000).hexdigest()


def test_sample_is_reproducible_and_injects_every_error_kind(tmp_path, capsys):
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    assert main(["sample", "--rows", "2000", "--seed", "3", "--invalid-rate", "0.01", "-o", str(first)]) == 0
    assert main(["sample", "--rows", "2000", "--seed", "3", "--invalid-rate", "0.01", "-o", str(second)]) == 0
    assert first.read_bytes() == second.read_bytes()
    assert "wrote 2000 rows" in capsys.readouterr().out

    frame, injected = generate(2000, seed=3, invalid_rate=0.01)
    assert {e.code for e in injected} == set(ERROR_KINDS)
    assert len(frame) == 2000
