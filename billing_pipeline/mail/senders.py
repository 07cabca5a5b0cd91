"""Where notices go: an SMTP server (one persistent connection, reconnecting, rate-limited) or a folder of .eml
files (the embedded default). Both raise the same two errors, which is all the notification stage needs to know."""

from __future__ import annotations

import contextlib
import os
import re
import smtplib
import ssl
import time
from pathlib import Path
from typing import Protocol

from billing_pipeline.mail.compose import Composed
from billing_pipeline.mail.rate_limit import RateLimiter
from billing_pipeline.mail.smtp_url import SmtpTarget
from billing_pipeline.storage.errors import StorageUnavailable
from billing_pipeline.storage.location import AnyPath, is_bucket, local_path
from billing_pipeline.storage.objects import write_bytes

_LEADING_DOT = re.compile(rb"(?m)^\.")  # RFC 5321 4.5.2 dot-stuffing
PART_SUFFIX = ".part"


class TransientSendError(Exception):
    """Try again later: a 4xx reply, a timeout, a dropped connection."""


class PermanentSendError(Exception):
    """The server refused this message for good (5xx); the text is its reply."""


class Sender(Protocol):
    def send(self, message: Composed) -> None: ...

    def begin(self, message: Composed) -> None:
        """Hand the message over without waiting for the verdict; `finish` waits for it. Between the two the
        caller can prepare the next message while the server works on this one."""

    def finish(self) -> None: ...

    def close(self) -> None: ...


# A `.part` file this old is what a process killed mid-write left: a live write of one message takes milliseconds,
# and a younger one may be another worker's (the chunks' runs share the outbox) about to be renamed.
STALE_PART_SECONDS = 3600


class FileOutboxSender:
    """Each message as `<outbox>/<message id>.eml`, written atomically; opening one shows the e-mail as sent. The
    file is the message byte for byte, as an SMTP server receives it (without SMTP's dot-stuffing), and nothing
    else is left behind: a failed write removes its `.part`, and opening the outbox removes stale ones."""

    def __init__(self, directory: AnyPath):
        self.directory, self.removed_parts = directory, 0
        if not is_bucket(directory):
            directory.mkdir(parents=True, exist_ok=True)
            self.removed_parts = _remove_stale_parts(local_path(directory))

    def path_for(self, message: Composed) -> AnyPath:
        return self.directory / (re.sub(r"[^A-Za-z0-9._-]", "_", message.message_id.strip("<>")) + ".eml")

    def send(self, message: Composed) -> None:
        target = self.path_for(message)
        try:
            if is_bucket(target):  # a PUT is whole or absent
                write_bytes(target, message.data)
                return
            target = local_path(target)
            partial = target.with_name(f".{target.name}{PART_SUFFIX}")
            try:
                partial.write_bytes(message.data)
                os.replace(partial, target)
            except OSError:
                with contextlib.suppress(OSError):  # a full disk: what was written of it would stay for nothing
                    partial.unlink(missing_ok=True)
                raise
        except StorageUnavailable as error:
            if not error.transient:  # a refused key or a missing bucket: no retry fixes it, the operator must
                raise
            raise TransientSendError(f"cannot write {target}: {error}") from error
        except OSError as error:
            raise TransientSendError(f"cannot write {target}: {error}") from error

    def begin(self, message: Composed) -> None:
        self.send(message)

    def finish(self) -> None:
        pass

    def close(self) -> None:
        pass


# The outboxes this process has tidied: a folder of 1.1M messages takes seconds to list, and a run opens a sender
# per chunk.
_TIDIED: set[Path] = set()


def _remove_stale_parts(directory: Path) -> int:
    """Removes the `.part` files of writes that never finished, once per process and folder; returns how many."""
    if directory in _TIDIED:
        return 0
    _TIDIED.add(directory)
    removed, now = 0, time.time()
    for partial in directory.glob(f".*{PART_SUFFIX}"):
        with contextlib.suppress(OSError):  # gone already (another worker tidied it), or not ours to remove
            if now - partial.stat().st_mtime > STALE_PART_SECONDS:
                partial.unlink()
                removed += 1
    return removed


class SmtpSender:
    def __init__(self, target: SmtpTarget, timeout: float = 30.0, rate_per_second: float = 0.0):
        self.target = target
        self.timeout = timeout
        self.rate = RateLimiter(rate_per_second)
        self._connection: smtplib.SMTP | None = None
        self._awaiting = False

    def _connect(self) -> smtplib.SMTP:
        target = self.target
        connection: smtplib.SMTP
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
        self.begin(message)
        self.finish()

    def begin(self, message: Composed) -> None:
        """MAIL, RCPT, DATA and the message body, as smtplib.sendmail does, but without reading the final reply."""
        self.rate.wait()
        if self._connection is None:
            self._connection = self._connect()
        connection = self._connection
        with self._classified():
            code, reply = connection.mail(message.sender)
            if code != 250:
                self._reset_and_raise(connection, code, reply)
            code, reply = connection.rcpt(message.recipient)
            if code not in (250, 251):
                self._reset_and_raise(connection, code, reply)
            connection.putcmd("data")
            code, reply = connection.getreply()
            if code != 354:
                self._reset_and_raise(connection, code, reply)
            body = _LEADING_DOT.sub(b"..", message.data)
            connection.send(body + (b"" if body.endswith(b"\r\n") else b"\r\n") + b".\r\n")
            self._awaiting = True

    def finish(self) -> None:
        if not self._awaiting:
            return
        self._awaiting = False
        connection = self._connection
        assert connection is not None, "begin() left a reply awaited on an open connection"  # _drop() clears both
        with self._classified():
            code, reply = connection.getreply()
            if code != 250:
                self._raise_for(code, reply)

    @contextlib.contextmanager
    def _classified(self):
        """SMTP replies are classified by the caller; a broken connection is always transient."""
        try:
            yield
        except (TransientSendError, PermanentSendError):
            raise
        except (TimeoutError, smtplib.SMTPServerDisconnected, OSError, smtplib.SMTPException) as error:
            self._drop()
            raise TransientSendError(f"connection to {self.target.redacted} lost: {error}") from error

    def _reset_and_raise(self, connection: smtplib.SMTP, code: int, reply: bytes) -> None:
        with contextlib.suppress(OSError, smtplib.SMTPException):
            connection.rset()
        self._raise_for(code, reply)

    def _raise_for(self, code: int, reply: bytes | str) -> None:
        text = f"{code} {reply.decode(errors='replace') if isinstance(reply, bytes) else reply}"
        if 400 <= code < 500:
            raise TransientSendError(text)
        raise PermanentSendError(text)

    def _drop(self) -> None:
        self._awaiting = False
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
