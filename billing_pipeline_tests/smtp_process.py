"""Starts and stops smtp_sink_process.py, and reads what it accepted."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

from smtp_sink import free_port

SCRIPT = Path(__file__).with_name("smtp_sink_process.py")


class SmtpProcess:
    """A mail server on a fixed port that can go down and come back; what it accepted survives it."""

    def __init__(self, log: Path, port: int | None = None):
        self.log, self.port = log, port or free_port()
        self.process: subprocess.Popen | None = None
        log.touch()

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = subprocess.Popen([sys.executable, str(SCRIPT), str(self.port), str(self.log)],
                                        stdout=subprocess.PIPE, text=True, start_new_session=True)
        assert self.process.stdout.readline().strip() == "ready"

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)
            self.process = None

    def accepted(self) -> Counter[str]:
        """Message-ID -> how many times the server accepted it."""
        lines = self.log.read_text(encoding="utf-8").splitlines()
        return Counter(line.split("\t", 1)[0] for line in lines if line)
