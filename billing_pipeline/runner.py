"""`billing process` (and `billing cnab remessa|retorno`, `billing remind`): the pipeline in this process, no daemon.

A file goes through the same stages as under the daemon (billing_pipeline.stages), each chunk's stages back to back
in this process or in `workers` spawned ones, without a Dagster run per chunk: in one process a run would only
record into an ephemeral instance that is thrown away. The bank files and reminders are materialised as their
assets, on an ephemeral Dagster instance (nothing is written to DAGSTER_HOME). Both use the configured store and
data folders, so their results are the ones the daemon would produce.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from billing_pipeline import stages
from billing_pipeline.faults import is_transient
from billing_pipeline.pipeline_steps import STEPS
from billing_pipeline.settings import Settings
from billing_pipeline.statuses import FINISHED_FILE_STATUSES, FileStatus, ReceivedVia

if TYPE_CHECKING:
    import dagster as dg

SOURCE_FILE = STEPS[0]
# A stage met trouble that goes away on its own (the store restarting, a locked SQLite file): it runs again after
# 1, 2, 4, 8 and 16 s (with jitter), as the assets' STORE_RETRY policy does under the daemon.
TRANSIENT_RETRIES = 5
T = TypeVar("T")


def default_workers(dialect: str) -> int:
    """One chunk at a time on SQLite (a single writer); on PostgreSQL one per core, at most 2: a chunk's work is
    half ours and half the database's, so two overlap well on two cores and more only add memory."""
    return 1 if dialect == "sqlite" else min(2, os.cpu_count() or 1)


class ProcessError(Exception):
    """A step failed for a reason that is not about the data (the message says which step and why)."""


@dataclass
class ProcessSummary:
    file_id: str
    original_name: str
    status: str
    rows: int | None = None
    accepted: int | None = None
    rejected: int | None = None
    duplicates: int | None = None
    chunks: int = 0
    boletos: int | None = None
    pdfs: int | None = None
    notified: int | None = None
    stage: str = "notifications"  # the last stage the file went through: source_file for a rejected one
    already_received: str | None = None  # the same bytes came in before: nothing new was done
    error: str | None = None
    rejects_report: str | None = None
    report: str | None = None
    elapsed_seconds: float = 0.0
    chunk_keys: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        data = dict(self.__dict__)
        data.pop("chunk_keys")
        return data


def process_file(path: Path, settings: Settings, until: str = "notifications",
                 workers: int | None = None,
                 progress: Callable[[stages.FileProgress], None] | None = None) -> ProcessSummary:
    """The file's stages run in this process (and `workers` spawned ones), as the daemon's runs would, every step
    with exactly these `settings` (the environment is not read again). The file itself stays where it is: a copy
    is archived. `progress` is handed where the file stands every POLL_SECONDS while its steps run."""
    if until not in STEPS:
        raise ValueError(f"--until must be one of {', '.join(STEPS)}")
    started = time.perf_counter()
    settings.ensure_dirs()
    engine = stages.open_store(settings)
    workers = default_workers(engine.dialect.name) if workers is None else workers

    registration = stages.register_stage(engine, settings, path, keep_original=True,
                                         received_via=ReceivedVia.PROCESS)
    file_id = registration.file_id
    if not registration.new and (nothing_to_do := _already_received(engine, registration)):
        engine.dispose()
        return nothing_to_do
    # Workers start (and spend their ~1 s of imports) while this process splits the file. Whether the file has
    # several chunks is only known after the split; ~100 bytes per row is a guess that only decides this head start.
    likely_chunks = path.stat().st_size / (100 * settings.chunk_rows)
    pool = _worker_pool(workers) if workers > 1 and until != SOURCE_FILE and likely_chunks > 1.5 else None
    stop_polling = _poll_progress(progress, engine, settings, file_id)
    try:
        split = _step(SOURCE_FILE, lambda: stages.split_stage(engine, settings, file_id))
        keys = split.chunk_keys
        if split.rejected is None and until != SOURCE_FILE:
            if workers == 1 or len(keys) == 1:
                for key in keys:
                    _chunk(engine, settings, key, until)
            else:
                pool = pool or _worker_pool(workers)
                futures = [pool.submit(_chunk_in_worker, key, until, settings) for key in keys]
                try:
                    for future in futures:
                        future.result()  # the first failure is raised; the shutdown below cancels the rest
                except BrokenProcessPool as error:  # a worker killed (the OOM killer) or unable to start
                    raise ProcessError(f"a worker process ended abruptly: {error}; run the command again to "
                                       "carry on from where the file stands") from error
        row = stages.file_record(engine, file_id)
        if until == STEPS[-1] and row["status"] in FINISHED_FILE_STATUSES:
            _step("file_report", lambda: stages.report_stage(engine, settings, file_id))
    finally:
        stop_polling()
        if pool is not None:
            pool.shutdown(cancel_futures=True)

    chunks = stages.file_chunks(engine, file_id)
    summary = ProcessSummary(
        file_id=file_id,
        original_name=row["original_name"],
        status=row["status"],
        rows=row["rows"],
        chunks=len(chunks),
        stage=until,
        chunk_keys=keys,
    )
    if row["status"] == FileStatus.REJECTED:
        summary.error = f"{row['error_code']}: {row['error_message']}"
        summary.stage = SOURCE_FILE
        summary.accepted, summary.rejected, summary.duplicates = 0, row["rows"], 0
    if until != SOURCE_FILE and chunks:
        summary.rejected = sum(c["rejected"] or 0 for c in chunks)
        summary.duplicates = sum(c["duplicates"] or 0 for c in chunks)
        if STEPS.index(until) >= STEPS.index("debts"):
            summary.accepted = sum(c["accepted"] or 0 for c in chunks)
        if STEPS.index(until) >= STEPS.index("boletos"):
            summary.boletos = stages.file_boleto_count(engine, file_id)
        if STEPS.index(until) >= STEPS.index("boleto_pdfs"):
            summary.pdfs = stages.pdfs_written(settings, keys)
        if until == "notifications":
            summary.notified = stages.notice_counts(engine, file_id=file_id)["sent"]
    elif row["status"] == FileStatus.PROCESSED:
        summary.accepted = summary.rejected = summary.duplicates = summary.boletos = summary.pdfs = 0
        summary.notified = 0
    engine.dispose()
    rejects = settings.rejects_path(file_id)
    if rejects.exists():
        summary.rejects_report = str(rejects)
    report = settings.report_path(file_id)
    if report.exists():
        summary.report = str(report)
    summary.elapsed_seconds = round(time.perf_counter() - started, 3)
    return summary


