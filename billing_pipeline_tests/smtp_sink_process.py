"""A real SMTP server in a process of its own (aiosmtpd), for tests that kill or stop things around it.

    python smtp_sink_process.py PORT LOG

Every accepted message appends one line `Message-ID<TAB>recipients` to LOG, flushed before the 250 reply, so the
log holds exactly what the server accepted, a message accepted twice twice.
"""

from __future__ import annotations

import email
import signal
import sys
import threading
from email import policy
from pathlib import Path

from aiosmtpd.controller import Controller


class AppendingHandler:
    def __init__(self, log: Path):
        self.output = open(log, "a", encoding="utf-8")  # noqa: SIM115 - open for the life of the process
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd API
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.output.write(f"{message['Message-ID']}\t{','.join(envelope.rcpt_tos)}\n")
            self.output.flush()
        return "250 2.0.0 OK queued"


def main(port: int, log: Path) -> None:
    controller = Controller(AppendingHandler(log), hostname="127.0.0.1", port=port)
    controller.start()
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    print("ready", flush=True)
    stopped.wait()
    controller.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]), Path(sys.argv[2]))
