"""Reports and rejects are written whole (a reader never sees half) and with the same permissions."""

from __future__ import annotations

import stat
from pathlib import Path

import pandas as pd
import pytest

from billing_pipeline.rejects import REJECT_COLUMNS
from billing_pipeline.stages.report import write_report
from billing_pipeline.storage.atomic import replaced_atomically
from billing_pipeline.validation.rejects_report import write_rejects_csv


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_rejects_csv_and_the_report_get_the_mode_of_any_new_file(tmp_path: Path):
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    rejects = write_rejects_csv(pd.DataFrame([[3, "email", "INVALID_EMAIL", "email is not valid", "a,b"]],
                                             columns=REJECT_COLUMNS), tmp_path / "rejects" / "f.csv")
    report = write_report({"file_id": "f", "rows": 1}, tmp_path / "reports" / "f.json")
    assert _mode(rejects) == _mode(report) == _mode(plain)
    assert rejects.read_text().splitlines() == [",".join(REJECT_COLUMNS), "3,email,INVALID_EMAIL,email is not valid,\"a,b\""]


def test_a_failed_write_leaves_the_previous_file_and_no_partial(tmp_path: Path):
    target = tmp_path / "report.json"
    target.write_text("before")
    with pytest.raises(RuntimeError), replaced_atomically(target) as partial:
        partial.write_text("half")
        raise RuntimeError("disk full")
    assert target.read_text() == "before"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]
