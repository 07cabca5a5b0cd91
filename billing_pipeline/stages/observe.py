"""What monitoring sees at a scrape: the store's figures and the inbox's backlog, read now from the store and the
inbox (runs are other processes: no counter in this one would know their work).

A store or an inbox that cannot be read is part of the picture rather than an error: its figures are None and
the API's /metrics says so with billing_store_up / billing_inbox_up 0.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from billing_pipeline.ingest import inbox
from billing_pipeline.settings import Settings
from billing_pipeline.storage.errors import StorageUnavailable
from billing_pipeline.store.observed import (
    PROCESSING_BUCKETS,
    REJECT_RATE_WINDOW_SECONDS,
    ROW_OUTCOMES,
    ProcessingTimes,
    StoreFigures,
    store_figures,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class InboxBacklog:
    """Files waiting in the inbox (the sensor has not registered them yet)."""

    files: int
    oldest_age_seconds: float  # 0 when the inbox is empty


@dataclass(frozen=True)
class MetricsSnapshot:
    store: StoreFigures | None  # None: the store could not be read
    inbox: InboxBacklog | None  # None: the inbox could not be listed
    reject_rate_threshold: float  # BILLING_MAX_REJECT_RATE, which a chunk's reject_rate_below_threshold check uses


def metrics_snapshot(engine: Engine, settings: Settings, now_ns: int | None = None) -> MetricsSnapshot:
    """The store's figures (a handful of aggregate queries, store/observed.py says what each costs) and one listing
    of the inbox (a folder's scandir, or a bucket prefix listed whole: registered files leave it, so it stays
    short)."""
    try:
        figures: StoreFigures | None = store_figures(engine)
    except SQLAlchemyError as error:
        log.warning("metrics: the store cannot be read: %s", str(error).splitlines()[0] if str(error) else error)
        figures = None
    return MetricsSnapshot(figures, inbox_backlog(settings, now_ns), settings.max_reject_rate)


def inbox_backlog(settings: Settings, now_ns: int | None = None) -> InboxBacklog | None:
    """How many files wait in the inbox and how old the oldest is (by its modification time); None when the inbox
    cannot be listed."""
    try:
        entries = inbox.scan(settings.inbox_dir)
    except (StorageUnavailable, OSError) as error:
        log.warning("metrics: the inbox %s cannot be listed: %s", settings.inbox_dir, error)
        return None
    if not entries:
        return InboxBacklog(0, 0.0)
    now_ns = time.time_ns() if now_ns is None else now_ns
    oldest = min(entry.mtime_ns for entry in entries)
    return InboxBacklog(len(entries), max(now_ns - oldest, 0) / 1e9)


__all__ = [
    "PROCESSING_BUCKETS",
    "REJECT_RATE_WINDOW_SECONDS",
    "ROW_OUTCOMES",
    "InboxBacklog",
    "MetricsSnapshot",
    "ProcessingTimes",
    "StoreFigures",
    "inbox_backlog",
    "metrics_snapshot",
]