def _already_received(engine: Engine, registration: stages.Registration) -> ProcessSummary | None:
    """The summary of known bytes with nothing new to do here: finished, or the daemon's (they came through the
    inbox). None for a file an earlier `billing process` left unfinished (stopped with --until, cut short, or not
    reported yet): this one carries on from where that one stopped."""
    redrop = stages.redrop_of(engine, registration.file_id)
    if redrop.left_by_process:
        return None
    row = redrop.file
    rejected = row["status"] == FileStatus.REJECTED
    return ProcessSummary(
        file_id=registration.file_id,
        original_name=registration.original_name,
        status=row["status"],
        rows=row["rows"],
        chunks=row["chunk_count"] or 0,
        stage=SOURCE_FILE if rejected or not redrop.finished else STEPS[-1],
        already_received=f"{registration.already_received()}; {redrop.verdict}",
        error=f"{row['error_code']}: {row['error_message']}" if row["error_code"] else None,
    )


def _step(name: str, run: Callable[[], T], sleep: Callable[[float], None] = time.sleep) -> T:
    """`run` again after transient trouble, as a step retry policy would; any other error, or transient trouble
    that outlasts the retries, becomes one ProcessError naming the step."""
    for retry in range(TRANSIENT_RETRIES + 1):
        try:
            return run()
        except stages.ChunkStageFailed as error:
            raise ProcessError(str(error)) from error
        except Exception as error:  # noqa: BLE001 - classified: transient trouble is retried, the rest reported
            if retry < TRANSIENT_RETRIES and is_transient(error):
                sleep(2**retry * random.uniform(0.75, 1.25))
                continue
            kind = "permanent error" if not is_transient(error) else f"still failing after {retry} retries"
            raise ProcessError(f"{name} failed ({kind}): {type(error).__name__}: {str(error).strip()}") from error
    raise AssertionError("unreachable: the last try returns or raises")


def _chunk(engine: Engine, settings: Settings, key: str, until: str) -> stages.ChunkRun:
    def step(name: str, stage: Callable[[], T]) -> T:
        return _step(f"chunk {key}: {name}", stage)

    return stages.run_chunk_stages(engine, settings, key, until, step=step)


# Each worker process holds one store engine for all its chunks, opened by its first chunk.
_worker_store: tuple[Engine, Settings] | None = None


def _chunk_in_worker(key: str, until: str, settings: Settings) -> None:
    global _worker_store  # noqa: PLW0603 - one per worker process, for the process's life
    if _worker_store is None or _worker_store[1] != settings:
        _worker_store = (_step(f"chunk {key}: opening the store", lambda: stages.open_store(settings)), settings)
    _chunk(_worker_store[0], settings, key, until)


def _started() -> None:
    """A worker's first task: by the time it runs, the worker has imported the stages."""


