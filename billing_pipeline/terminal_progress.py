"""Progress of `billing notify` and `billing process` for the person at the terminal: a tqdm bar when stderr is
a terminal, plain lines (progress_log's, every 10 s or 10%) when it is a file, a pipe or CI. Always on stderr, so
that stdout holds only the command's result (one JSON object with `--json`).

An entrypoint module: the stages only ever see a line reporter (progress_log.Report) and never import this one.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, TextIO

from tqdm import tqdm

from billing_pipeline.progress_log import ProgressLog, Report

if TYPE_CHECKING:
    from billing_pipeline.stages import FileProgress

# What `billing process` reads of the file is the whole state of every stage at each look (runner's poller), not
# a count of items going by: the bar is redrawn at each look, and its rate and ETA are the current stage's.
FILE_BAR_FORMAT = "{desc}: {percentage:3.0f}%|{bar}| {n:,}/{total:,}{postfix}"
STEP_BAR_FORMAT = "{desc}: {percentage:3.0f}%|{bar}| {n:,}/{total:,} [{elapsed}<{remaining}, {rate_fmt}]"


def _lines(stream: TextIO) -> Report:
    def report(line: str) -> None:
        print(line, file=stream, flush=True)

    return report


@contextlib.contextmanager
def step_progress(stream: TextIO | None = None) -> Iterator[Report]:
    """The `progress` to hand a stage (notify_stage, pdf_stage): a bar on a terminal, closed on leaving; else a
    reporter printing its lines."""
    stream = stream or sys.stderr
    if not stream.isatty():
        yield _lines(stream)
        return
    bar = _StepBar(stream)
    try:
        yield bar
    finally:
        bar.close()


class _StepBar:
    """A progress_log.BarReporter: redrawn as items go by (tqdm itself limits how often it draws). Its lines are
    not printed, as the bar shows the same numbers."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._bar: tqdm | None = None

    def __call__(self, line: str) -> None:
        pass

    def advanced(self, label: str, done: int, total: int) -> None:
        bar = self._bar
        if bar is None or bar.desc != label:  # another step: a bar of its own
            self.close()
            bar = self._bar = tqdm(total=total, desc=label, file=self._stream, unit="", dynamic_ncols=True,
                                   bar_format=STEP_BAR_FORMAT)
        bar.update(done - bar.n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


@contextlib.contextmanager
def file_progress(stream: TextIO | None = None,
                  clock: Callable[[], float] = time.monotonic) -> Iterator[Callable[[FileProgress], None]]:
    """What `billing process` hands process_file: each look at the file shown as a bar on a terminal, or as lines
    at progress_log's cadence; on leaving, the bar is closed or the last line printed."""
    stream = stream or sys.stderr
    view: _FileBar | _FileLines = _FileBar(stream, clock) if stream.isatty() else _FileLines(stream, clock)
    try:
        yield view.show
    finally:
        view.close()


class _CurrentStage:
    """Which of a file's stages to show: the most downstream one that moved since the previous look. A file's
    chunks go through the stages one after another (or two at a time), so the stage that moves changes back and
    forth; each stage keeps its own ProgressLog, whose rate and ETA are over the whole run."""

    def __init__(self, report: Report | None, clock: Callable[[], float]) -> None:
        self._report = report
        self._clock = clock
        self._logs: dict[str, ProgressLog] = {}
        self._seen: dict[str, int] = {}
        self._current: str | None = None
        self.log: ProgressLog | None = None

    def look(self, snapshot: FileProgress) -> ProgressLog | None:
        counts = snapshot.stages
        if not counts:  # not split yet, or rejected whole: nothing to count against
            return self.log
        if not self._logs:
            # What a file carried on from an earlier run had done already is where each stage starts, left out
            # of its rate.
            self._logs = {count.name: ProgressLog(f"{count.name} of file {snapshot.file_id[:12]}", count.total,
                                                  self._report, start=count.done, clock=self._clock)
                          for count in counts}
            self._seen = dict.fromkeys(self._logs, 0)
        moved = [count for count in counts if count.done != self._seen[count.name]]
        self._seen = {count.name: count.done for count in counts}
        if moved:
            self._current = moved[-1].name
        elif self._current is None:
            self._current = counts[0].name
        stage = next(count for count in counts if count.name == self._current)
        self.log = self._logs[stage.name]
        self.log.advance_to(stage.done, stage.total)  # still told when nothing moved: the 10 s line says so
        return self.log


class _FileLines:
    def __init__(self, stream: TextIO, clock: Callable[[], float]) -> None:
        self._stages = _CurrentStage(_lines(stream), clock)

    def show(self, snapshot: FileProgress) -> None:
        self._stages.look(snapshot)

    def close(self) -> None:
        if self._stages.log is not None:
            self._stages.log.done()


class _FileBar:
    def __init__(self, stream: TextIO, clock: Callable[[], float]) -> None:
        self._stream = stream
        self._stages = _CurrentStage(None, clock)  # counts only: the bar draws them
        self._bar: tqdm | None = None

    def show(self, snapshot: FileProgress) -> None:
        log = self._stages.look(snapshot)
        if log is None or log.total <= 0:
            return
        progress = log.progress()
        if self._bar is None:
            self._bar = tqdm(total=progress.total, desc=progress.label, file=self._stream, dynamic_ncols=True,
                             bar_format=FILE_BAR_FORMAT, postfix=progress.tail)
        bar = self._bar
        bar.set_description_str(progress.label, refresh=False)
        bar.total, bar.n = progress.total, progress.done
        bar.set_postfix_str(progress.tail, refresh=False)
        bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
