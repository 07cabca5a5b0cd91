"""A real SMTP server for the tests (aiosmtpd on a free loopback port) that records what it accepted and can be
told to answer 451 to some messages, 550 to some recipients, or to drop the connection mid-batch."""

from __future__ import annotations

import email
import socket
import threading
from collections import Counter
from email import policy

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


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
