"""GET /metrics: Prometheus text exposition, computed at every scrape from the store, the inbox and the Dagster
instance. Runs are other processes, so no counter kept in this one would know their work: the figures are read
where the runs write them (stages.metrics_snapshot, instance.run_counts), by a custom collector on a registry of
the app's own (never prometheus_client's global one, which would mix two apps' figures in one process).

A source that cannot be read is a value, not a 500: billing_store_up, billing_inbox_up and
billing_dagster_instance_up are 0 and that source's metrics are left out of the scrape (a counter reported as 0
would look like a reset). deploy/ writes alert rules and a dashboard against exactly these names.

| metric | type | labels | meaning |
| --- | --- | --- | --- |
| billing_store_up | gauge | | 1 when the store answered this scrape's queries |
| billing_files | gauge | status | files by FileStatus, every status present |
| billing_rows_total | counter | outcome | rows accepted, rejected, duplicate (finished files' roll-up + the chunks of files in progress) |
| billing_rejects_total | counter | code | rejected lines by reject code, every code present |
| billing_boletos_total | counter | | boletos issued |
| billing_notices | gauge | state | notices by NoticeStatus, every state present |
| billing_file_processing_seconds | histogram | le | finished files, registered_at to reported_at |
| billing_chunk_reject_ratio_max | gauge | | the highest rejected/rows of the chunks validated or loaded in the last hour |
| billing_chunks_recent | gauge | | how many chunks that maximum is over |
| billing_reject_ratio_threshold | gauge | | BILLING_MAX_REJECT_RATE |
| billing_inbox_up | gauge | | 1 when the inbox could be listed |
| billing_inbox_files | gauge | | files waiting in the inbox |
| billing_inbox_oldest_file_age_seconds | gauge | | age of the oldest of them (0 when none) |
| billing_dagster_instance_up | gauge | | 1 when DAGSTER_HOME's instance answered |
| billing_dagster_runs | gauge | job, status | Dagster runs by job and DagsterRunStatus |
| billing_metrics_scrape_seconds | gauge | | how long this scrape took to compute |

The reject-rate alert: `billing_chunk_reject_ratio_max > billing_reject_ratio_threshold` fires when a chunk of the
last hour failed its reject_rate_below_threshold check (the same `rejected / rows > BILLING_MAX_REJECT_RATE`), and
resolves an hour after the last such chunk.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from billing_pipeline import stages
from billing_pipeline.instance import run_counts
from billing_pipeline.settings import Settings

from .auth import CHALLENGE, presented_token, token_matches
from .errors import error_response

log = logging.getLogger(__name__)
router = APIRouter()

_REGISTRY_ATTRIBUTE = "metrics_registry"
_INSTANCE_ATTRIBUTE = "dagster_instance"
_LOCK = threading.Lock()  # one registry and one Dagster instance per app, however many scrapes arrive at once


@dataclass(frozen=True)
class Scrape:
    """Everything one scrape reports."""

    snapshot: stages.MetricsSnapshot
    dagster_up: bool
    runs: dict[str, dict[str, int]] | None  # job -> DagsterRunStatus value -> runs; None without an instance
    seconds: float = 0.0  # how long it took to read


def metric_families(scrape: Scrape) -> list[Metric]:
    """The metric families of one scrape, with their HELP text."""
    families: list[Metric] = []
    figures, backlog = scrape.snapshot.store, scrape.snapshot.inbox

    families.append(GaugeMetricFamily(
        "billing_store_up", "1 when the store (BILLING_DATABASE_URL) answered this scrape's queries, 0 when it "
        "could not be read; the store's metrics are then left out.", value=int(figures is not None)))
    if figures is not None:
        families.extend(_store_families(figures))
    families.append(GaugeMetricFamily(
        "billing_reject_ratio_threshold", "BILLING_MAX_REJECT_RATE: a chunk whose rejected/rows exceeds it fails "
        "its reject_rate_below_threshold check.", value=scrape.snapshot.reject_rate_threshold))

    families.append(GaugeMetricFamily(
        "billing_inbox_up", "1 when the inbox (a folder or a bucket prefix) could be listed, 0 when not; the "
        "inbox metrics are then left out.", value=int(backlog is not None)))
    if backlog is not None:
        families.append(GaugeMetricFamily(
            "billing_inbox_files", "Files waiting in the inbox, not registered yet (*.part, *.tmp and hidden files "
            "are not counted).", value=backlog.files))
        families.append(GaugeMetricFamily(
            "billing_inbox_oldest_file_age_seconds", "Seconds since the modification time of the oldest file "
            "waiting in the inbox; 0 when the inbox is empty.", value=backlog.oldest_age_seconds))

    families.append(GaugeMetricFamily(
        "billing_dagster_instance_up", "1 when the Dagster instance of DAGSTER_HOME answered, 0 when it could "
        "not be read or DAGSTER_HOME is not set; billing_dagster_runs is then left out.",
        value=int(scrape.dagster_up)))
    if scrape.runs is not None:
        runs = GaugeMetricFamily("billing_dagster_runs", "Dagster runs in the instance's run storage by job and "
                                 "DagsterRunStatus, every status present for each job that has runs.",
                                 labels=["job", "status"])
        for job, statuses in sorted(scrape.runs.items()):
            for status, count in statuses.items():
                runs.add_metric([job, status], count)
        families.append(runs)

    families.append(GaugeMetricFamily(
        "billing_metrics_scrape_seconds", "Seconds this scrape took to read the store, the inbox and the Dagster "
        "instance.", value=scrape.seconds))
    return families


def _by_label(family: type[GaugeMetricFamily] | type[CounterMetricFamily], name: str, documentation: str,
              label: str, counts: dict[str, int]) -> Metric:
    metric = family(name, documentation, labels=[label])
    for value, count in counts.items():
        metric.add_metric([value], count)
    return metric


def _store_families(figures: stages.StoreFigures) -> Iterable[Metric]:
    yield _by_label(GaugeMetricFamily, "billing_files", "Files in the store by status (registered, split, "
                    "processed, rejected), every status present.", "status", figures.files)
    yield _by_label(CounterMetricFamily, "billing_rows", "Data rows by outcome (accepted, rejected, duplicate): the "
                    "rolled-up numbers of finished files plus the numbers of the chunks of files still processing "
                    "so far (a chunk's rejected and duplicates once validated, its accepted once loaded).",
                    "outcome", figures.rows)
    yield _by_label(CounterMetricFamily, "billing_rejects", "Rejected lines by reject code (distinct lines per "
                    "code, as a file's report counts them: a line with problems under two codes counts under each; "
                    "every row of a file rejected whole under its file-level code); every code present.", "code",
                    dict(sorted(figures.reject_codes.items())))
    yield CounterMetricFamily("billing_boletos", "Boletos issued (numbered, with barcode and linha digitável).",
                              value=figures.boletos)

    yield _by_label(GaugeMetricFamily, "billing_notices", "Notices (e-mails) by state: pending, sent, failed, "
                    "suppressed, every state present.", "state", figures.notices)

    times = figures.processing
    yield HistogramMetricFamily(
        "billing_file_processing_seconds", "Seconds from a file's registration to its final report, over the "
        "finished files (processed, or rejected whole).",
        buckets=[*((floatToGoString(bound), count) for bound, count in zip(times.bounds, times.cumulative, strict=True)),
                 ("+Inf", times.count)],
        sum_value=times.total_seconds)

    yield GaugeMetricFamily(
        "billing_chunk_reject_ratio_max", f"The highest rejected/rows among the chunks validated or loaded in "
        f"the last {stages.REJECT_RATE_WINDOW_SECONDS} s (0 when none): above billing_reject_ratio_threshold, a "
        f"recent chunk failed its reject_rate_below_threshold check.", value=figures.chunk_reject_rate_max)
    yield GaugeMetricFamily(
        "billing_chunks_recent", f"Chunks validated or loaded in the last {stages.REJECT_RATE_WINDOW_SECONDS} s: "
        "what billing_chunk_reject_ratio_max is taken over.", value=figures.recent_chunks)


class BillingCollector(Collector):
    """Reads a Scrape at every collect (every scrape of the registry it is registered in), one at a time: scrapes
    that arrive together (two Prometheus servers, a person's curl) share one read of the store rather than each
    holding a connection of the API's small pool while it counts."""

    def __init__(self, read: Callable[[], Scrape]):
        self._read = read
        self._reading = threading.Lock()
        self._last: tuple[float, Scrape] | None = None

    def collect(self) -> Iterable[Metric]:
        asked = time.monotonic()
        with self._reading:
            if self._last is None or self._last[0] < asked:  # read after this scrape arrived: current enough
                self._last = (time.monotonic(), self._read())
            scrape = self._last[1]
        return metric_families(scrape)


def read_scrape(engine: Any, settings: Settings, instance: Callable[[], Any | None]) -> Scrape:
    """One scrape's figures: the store's and the inbox's (stages.metrics_snapshot), then the runs of the Dagster
    instance `instance()` gives (None without DAGSTER_HOME)."""
    started = time.perf_counter()
    snapshot = stages.metrics_snapshot(engine, settings)
    runs: dict[str, dict[str, int]] | None = None
    try:
        dagster = instance()
        if dagster is not None:
            runs = run_counts.run_counts(dagster)
    except Exception as error:  # any fault of the instance is billing_dagster_instance_up 0
        log.warning("metrics: the Dagster instance cannot be read: %s", error)
        runs = None
    return Scrape(snapshot, runs is not None, runs, time.perf_counter() - started)


def app_registry(app: FastAPI) -> CollectorRegistry:
    """The app's registry, made at its first scrape: one collector reading the app's engine and settings."""
    with _LOCK:
        registry = getattr(app.state, _REGISTRY_ATTRIBUTE, None)
        if registry is None:
            registry = CollectorRegistry(auto_describe=False)
            registry.register(BillingCollector(
                lambda: read_scrape(app.state.engine, app.state.settings, lambda: dagster_instance(app))))
            setattr(app.state, _REGISTRY_ATTRIBUTE, registry)
        return registry


def dagster_instance(app: FastAPI) -> Any | None:
    """DAGSTER_HOME's instance, made at the first scrape that needs it and kept on app.state; None when
    DAGSTER_HOME is not set. An instance that cannot be made is tried again at the next scrape."""
    with _LOCK:
        instance = getattr(app.state, _INSTANCE_ATTRIBUTE, None)
        if instance is None:
            instance = run_counts.home_instance()
            if instance is not None:
                setattr(app.state, _INSTANCE_ATTRIBUTE, instance)
        return instance


def close_metrics(app: FastAPI) -> None:
    """Disposes of the Dagster instance the scrapes opened (its storage's connections): for the app's shutdown."""
    with _LOCK:
        instance = getattr(app.state, _INSTANCE_ATTRIBUTE, None)
        setattr(app.state, _INSTANCE_ATTRIBUTE, None)
    if instance is not None:
        instance.dispose()


@router.get("/metrics", response_class=Response, summary="Prometheus metrics, computed at scrape time",
            responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}, 401: {"description": "BILLING_API_METRICS_TOKEN "
                                                                                        "is set and not presented"}})
def metrics(request: Request) -> Response:
    """The store's, the inbox's and the Dagster instance's figures in Prometheus text format. Open, unless
    BILLING_API_METRICS_TOKEN is set: then `Authorization: Bearer <that token>` is required. A plain `def`:
    FastAPI runs it in its threadpool, so the queries never block the event loop."""
    settings: Settings = request.app.state.settings
    expected = settings.api_metrics_token
    if expected:
        presented = presented_token(request.headers)
        if not token_matches(presented, (expected,)):
            message = ("/metrics needs the bearer token of BILLING_API_METRICS_TOKEN (Authorization: Bearer <token>)"
                       if presented is None else "the bearer token is not BILLING_API_METRICS_TOKEN")
            return error_response(401, "unauthorized", message, CHALLENGE)
    return Response(generate_latest(app_registry(request.app)), media_type=CONTENT_TYPE_LATEST)
