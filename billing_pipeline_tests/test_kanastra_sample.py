"""Compatibility with the public challenge's file format (../shared/data, skipped where it is absent)."""

from __future__ import annotations

import json

import pytest
from conftest import SHARED_DIR

from billing_pipeline.cli import main

KANASTRA_SAMPLE = SHARED_DIR / "data" / "kanastra_sample_9577.csv"

pytestmark = [
    pytest.mark.skipif(not KANASTRA_SAMPLE.exists(), reason="../shared/data is not beside this checkout"),
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]


def test_kanastra_file_loads_whole_under_the_lenient_policy(billing_env, monkeypatch, capsys):
    monkeypatch.setenv("BILLING_GOVERNMENT_ID_POLICY", "lenient")
    assert main(["process", str(KANASTRA_SAMPLE), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (summary["rows"], summary["accepted"], summary["rejected"], summary["duplicates"]) == (9577, 9577, 0, 0)


def test_kanastra_fake_ids_are_rejected_under_the_strict_policy(billing_env, capsys):
    assert main(["process", str(KANASTRA_SAMPLE), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["rejected"] == 9577
    assert summary["accepted"] == 0
