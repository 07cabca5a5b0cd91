"""Real SMTP servers (aiosmtpd on a free loopback port) for the tests and the benchmarks.

- SmtpSink runs in this process, records what it accepted and can be told to answer 451 to some messages, 550 to
  some recipients, or to drop the connection mid-batch.
- SmtpProcess runs in a process of its own, for tests that kill or stop things around it: it can go down and come
  back on its port, and what it accepted (one line `Message-ID<TAB>recipients` per message in its log, flushed
  before the 250 reply) survives it; without a log it only accepts, as a benchmark's sink.

      python -m billing_pipeline_tests.support.smtp PORT [LOG]     # what SmtpProcess starts
"""

from __future__ import annotations

import email
import signal
import subprocess
import sys
import threading
from collections import Counter
from email import policy
from pathlib import Path

from aiosmtpd.controller import Controller

from .paths import PROJECT_ROOT
from .ports import free_port


class RecordingHandler:
    def __init__(self) -> None:
        self.accepted: list[email.message.EmailMessage] = []
        self.lock = threading.Lock()
        self.refuse_recipients: dict[str, str] = {}  # address -> reply
        self.temporary_failures: Counter[str] = Counter()  # message id -> how many 451s before accepting
        self.drop_after: int | None = None  # close the connection instead of answering the Nth DATA
        self.data_commands = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd API
        if address in self.refuse_recipients:
            return self.refuse_recipients[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd API
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        message_id = message["Message-ID"]
        with self.lock:
            self.data_commands += 1
            if self.drop_after is not None and self.data_commands == self.drop_after:
                server.transport.close()  # the client never hears back: the message was not accepted
                return "421 closing"
            if self.temporary_failures[message_id] > 0:
                self.temporary_failures[message_id] -= 1
                return "451 4.3.0 Temporary failure, try again later"
            self.accepted.append(message)
        return "250 2.0.0 OK queued"

    @property
    def message_ids(self) -> list[str]:
        with self.lock:
            return [m["Message-ID"] for m in self.accepted]


class SmtpSink:
    """In this process: `with SmtpSink() as sink:`, then sink.url, sink.handler.accepted."""

    def __init__(self) -> None:
        self.handler = RecordingHandler()
        self.port = free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def __enter__(self) -> SmtpSink:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()


SERVER_MODULE = "billing_pipeline_tests.support.smtp"  # this module, as the server process starts it


class SmtpProcess:
    """In a process of its own, on a fixed port: started, stopped and started again by the test."""

    def __init__(self, log: Path | None = None, port: int | None = None):
        self.log, self.port = log, port or free_port()
        self.process: subprocess.Popen | None = None
        if log is not None:
            log.touch()

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> None:
        command = [sys.executable, "-m", SERVER_MODULE, str(self.port), *([str(self.log)] if self.log else [])]
        self.process = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True,
                                        start_new_session=True)
        ready = self.process.stdout.readline().strip()
        assert ready == "ready", f"the SMTP server on port {self.port} did not start (said {ready!r})"

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)
            self.process.stdout.close()
            self.process = None

    def __enter__(self) -> SmtpProcess:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def accepted(self) -> Counter[str]:
        """Message-ID -> how many times the server accepted it."""
        assert self.log is not None, "this server keeps no log of what it accepted"
        lines = self.log.read_text(encoding="utf-8").splitlines()
        return Counter(line.split("\t", 1)[0] for line in lines if line)


class AppendingHandler:
    """SmtpProcess's server: every accepted message appended to the log before the reply, or only accepted."""

    def __init__(self, log: Path | None):
        self.output = open(log, "a", encoding="utf-8") if log else None  # noqa: SIM115 - for the process's life
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd API
        if self.output is not None:
            message = email.message_from_bytes(envelope.content, policy=policy.default)
            with self.lock:
                self.output.write(f"{message['Message-ID']}\t{','.join(envelope.rcpt_tos)}\n")
                self.output.flush()
        return "250 2.0.0 OK queued"


def serve(port: int, log: Path | None) -> None:
    controller = Controller(AppendingHandler(log), hostname="127.0.0.1", port=port)
    controller.start()
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    print("ready", flush=True)
    stopped.wait()
    controller.stop()


if __name__ == "__main__":
    serve(int(sys.argv[1]), Path(sys.argv[2]) if len(sys.argv) > 2 else None)
