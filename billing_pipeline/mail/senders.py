"""Where notices go: an SMTP server (one persistent connection, reconnecting, rate-limited) or a folder of .eml
files (the embedded default). Both raise the same two errors, which is all the notification stage needs to know."""

from __future__ import annotations

import contextlib
import os
import re
import smtplib
import ssl
from pathlib import Path
from typing import Protocol

from billing_pipeline.mail.compose import Composed
from billing_pipeline.mail.rate_limit import RateLimiter
from billing_pipeline.mail.smtp_url import SmtpTarget


class TransientSendError(Exception):
    """Try again later: a 4xx reply, a timeout, a dropped connection."""


class PermanentSendError(Exception):
    """The server refused this message for good (5xx); the text is its reply."""


class Sender(Protocol):
    def send(self, message: Composed) -> None: ...

    def close(self) -> None: ...


class FileOutboxSender:
    """Each message as `<outbox>/<message id>.eml`, written atomically; opening one shows the e-mail as sent."""

    def __init__(self, directory: Path):
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    def path_for(self, message: Composed) -> Path:
        return self.directory / (re.sub(r"[^A-Za-z0-9._-]", "_", message.message_id.strip("<>")) + ".eml")

    def send(self, message: Composed) -> None:
        target = self.path_for(message)
        partial = target.with_name(f".{target.name}.part")
        try:
            partial.write_bytes(message.data)
            os.replace(partial, target)
        except OSError as error:
            raise TransientSendError(f"cannot write {target}: {error}") from error

    def close(self) -> None:
        pass


class SmtpSender:
    def __init__(self, target: SmtpTarget, timeout: float = 30.0, rate_per_second: float = 0.0):
        self.target = target
        self.timeout = timeout
        self.rate = RateLimiter(rate_per_second)
        self._connection: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        target = self.target
        try:
            if target.scheme == "smtps":
                connection = smtplib.SMTP_SSL(target.host, target.port, timeout=self.timeout,
                                              context=ssl.create_default_context())
            else:
                connection = smtplib.SMTP(target.host, target.port, timeout=self.timeout)
                if target.scheme == "smtp+starttls":
                    connection.starttls(context=ssl.create_default_context())
            connection.ehlo_or_helo_if_needed()
            if target.username:
                connection.login(target.username, target.password or "")
        except smtplib.SMTPAuthenticationError as error:
            raise PermanentSendError(f"login refused by {target.redacted}: {error.smtp_code} {_text(error)}") from error
        except (OSError, smtplib.SMTPException) as error:
            raise TransientSendError(f"cannot connect to {target.redacted}: {error}") from error
        return connection

    def send(self, message: Composed) -> None:
        self.rate.wait()
        if self._connection is None:
            self._connection = self._connect()
        try:
            self._connection.sendmail(message.sender, [message.recipient], message.data)
        except smtplib.SMTPRecipientsRefused as error:
            code, reply = next(iter(error.recipients.values()))
            self._raise_for(code, reply)
        except (smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as error:
            self._raise_for(error.smtp_code, error.smtp_error)
        except (TimeoutError, smtplib.SMTPServerDisconnected, OSError, smtplib.SMTPException) as error:
            self._drop()
            raise TransientSendError(f"connection to {self.target.redacted} lost: {error}") from error

    def _raise_for(self, code: int, reply: bytes | str) -> None:
        text = f"{code} {reply.decode(errors='replace') if isinstance(reply, bytes) else reply}"
        if 400 <= code < 500:
            raise TransientSendError(text)
        raise PermanentSendError(text)

    def _drop(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            finally:
                self._connection = None

    def close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self._connection.quit()
            self._drop()


def _text(error: smtplib.SMTPResponseException) -> str:
    reply = error.smtp_error
    return reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
