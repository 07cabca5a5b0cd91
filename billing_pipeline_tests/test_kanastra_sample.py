"""Compatibility with the public challenge's file format (../shared/data, skipped where it is absent)."""

from __future__ import annotations

import pytest

from billing_pipeline_tests.support.paths import SHARED_DIR

KANASTRA_SAMPLE = SHARED_DIR / "data" / "kanastra_sample_9577.csv"

pytestmark = [
    pytest.mark.skipif(not KANASTRA_SAMPLE.exists(), reason="../shared/data is not beside this checkout"),
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]


def test_kanastra_file_loads_whole_under_the_lenient_policy(billing_env, monkeypatch, cli):
    monkeypatch.setenv("BILLING_GOVERNMENT_ID_POLICY", "lenient")
    summary = cli("process", KANASTRA_SAMPLE).json
    assert (summary["rows"], summary["accepted"], summary["rejected"], summary["duplicates"]) == (9577, 9577, 0, 0)


def test_kanastra_fake_ids_are_rejected_under_the_strict_policy(billing_env, cli):
    summary = cli("process", KANASTRA_SAMPLE).json
    assert summary["rejected"] == 9577
    assert summary["accepted"] == 0
