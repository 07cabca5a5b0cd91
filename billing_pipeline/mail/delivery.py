"""Delivery mechanics shared by every notice: which sender, whom never to write to, and how long to back off."""

from __future__ import annotations

import random

from billing_pipeline.mail.senders import FileOutboxSender, Sender, SmtpSender
from billing_pipeline.mail.smtp_url import parse_smtp_url
from billing_pipeline.storage.location import AnyPath

MAX_BACKOFF_SECONDS = 60.0


def make_sender(smtp_url: str, timeout: float, rate: float, outbox_dir: AnyPath) -> Sender:
    """SMTP when a server is configured, else the file outbox (one .eml per message)."""
    if smtp_url:
        return SmtpSender(parse_smtp_url(smtp_url), timeout, rate)
    return FileOutboxSender(outbox_dir)


def load_suppressions(path: AnyPath) -> set[str]:
    """Addresses never to write to, lower-cased: one per line, `#` comments and blank lines ignored."""
    if not path.exists():
        return set()
    lines = path.read_text(encoding="utf-8").splitlines()
    return {line.strip().lower() for line in lines if line.strip() and not line.lstrip().startswith("#")}


def backoff_seconds(attempt: int, base: float, ceiling: float = MAX_BACKOFF_SECONDS) -> float:
    """Exponential (base, 2 base, 4 base, ...) with ±50% jitter so that many workers do not retry in step."""
    return min(base * 2 ** (attempt - 1), ceiling) * random.uniform(0.5, 1.5)