def _worker_pool(workers: int) -> ProcessPoolExecutor:
    """Spawned, not forked: a fork would copy this process's open connections. Every worker is started now."""
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
    for _ in range(workers):
        pool.submit(_started)
    return pool


def write_remessa(settings: Settings) -> dict[str, object]:
    """The remessa asset materialized in this process, as the daemon's write_remessa run would: its metadata."""
    import dagster as dg

    from billing_pipeline.defs.cnab.assets import remessa

    settings.ensure_dirs()
    result = _materialize([remessa], None, dg.DagsterInstance.ephemeral(), settings)
    return _metadata_of(result, remessa)


def remind(settings: Settings, today: str = "") -> dict[str, object]:
    """The reminder_notices asset materialized in this process as if `today` (YYYY-MM-DD, "" for the real today)
    had come, as the daemon's scheduled run would: its metadata."""
    import dagster as dg

    from billing_pipeline.defs.reminders.assets import reminder_notices

    settings.ensure_dirs()
    config = {"day": today, "as_today": bool(today)}
    result = _materialize([reminder_notices], None, dg.DagsterInstance.ephemeral(), settings,
                          {"ops": {"reminder_notices": {"config": config}}})
    return _metadata_of(result, reminder_notices)


def import_retorno(path: Path, settings: Settings) -> tuple[stages.RetornoRegistration, dict[str, object] | None]:
    """A retorno registered by its sha256 and its asset materialized in this process; bytes imported before are
    not imported again (None: nothing was run)."""
    import dagster as dg

    from billing_pipeline.defs.cnab.assets import retorno
    from billing_pipeline.defs.partitions import retorno_file_partitions

    settings.ensure_dirs()
    engine = stages.open_store(settings)
    try:
        registration = stages.register_retorno(engine, settings, path, received_via=ReceivedVia.PROCESS,
                                               keep_original=True)
    finally:
        engine.dispose()
    if not registration.new and registration.processed:
        return registration, None
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(retorno_file_partitions.name, [registration.file_id])
    result = _materialize([retorno], registration.file_id, instance, settings)
    return registration, _metadata_of(result, retorno)


def _metadata_of(result: dg.ExecuteInProcessResult, asset: dg.AssetsDefinition) -> dict[str, object]:
    (materialization,) = result.asset_materializations_for_node(asset.op.name)
    return {key: value.value for key, value in materialization.metadata.items()}


def _materialize(selection: list, partition_key: str | None, instance: dg.DagsterInstance,
                 settings: Settings, run_config: dict | None = None) -> dg.ExecuteInProcessResult:
    """Dagster is imported only here: `billing process` never needs it."""
    import dagster as dg

    from billing_pipeline.definitions import ASSETS
    from billing_pipeline.defs.resources import BillingResource, ChunkFrameIOManager

    result = dg.materialize(
        ASSETS,
        selection=selection,
        partition_key=partition_key,
        instance=instance,
        resources={"billing": BillingResource.of(settings),
                   "chunk_io_manager": ChunkFrameIOManager(base_dir=str(settings.staging_dir))},
        raise_on_error=False,
        # Failures reach the user as one line (ProcessError or the store's verdict), not as a logged stack trace.
        run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}, **(run_config or {})},
    )
    if result.success:
        return result
    failures = [event for event in result.all_events if event.is_step_failure]
    detail = "; ".join(
        f"{event.step_key}: {event.step_failure_data.error.message.strip()}"
        for event in failures
        if event.step_failure_data.error is not None
    )
    run = f"the run for partition {partition_key}" if partition_key else f"the {selection[0].key.to_user_string()} run"
    raise ProcessError(f"{run} failed: {detail or 'no step reported why'}")


POLL_SECONDS = 0.5


def _poll_progress(progress: Callable[[stages.FileProgress], None] | None, engine: Engine, settings: Settings,
                   file_id: str) -> Callable[[], None]:
    """Starts handing `progress` the file's progress every POLL_SECONDS, from a daemon thread; returns what stops
    it, after one last look. The steps run here or in worker processes, so the store is the one place that sees
    all of them."""
    if progress is None:
        return lambda: None
    stopped = threading.Event()

    def look() -> None:
        try:
            snapshot = stages.file_progress(engine, settings, file_id)
        except (SQLAlchemyError, OSError):  # the store busy or unreachable: the steps will say so, if it lasts
            return
        try:
            progress(snapshot)
        except Exception:  # noqa: BLE001 - a display that fails (a closed terminal) must not end the file's run
            return

    def poll() -> None:
        while not stopped.wait(POLL_SECONDS):
            look()

    poller = threading.Thread(target=poll, name="billing-progress", daemon=True)
    poller.start()

    def stop() -> None:
        stopped.set()
        poller.join()
        look()

    return stop
