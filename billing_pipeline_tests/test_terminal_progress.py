"""billing_pipeline.terminal_progress: what `billing process` and `billing notify` show of their progress, as a
bar on a terminal or as lines elsewhere (the commands themselves: test_runner.py, test_notifications.py)."""

from __future__ import annotations

import io

from billing_pipeline.progress_log import ProgressLog
from billing_pipeline.stages import FileProgress
from billing_pipeline.terminal_progress import file_progress, step_progress

FILE_ID = "4ef0b9aad404" + "0" * 52


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _look(rows: int | None = 1_000, validated: int = 0, left_out: int = 0, stored: int = 0, boletos: int = 0,
          pdfs: int = 0, notices: int = 0) -> FileProgress:
    return FileProgress(FILE_ID, rows, validated, left_out, stored, boletos, pdfs, notices)


def test_off_a_terminal_the_line_is_of_the_most_downstream_stage_that_moved():
    stream, clock = io.StringIO(), FakeClock()
    with file_progress(stream, clock=clock) as show:
        for look in (
            _look(rows=None),  # not split yet
            _look(),
            _look(validated=500),
            _look(validated=500, left_out=20, stored=480, boletos=480),  # two stages moved: the later is shown
            _look(validated=500, left_out=20, stored=480, boletos=480, pdfs=480, notices=100),
            _look(validated=1_000, left_out=20, stored=480, boletos=480, pdfs=480, notices=100),
        ):
            clock.now += 0.5
            show(look)
    lines = stream.getvalue().splitlines()

    assert [line.split(" of file ")[0] for line in lines] == ["Rows validated", "Boletos", "Notices",
                                                              "Rows validated"]
    assert lines[1] == "Boletos of file 4ef0b9aad404: 480/980 (48%), 480/s, ETA 1 s"  # counted from the split
    assert lines[2].startswith("Notices of file 4ef0b9aad404: 100/980 (10%), ")
    assert lines[-1] == "Rows validated of file 4ef0b9aad404: 1,000/1,000 (100%), 500/s, done in 2 s"


def test_off_a_terminal_a_stage_that_does_not_move_still_gets_a_line_every_10_seconds():
    stream, clock = io.StringIO(), FakeClock()
    with file_progress(stream, clock=clock) as show:
        show(_look(validated=500, stored=500, boletos=500))  # a chunk's PDFs are written whole, at its end
        for _ in range(50):
            clock.now += 0.5
            show(_look(validated=500, stored=500, boletos=500))
    lines = stream.getvalue().splitlines()

    assert lines == ["Boletos of file 4ef0b9aad404: 500/1,000 (50%), 0/s, ETA unknown"] * 2 + [
        "Boletos of file 4ef0b9aad404: 500/1,000 (50%), 0/s, stopped after 25 s"]


def test_a_file_rejected_whole_shows_nothing():
    stream = io.StringIO()
    with file_progress(stream) as show:
        show(_look(rows=None))
    assert stream.getvalue() == ""


def test_on_a_terminal_one_bar_is_redrawn_named_after_the_current_stage():
    terminal, clock = Terminal(), FakeClock()
    with file_progress(terminal, clock=clock) as show:
        show(_look())
        clock.now += 2.0
        show(_look(validated=1_000, left_out=20, stored=980, boletos=980, pdfs=490))
    drawn = terminal.getvalue()

    assert drawn.count("\r") >= 2 and drawn.endswith("\n")
    assert "Rows validated of file 4ef0b9aad404:   0%|" in drawn
    assert "PDFs of file 4ef0b9aad404:  50%|" in drawn and "| 490/980, 245/s, ETA 2 s" in drawn
    assert "(50%)" not in drawn  # no lines besides the bar


def test_a_step_draws_a_bar_on_a_terminal_and_prints_lines_elsewhere():
    terminal, plain = Terminal(), io.StringIO()
    for stream in (terminal, plain):
        with step_progress(stream) as report:
            log = ProgressLog("Notices of file 4ef0b9aad404", 50, report)
            for _ in range(50):
                log.advance()
            log.done()

    assert "\r" in terminal.getvalue() and "Notices of file 4ef0b9aad404: 100%|" in terminal.getvalue()
    assert "| 50/50 [" in terminal.getvalue() and "(10%)" not in terminal.getvalue()
    lines = plain.getvalue().splitlines()
    assert len(lines) == 10 and "\r" not in plain.getvalue()
    assert lines[0].startswith("Notices of file 4ef0b9aad404: 5/50 (10%), ")
    assert lines[-1].startswith("Notices of file 4ef0b9aad404: 50/50 (100%), ")
