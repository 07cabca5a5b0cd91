"""Where mail goes: smtp://host:25, smtp+starttls://user:pass@host:587 or smtps://user:pass@host:465.

Errors describe the URL, not the setting it came from: the caller names that (settings.py: BILLING_SMTP_URL).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

DEFAULT_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}


@dataclass(frozen=True)
class SmtpTarget:
    """Where and as whom to send; the password stays out of its repr, which logs and tracebacks print.

    >>> parse_smtp_url("smtps://mailer:s%40cret@smtp.example.com")
    SmtpTarget(scheme='smtps', host='smtp.example.com', port=465, username='mailer')
    """

    scheme: str
    host: str
    port: int
    username: str | None
    password: str | None = field(repr=False)

    @property
    def redacted(self) -> str:
        user = f"{self.username}:***@" if self.username else ""
        return f"{self.scheme}://{user}{self.host}:{self.port}"


def parse_smtp_url(url: str) -> SmtpTarget:
    parts = urlsplit(url)
    if parts.scheme not in DEFAULT_PORTS:
        raise ValueError(f"must start with {', '.join(s + '://' for s in DEFAULT_PORTS)}")
    if not parts.hostname:
        raise ValueError("has no host")
    try:
        port = parts.port or DEFAULT_PORTS[parts.scheme]
    except ValueError:
        raise ValueError("has an invalid port") from None
    return SmtpTarget(
        parts.scheme, parts.hostname, port,
        unquote(parts.username) if parts.username else None,
        unquote(parts.password) if parts.password else None,
    )
