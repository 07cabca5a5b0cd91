"""The one polling loop of the tests, benchmarks and screenshots: wait until a condition holds, or fail saying what
was waited for, and how the log of the processes it waited on ends."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


class WaitTimedOut(AssertionError):
    """The condition did not hold in time: a failed test, not an error in it."""


def log_tail(log: Path | None, characters: int = 5000) -> str:
    if log is None or not log.exists():
        return ""
    return log.read_text(errors="replace")[-characters:]


def wait_for(condition: Callable[[], T], what: str, timeout: float = 300, every: float = 0.5,
             log: Path | None = None) -> T:
    """Calls `condition` every `every` seconds until it returns something true, and returns that. After `timeout`
    seconds raises WaitTimedOut: "timed out after 300s waiting for `what`", and the end of `log` if given."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() >= deadline:
            break
        time.sleep(every)
    message = f"timed out after {timeout:g}s waiting for {what}"
    tail = log_tail(log)
    if tail:
        message += f"; the end of {log}:\n{tail}"
    raise WaitTimedOut(message)
