"""The README and .env.example describe every setting and every reject code the code has."""

from __future__ import annotations

import re

from conftest import PROJECT_ROOT

from billing_pipeline.rejects import RejectCode
from billing_pipeline.settings_docs import SETTINGS, with_env_example, with_readme_table

README = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")


def _readme_table_row(name: str) -> str | None:
    match = re.search(rf"^\| `{re.escape(name)}` \|.*$", README, re.M)
    return match.group(0) if match else None


REGENERATE = "generated from billing_pipeline/settings.py: run `python -m billing_pipeline.settings_docs --write`"


def test_readme_settings_table_is_the_generated_one():
    assert with_readme_table(README) == README, REGENERATE


def test_env_example_billing_part_is_the_generated_one():
    example = (PROJECT_ROOT / ".env.example").read_text(encoding="utf-8")
    assert with_env_example(example) == example, REGENERATE


def test_every_setting_is_in_the_readme_table_with_its_default():
    for spec in SETTINGS:
        row = _readme_table_row(spec.env_var)
        assert row is not None, spec.env_var
        assert (f"`{spec.default}`" if spec.default else "| (empty) |") in row, spec.env_var
        assert spec.description in row, spec.env_var


def test_every_setting_is_in_env_example():
    example = (PROJECT_ROOT / ".env.example").read_text(encoding="utf-8")
    for spec in SETTINGS:
        assert re.search(rf"^#?\s*{spec.env_var}=", example, re.M), spec.env_var


def test_every_reject_code_is_documented():
    for code in RejectCode:
        assert _readme_table_row(code.value) is not None, code


def test_quickstart_has_exactly_the_two_commands_and_ci_runs_the_test_one():
    section = README.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    commands = [line.strip() for block in re.findall(r"```[a-z]*\n(.*?)```", section, re.S)
                for line in block.splitlines() if line.strip() and not line.strip().startswith("#")]
    assert commands == ["make demo", "make test"]
    assert "make test" in (PROJECT_ROOT / ".ci" / "run").read_text()
