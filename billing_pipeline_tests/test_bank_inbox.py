"""Where retornos come in: the retorno inbox, or the inbox itself beside the CSVs, told apart by the first line;
the CSV look never takes a retorno (it would be rejected as a CSV without columns)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from billing_pipeline import stages
from billing_pipeline.settings import Settings

HEADER = b"34100000" + b" " * 134 + b"2" + b" " * 97 + b"\r\n"  # a header arquivo: bank 341, lote 0000, type 0


def _old(path: Path) -> Path:
    """Written a while ago: complete at the first look."""
    an_hour_ago = time.time() - 3600
    os.utime(path, (an_hour_ago, an_hour_ago))
    return path


def test_a_retorno_beside_the_csvs_or_in_the_retorno_inbox_is_the_retorno_looks_and_never_the_csv_looks(tmp_path):
    settings = Settings.from_env({}, data_dir=tmp_path / "data")
    settings.ensure_dirs()
    settings.retorno_inbox_dir.mkdir(parents=True, exist_ok=True)
    csv = settings.inbox_dir / "debts.csv"
    csv.write_bytes(b"name,governmentId,email,debtAmount,debtDueDate,debtId\n")
    _old(csv)
    beside = settings.inbox_dir / "CB020100.RET"
    beside.write_bytes(HEADER)
    _old(beside)
    inside = settings.retorno_inbox_dir / "retorno.ret"
    inside.write_bytes(HEADER)
    _old(inside)
    fresh = settings.retorno_inbox_dir / "being-written.ret"
    fresh.write_bytes(HEADER[:100])

    now = time.time_ns()
    csv_look = stages.look_at_inbox(settings, {}, now)
    retorno_look = stages.look_for_retornos(settings, {}, now)

    assert [entry.path.name for entry in csv_look.ready] == ["debts.csv"]
    assert sorted(entry.path.name for entry in retorno_look.ready) == ["CB020100.RET", "retorno.ret"]
    assert "retorno/being-written.ret" in retorno_look.waiting  # complete once it stops changing
    later = stages.look_for_retornos(settings, retorno_look.waiting, now + 1)
    assert "being-written.ret" in [entry.path.name for entry in later.ready]
