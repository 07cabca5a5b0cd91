"""The README's example sessions are what the commands print today (docs/readme_examples.py runs them)."""

from __future__ import annotations

import importlib.util

import pytest
from conftest import PROJECT_ROOT

spec = importlib.util.spec_from_file_location("readme_examples", PROJECT_ROOT / "docs" / "readme_examples.py")
assert spec is not None and spec.loader is not None
readme_examples = importlib.util.module_from_spec(spec)
spec.loader.exec_module(readme_examples)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_readme_example_sessions_are_what_the_commands_print(database_url, tmp_path):
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    folder = tmp_path / "session"
    folder.mkdir()

    generated = readme_examples.with_examples(readme, readme_examples.generate(folder, database_url))

    assert generated == readme, "README.md's examples are out of date: run .venv/bin/python docs/readme_examples.py --write"


def test_the_masks_hide_what_changes_from_run_to_run_and_nothing_else(tmp_path):
    session = readme_examples.Session(tmp_path)

    shown = session.masked(f" elapsed_seconds: 3.52\n{{\"elapsed_seconds\": 40.012, \"report\": \"{tmp_path}/data\"}}\n"
                           "2027-12-29 received 2026-12-01 14:08:04 UTC, at 2026-12-01T14:08:04.123+00:00\n"
                           "wrote boleto.pdf (12,945 bytes)\n")

    assert shown == (" elapsed_seconds: …\n{\"elapsed_seconds\": …, \"report\": \"/tmp/readme/data\"}\n"
                     f"2027-12-29 received {readme_examples.SHOWN_TIME} UTC, at 2026-03-02T09:41:07+00:00\n"
                     "wrote boleto.pdf (… bytes)\n")
