"""The settings documentation, generated from the fields of `Settings`: `SETTINGS`, the README's settings table and
the billing part of `.env.example`.

    python -m billing_pipeline.settings_docs --write     # bring .env.example and README.md up to date

The test suite checks that both files are current.
"""

from __future__ import annotations

import argparse
import re
import sys
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic.fields import FieldInfo

from billing_pipeline.settings import ENV_VARS, Settings

_VARIABLES = frozenset(ENV_VARS.values())


@dataclass(frozen=True)
class SettingSpec:
    env_var: str
    default: str
    description: str


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def _spec(name: str, field: FieldInfo) -> SettingSpec:
    shown = _extra(field).get("shown_default", _shown(field.default))
    return SettingSpec(ENV_VARS[name], shown, field.description or "")


def _extra(field: FieldInfo) -> dict[str, str]:
    extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
    return {key: str(value) for key, value in extra.items()}


SETTINGS: tuple[SettingSpec, ...] = tuple(_spec(name, field) for name, field in Settings.model_fields.items())

ENV_EXAMPLE_WIDTH = 111
README_TABLE_HEADER = ("| variable | default | meaning |", "| --- | --- | --- |")
_ENV_LINE = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=")
_README_ROW = re.compile(r"^\| `([^`]+)` \|")


def env_example() -> str:
    """The billing part of .env.example: one commented line per setting (sections as the fields open them)."""
    lines: list[str] = []
    for name, field in Settings.model_fields.items():
        extra, spec = _extra(field), _spec(name, field)
        if "group" in extra:
            if lines:
                lines.append("")
            lines.append(f"# --- {extra['group']} ".ljust(ENV_EXAMPLE_WIDTH, "-"))
        text = spec.description.replace("`", "")
        example = extra.get("example")
        if example is not None and example != spec.default:
            text += f" Default: {spec.default}."
        lines += textwrap.wrap(text, ENV_EXAMPLE_WIDTH, initial_indent="# ", subsequent_indent="# ",
                               break_long_words=False, break_on_hyphens=False)
        lines.append(f"{spec.env_var}={_quoted(spec.default)}" if example is None else f"# {spec.env_var}={example}")
    return "\n".join(lines) + "\n"


def _quoted(value: str) -> str:
    return f'"{value}"' if re.search(r"[\s#\"'<>()$]", value) else value


def readme_table() -> str:
    """The README's settings table (without the rows of variables that are not settings, kept after it)."""
    rows = [f"| `{spec.env_var}` | {f'`{spec.default}`' if spec.default else '(empty)'} | {spec.description} |"
            for spec in SETTINGS]
    return "\n".join([*README_TABLE_HEADER, *rows]) + "\n"


def with_env_example(text: str) -> str:
    """`text` (.env.example) with its billing part, from the section holding the first BILLING_ line on, current."""
    lines = text.splitlines()
    first = next((i for i, line in enumerate(lines) if _names_a_setting(_ENV_LINE, line)), len(lines))
    start = max((i for i in range(first) if lines[i].startswith("# --- ")), default=first)
    head = "\n".join(lines[:start]).rstrip("\n")
    return (head + "\n\n" if head else "") + env_example()


def with_readme_table(text: str) -> str:
    """`text` (README.md) with the settings rows of its settings table current; other rows stay after them."""
    lines = text.split("\n")
    start = lines.index(README_TABLE_HEADER[0])
    end = start
    while end < len(lines) and lines[end].startswith("|"):
        end += 1
    kept = [line for line in lines[start + 2:end] if not _names_a_setting(_README_ROW, line)]
    return "\n".join([*lines[:start], *readme_table().splitlines(), *kept, *lines[end:]])


def _names_a_setting(pattern: re.Pattern[str], line: str) -> bool:
    match = pattern.match(line)
    return match is not None and match.group(1) in _VARIABLES


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m billing_pipeline.settings_docs",
                                     description="The settings documentation generated from billing_pipeline/settings.py.")
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--env-example", action="store_true", help="print the billing part of .env.example")
    what.add_argument("--readme-table", action="store_true", help="print the README's settings table")
    what.add_argument("--write", action="store_true", help="bring .env.example and README.md in --root up to date")
    parser.add_argument("--root", type=Path, default=Path("."), help="the project folder (default: .)")
    args = parser.parse_args(argv)
    if args.env_example:
        sys.stdout.write(env_example())
    elif args.readme_table:
        sys.stdout.write(readme_table())
    else:
        for path, update in ((args.root / ".env.example", with_env_example), (args.root / "README.md",
                                                                              with_readme_table)):
            text = path.read_text(encoding="utf-8")
            if update(text) != text:
                path.write_text(update(text), encoding="utf-8")
                print(f"updated {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
