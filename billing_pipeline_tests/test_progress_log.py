"""billing_pipeline.progress_log: a long step's lines (done/total, rate, ETA) at every 10% and every 10 s."""

from __future__ import annotations

import re

from billing_pipeline.progress_log import ProgressLog


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.reads = 0

    def __call__(self) -> float:
        self.reads += 1
        return self.now


def _percents(lines: list[str]) -> list[int]:
    return [int(re.search(r"\((\d+)%\)", line).group(1)) for line in lines]


def test_a_fast_step_reports_at_each_tenth_and_once_when_done():
    clock, lines = FakeClock(), []
    log = ProgressLog("PDFs of chunk 4ef0b9aad404-0001", 1_000, lines.append, clock=clock)
    for _ in range(1_000):
        clock.now += 0.002
        log.advance()
    log.done()

    assert _percents(lines) == [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]
    assert lines[4] == "PDFs of chunk 4ef0b9aad404-0001: 500/1,000 (50%), 500/s, ETA 1 s"
    assert lines[-1] == "PDFs of chunk 4ef0b9aad404-0001: 1,000/1,000 (100%), 500/s, done in 2 s"


def test_a_slow_step_reports_every_10_seconds_between_tenths():
    clock, lines = FakeClock(), []
    log = ProgressLog("Notices of chunk 4ef0b9aad404-0001", 100_000, lines.append, clock=clock)
    for _ in range(35):  # one notice a second: 20/s would take 83 minutes for the chunk
        clock.now += 1.0
        log.advance()

    assert lines == [
        "Notices of chunk 4ef0b9aad404-0001: 10/100,000 (0%), 1.0/s, ETA 27 h 46 min",
        "Notices of chunk 4ef0b9aad404-0001: 20/100,000 (0%), 1.0/s, ETA 27 h 46 min",
        "Notices of chunk 4ef0b9aad404-0001: 30/100,000 (0%), 1.0/s, ETA 27 h 46 min",
    ]


def test_a_step_that_stops_short_says_so_in_its_last_line():
    clock, lines = FakeClock(), []
    log = ProgressLog("Notices", 40, lines.append, clock=clock)
    log.advance(3)
    clock.now = 2.0
    log.done()
    log.done()  # once only

    assert lines[-1] == "Notices: 3/40 (7%), 1.5/s, stopped after 2 s"
    assert len([line for line in lines if "stopped" in line]) == 1


def test_a_step_with_nothing_to_do_says_nothing():
    lines: list[str] = []
    log = ProgressLog("Notices", 0, lines.append)
    log.done()
    assert lines == []


def test_a_jump_to_the_total_is_left_to_the_last_line():
    lines: list[str] = []
    log = ProgressLog("Boletos", 50_000, lines.append, clock=FakeClock())
    log.advance(50_000)
    assert lines == []
    log.done()
    assert lines == ["Boletos: 50,000/50,000 (100%), 0/s, done in 0 s"]


def test_without_a_reporter_advancing_formats_nothing_and_reads_no_clock():
    clock = FakeClock()
    log = ProgressLog("PDFs", 10_000, clock=clock)
    for _ in range(10_000):
        log.advance()
    log.done()
    assert clock.reads == 1  # when it started
    assert log.count == 10_000


def test_a_bar_reporter_is_told_of_every_advance_and_still_gets_the_lines():
    class Bar:
        def __init__(self) -> None:
            self.lines: list[str] = []
            self.advances: list[tuple[str, int, int]] = []

        def __call__(self, line: str) -> None:
            self.lines.append(line)

        def advanced(self, label: str, done: int, total: int) -> None:
            self.advances.append((label, done, total))

    bar = Bar()
    log = ProgressLog("Notices", 20, bar, clock=FakeClock())
    for _ in range(20):
        log.advance()
    log.done()

    assert bar.advances == [("Notices", done, 20) for done in range(1, 21)]
    assert _percents(bar.lines) == [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]


def test_a_count_read_from_elsewhere_may_change_the_total_and_the_marks_follow():
    lines: list[str] = []
    log = ProgressLog("Debts stored of file 4ef0b9aad404", 1_000, lines.append, clock=FakeClock())
    log.advance_to(150)
    log.advance_to(150, total=400)  # rejects became known: the next mark is 40% of 400, not 20% of 1,000
    log.advance_to(155)
    log.advance_to(165)

    assert _percents(lines) == [15, 41]
    assert lines[-1].startswith("Debts stored of file 4ef0b9aad404: 165/400 (41%)")


def test_work_done_before_the_step_started_is_left_out_of_the_rate():
    clock, lines = FakeClock(), []
    log = ProgressLog("Notices", 1_000, lines.append, start=500, clock=clock)
    clock.now = 10.0
    log.advance(100)

    assert lines == ["Notices: 600/1,000 (60%), 10/s, ETA 40 s"]
