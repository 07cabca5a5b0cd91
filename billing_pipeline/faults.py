"""Which errors are worth retrying: trouble that goes away on its own, as opposed to trouble in the data or the code.

A lost database connection, a locked SQLite file, an SMTP server that hung up or said 4xx, an object store that
is down or busy, a network timeout: a retry after a pause can succeed. A Pandera schema error, a missing archive file, a constraint violation, a bug:
the same input fails the same way every time, so retrying only delays the operator's alert.
"""

from __future__ import annotations

import errno
import smtplib
import sqlite3
from collections.abc import Iterator

import psycopg
from sqlalchemy import exc as sa_exc

from billing_pipeline.mail.senders import TransientSendError
from billing_pipeline.storage.errors import loaded_classes

# OSErrors that describe the moment, not the input (a busy or full device, an interrupted call, the network).
_TRANSIENT_ERRNOS = frozenset({
    errno.EAGAIN, errno.EBUSY, errno.EINTR, errno.ENOSPC, errno.EIO, errno.ENETDOWN, errno.ENETUNREACH,
    errno.EHOSTUNREACH, errno.ECONNREFUSED, errno.ECONNRESET, errno.ECONNABORTED, errno.ETIMEDOUT, errno.EPIPE,
    errno.EREMOTEIO,  # s3fs: the object store answered 500
})


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _is_transient_one(error: BaseException) -> bool:
    # SQLAlchemy's OperationalError also wraps SQLite's "no such table" and syntax errors: the driver's own error,
    # next in the chain, decides; only a connection SQLAlchemy saw die (or its pool timing out) is judged here.
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, sa_exc.TimeoutError | sa_exc.DisconnectionError):
        return True
    if isinstance(error, psycopg.OperationalError | psycopg.InterfaceError):
        return True
    if isinstance(error, sqlite3.OperationalError):
        text = str(error).lower()
        return "locked" in text or "busy" in text or "disk i/o" in text
    if isinstance(error, TransientSendError | smtplib.SMTPServerDisconnected | smtplib.SMTPConnectError):
        return True
    if isinstance(error, smtplib.SMTPResponseException):
        return 400 <= error.smtp_code < 500
    if isinstance(error, ConnectionError | TimeoutError):
        return True
    # The object store unreachable, or the connection cut mid-transfer (botocore's and aiohttp's own classes,
    # which are not the builtin ConnectionError); a 503 SlowDown comes out of s3fs as EBUSY, above.
    if isinstance(error, (*loaded_classes("botocore.exceptions", "ConnectionError", "HTTPClientError"),
                          *loaded_classes("aiohttp", "ClientConnectionError", "ClientPayloadError"))):
        return True
    return isinstance(error, OSError) and error.errno in _TRANSIENT_ERRNOS


def is_transient(error: BaseException) -> bool:
    """True when a retry after a pause may succeed: the error or anything that caused it is a transient fault."""
    return any(_is_transient_one(link) for link in _chain(error))
