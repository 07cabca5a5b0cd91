"""A command in a pseudo-terminal of its own, as an operator runs it in a shell: its output read as it comes, and
Ctrl-C typed, which the terminal turns into SIGINT for its whole foreground process group."""

from __future__ import annotations

import os
import pty
import select
import signal
import time
from collections.abc import Sequence
from pathlib import Path

from .waiting import wait_for

CTRL_C = b"\x03"


class Terminal:
    def __init__(self, command: Sequence[str], env: dict[str, str], cwd: Path):
        self.output = b""
        self.pid, self._fd = pty.fork()
        if self.pid == 0:  # the child: the terminal's session leader, in the foreground, as a shell starts it
            try:
                os.chdir(cwd)
                os.execvpe(command[0], list(command), env)
            finally:
                os._exit(127)
        self.status: int | None = None

    @property
    def text(self) -> str:
        return self.output.decode(errors="replace")

    def read(self, seconds: float = 0.2) -> bool:
        """What the command wrote in the next `seconds`; False once the terminal is closed (the command ended)."""
        ready, _, _ = select.select([self._fd], [], [], seconds)
        if not ready:
            return True
        try:
            chunk = os.read(self._fd, 65536)
        except OSError:  # EIO: every process holding the terminal has ended
            return False
        self.output += chunk
        return bool(chunk)

    def wait_for_output(self, text: str, timeout: float = 180) -> None:
        def written() -> bool:
            still_open = self.read()
            if text in self.text:
                return True
            if not still_open:
                raise AssertionError(f"the command ended without writing {text!r}:\n{self.text[-3000:]}")
            return False

        wait_for(written, f"{text!r} in the terminal", timeout=timeout, every=0)

    def type(self, keys: bytes) -> None:
        os.write(self._fd, keys)

    def wait(self, timeout: float = 120) -> int:
        """The command's wait status (os.waitstatus_to_exitcode: negative when a signal ended it), once it ended
        and closed the terminal; the command is killed after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while self.read() and time.monotonic() < deadline:
            pass
        if time.monotonic() >= deadline:
            os.kill(self.pid, signal.SIGKILL)
        _, status = os.waitpid(self.pid, 0)
        os.close(self._fd)
        self.status = os.waitstatus_to_exitcode(status)
        return self.status
