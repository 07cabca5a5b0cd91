"""How far a long step has got, as lines a person reads: done/total, rate and ETA, at least every 10 s or 10%.

A step that renders 100,000 PDFs or sends 100,000 notices would otherwise run for minutes (hours, at an SMTP
rate of 20/s) without a word. The step counts with `advance()` and ends with `done()`; who reads the lines is
the caller's choice (the Dagster step's log, the terminal, a list in a test), and without a reporter counting
costs about as much as `n += 1`.

>>> now = [0.0]
>>> log = ProgressLog("PDFs of chunk 4ef0b9aad404-0001", 100_000, print, clock=lambda: now[0])
>>> for _ in range(25_000):
...     now[0] += 0.00044
...     log.advance()
PDFs of chunk 4ef0b9aad404-0001: 10,000/100,000 (10%), 2,273/s, ETA 40 s
PDFs of chunk 4ef0b9aad404-0001: 20,000/100,000 (20%), 2,273/s, ETA 35 s
>>> now[0] += 30.0  # a stall: the next item is reported although no 10% was crossed
>>> log.advance()
PDFs of chunk 4ef0b9aad404-0001: 25,001/100,000 (25%), 610/s, ETA 2 min 03 s
>>> log.advance(74_999)
>>> log.done()
PDFs of chunk 4ef0b9aad404-0001: 100,000/100,000 (100%), 2,439/s, done in 41 s
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

Report = Callable[[str], None]

_NEVER = sys.maxsize  # a count no step reaches: no further 10% mark to report at


@runtime_checkable
class BarReporter(Protocol):
    """A line reporter that also draws a bar (`billing notify` on a terminal). A bar is redrawn as items go by,
    so it is told of every advance, not only of the lines (which it may ignore: the bar shows the same)."""

    def __call__(self, line: str) -> None: ...

    def advanced(self, label: str, done: int, total: int) -> None: ...


@dataclass(frozen=True)
class Progress:
    """Where a step stands. `start` is what was done before it started (a resumed step), left out of the rate.

    >>> Progress("Notices of chunk 4ef0b9aad404-0001", 50_000, 100_000, seconds=22.0).line
    'Notices of chunk 4ef0b9aad404-0001: 50,000/100,000 (50%), 2,273/s, ETA 22 s'
    >>> Progress("Notices", 3, 40, seconds=2.0, finished=True).line
    'Notices: 3/40 (7%), 1.5/s, stopped after 2 s'
    >>> Progress("Notices", 0, 40, seconds=0.0).tail
    '0/s, ETA unknown'
    """

    label: str
    done: int
    total: int
    seconds: float  # since the step started
    start: int = 0
    finished: bool = False

    @property
    def percent(self) -> int:
        """Rounded down, so that 100% means all of it."""
        return min(self.done * 100 // self.total, 100) if self.total > 0 else 100

    @property
    def rate(self) -> float | None:
        """Items per second since the step started; None before any time has passed. A count read back from the
        store may go down (a chunk run again is validated anew): that is no negative rate."""
        return max(self.done - self.start, 0) / self.seconds if self.seconds > 0 else None

    @property
    def eta_seconds(self) -> float | None:
        rate = self.rate
        if self.done >= self.total:
            return 0.0
        return (self.total - self.done) / rate if rate else None

    @property
    def tail(self) -> str:
        """The rate and the ETA (or, once finished, how long it took): what follows the count."""
        rate = self.rate
        rate_text = "0/s" if not rate else f"{rate:,.0f}/s" if rate >= 10 else f"{rate:.1f}/s"
        if self.finished:
            ending = "done in" if self.done >= self.total else "stopped after"
            return f"{rate_text}, {ending} {duration(self.seconds)}"
        eta = self.eta_seconds
        return f"{rate_text}, ETA {'unknown' if eta is None else duration(eta)}"

    @property
    def line(self) -> str:
        return f"{self.label}: {self.done:,}/{self.total:,} ({self.percent}%), {self.tail}"


def duration(seconds: float) -> str:
    """
    >>> [duration(s) for s in (0.4, 22.4, 59.6, 250, 4_980, 54_000)]
    ['0 s', '22 s', '1 min 00 s', '4 min 10 s', '1 h 23 min', '15 h 00 min']
    """
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"


class ProgressLog:
    """Counts a step's items and reports a line when `every_seconds` have passed or another `every_fraction` of
    the total was crossed since the last line, and once more at `done()`.

    `report` receives the lines; a `BarReporter` is also told of every advance. Without one, nothing is formatted
    and no clock is read. `start` is a count already reached when the step began (not counted in the rate)."""

    def __init__(self, label: str, total: int, report: Report | None = None, *, start: int = 0,
                 every_seconds: float = 10.0, every_fraction: float = 0.1,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.label = label
        self.total = total
        self.count = start
        self._start = start
        self._report = report
        self._advanced = report.advanced if isinstance(report, BarReporter) else None
        self._every_seconds = every_seconds
        self._steps = max(1, round(1 / every_fraction))  # 10% -> ten marks, counted in integers (no float drift)
        self._clock = clock
        self._started = clock()
        self._next_time = self._started + every_seconds
        self._next_count = self._mark_after(start)
        self._finished = False

    def advance(self, n: int = 1) -> None:
        self.count += n
        if self._report is None:
            return
        if self._advanced is not None:
            self._advanced(self.label, self.count, self.total)
        if self._next_count <= self.count < self.total or self._clock() >= self._next_time:
            self._tell()

    def advance_to(self, done: int, total: int | None = None) -> None:
        """For a count read from elsewhere (the store) rather than counted here; the total may have changed."""
        if total is not None and total != self.total:
            self.total = total
            self._next_count = self._mark_after(self.count)
        self.advance(done - self.count)

    def progress(self, now: float | None = None) -> Progress:
        seconds = (self._clock() if now is None else now) - self._started
        return Progress(self.label, self.count, self.total, seconds, self._start, self._finished)

    def done(self) -> None:
        """The last line (once). A step that had nothing to do says nothing."""
        if self._finished:
            return
        self._finished = True
        if self._report is not None and (self.total or self.count != self._start):
            self._report(self.progress().line)

    def _tell(self) -> None:
        assert self._report is not None
        now = self._clock()
        self._report(self.progress(now).line)
        self._next_time = now + self._every_seconds
        self._next_count = self._mark_after(self.count)

    def _mark_after(self, count: int) -> int:
        """The first 10% mark (of `_steps`) above `count`, below the total: reaching the total is `done()`'s line."""
        if self.total <= 0:
            return _NEVER
        step = count * self._steps // self.total + 1
        mark = -(-step * self.total // self._steps)  # ceil(step * total / steps)
        return mark if mark < self.total else _NEVER
