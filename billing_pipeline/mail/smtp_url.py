"""`BILLING_SMTP_URL`: smtp://host:25, smtp+starttls://user:pass@host:587, smtps://user:pass@host:465."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

DEFAULT_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}


@dataclass(frozen=True)
class SmtpTarget:
    scheme: str
    host: str
    port: int
    username: str | None
    password: str | None

    @property
    def redacted(self) -> str:
        user = f"{self.username}:***@" if self.username else ""
        return f"{self.scheme}://{user}{self.host}:{self.port}"


def parse_smtp_url(url: str) -> SmtpTarget:
    parts = urlsplit(url)
    if parts.scheme not in DEFAULT_PORTS:
        raise ValueError(f"BILLING_SMTP_URL must start with {', '.join(s + '://' for s in DEFAULT_PORTS)}")
    if not parts.hostname:
        raise ValueError("BILLING_SMTP_URL has no host")
    try:
        port = parts.port or DEFAULT_PORTS[parts.scheme]
    except ValueError:
        raise ValueError("BILLING_SMTP_URL has an invalid port") from None
    return SmtpTarget(
        parts.scheme, parts.hostname, port,
        unquote(parts.username) if parts.username else None,
        unquote(parts.password) if parts.password else None,
    )
