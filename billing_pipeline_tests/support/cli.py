"""The `billing` command as the tests run it: `run_billing("process", path).json` is the summary it printed.

In a subprocess (the installed script, as an operator or a container runs it) by default; with in_process=True
through billing_pipeline.cli.main in this process, which is faster and reads this process's (monkeypatched)
environment. Either way the result is a BillingRun: exit status, output, errors, and the JSON it printed.
"""

from __future__ import annotations

import contextlib
import io
import json as json_module
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .paths import BIN

BILLING = str(BIN / "billing")


@dataclass(frozen=True)
class BillingRun:
    args: tuple[str, ...]
    status: int
    out: str
    err: str

    @property
    def json(self) -> Any:
        """The last line of the output, parsed: what `--json` printed."""
        lines = self.out.strip().splitlines()
        assert lines, f"billing {' '.join(self.args)} printed nothing; errors:\n{self.err}"
        return json_module.loads(lines[-1])


def billing_command(*args: str, json: bool = False) -> list[str]:
    """The command line of the installed script, for a test that starts (and kills) it itself."""
    return [BILLING, *args, *(["--json"] if json else [])]


def run_billing(*args: str | Path, env: dict[str, str] | None = None, json: bool = True, check: bool = True,
                in_process: bool = False, cwd: Path | None = None, timeout: float = 600) -> BillingRun:
    """Runs `billing ARGS` (with --json at the end when `json`) and, when `check`, asserts it exited 0.

    `env` is the subprocess's whole environment (default: this process's); in process there is none but this
    process's, so `env` and `cwd` must be left out."""
    argv = [str(arg) for arg in args] + (["--json"] if json else [])
    if in_process:
        if env is not None or cwd is not None:
            raise ValueError("in process the command reads this process's environment and folder")
        status, out, err = _in_process(argv)
    else:
        done = subprocess.run([BILLING, *argv], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
        status, out, err = done.returncode, done.stdout, done.stderr
    run = BillingRun(tuple(argv), status, out, err)
    if check:
        assert status == 0, f"billing {' '.join(argv)} exited {status}:\n{err}"
    return run


def _in_process(argv: list[str]) -> tuple[int, str, str]:
    from billing_pipeline.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main(argv)
        except SystemExit as exit_:  # argparse refusing the arguments
            status = exit_.code if isinstance(exit_.code, int) else 1
    return status, out.getvalue(), err.getvalue()
