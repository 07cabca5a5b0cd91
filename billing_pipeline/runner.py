"""`billing process` (and `billing cnab remessa|retorno`): the same assets materialised in this process, no daemon.

It uses an ephemeral Dagster instance (nothing is written to DAGSTER_HOME) and the configured store and data
folders, so its results are the ones the daemon would produce.
"""

import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from billing_pipeline import stages
from billing_pipeline.definitions import ASSETS
from billing_pipeline.defs.boletos.assets import boleto_pdfs, boletos
from billing_pipeline.defs.cnab.assets import remessa, retorno
from billing_pipeline.defs.ingest.assets import debts, source_file, validated_chunk
from billing_pipeline.defs.notifications.assets import notifications
from billing_pipeline.defs.partitions import chunk_partitions, retorno_file_partitions, source_file_partitions
from billing_pipeline.defs.reminders.assets import reminder_notices
from billing_pipeline.defs.reports.assets import file_report
from billing_pipeline.defs.resources import BillingResource, ChunkFrameIOManager
from billing_pipeline.pipeline_steps import STEPS
from billing_pipeline.settings import Settings
from billing_pipeline.statuses import FINISHED_FILE_STATUSES, FileStatus, ReceivedVia

CHUNK_ASSETS = {asset.key.to_user_string(): asset for asset in (validated_chunk, debts, boletos, boleto_pdfs,
                                                                 notifications)}


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
    """The file's assets materialized in this process (and `workers` spawned ones), as the daemon's runs would,
    every step with exactly these `settings` (the environment is not read again). The file itself stays where it
    is: a copy is archived. `progress` is handed where the file stands every POLL_SECONDS while its steps run."""
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
    instance = dg.DagsterInstance.ephemeral()
    resources = _resources(settings)
    instance.add_dynamic_partitions(source_file_partitions.name, [file_id])
    # Workers start (and spend their ~2 s of imports) while this process splits the file. Whether the file has
    # several chunks is only known after the split; ~100 bytes per row is a guess that only decides this head start.
    likely_chunks = path.stat().st_size / (100 * settings.chunk_rows)
    pool = _worker_pool(workers) if workers > 1 and until != "source_file" and likely_chunks > 1.5 else None
    stop_polling = _poll_progress(progress, engine, settings, file_id)
    try:
        _materialize([source_file], file_id, instance, resources)  # a rejected file is an outcome, not a failure
        row = stages.file_record(engine, file_id)
        keys = [c["chunk_key"] for c in stages.file_chunks(engine, file_id)]
        if row["status"] != FileStatus.REJECTED and until != "source_file":
            names = list(CHUNK_ASSETS)[: STEPS.index(until)]
            if workers == 1 or len(keys) == 1:
                instance.add_dynamic_partitions(chunk_partitions.name, keys)
                for key in keys:
                    _materialize([CHUNK_ASSETS[name] for name in names], key, instance, resources)
            else:
                pool = pool or _worker_pool(workers)
                _materialize_in_parallel(pool, keys, names, settings)
            row = stages.file_record(engine, file_id)
    finally:
        stop_polling()
        if pool is not None:
            pool.shutdown(cancel_futures=True)

    if until == "notifications" and row["status"] in FINISHED_FILE_STATUSES:
        _materialize([file_report], file_id, instance, resources)

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
        summary.stage = source_file.key.to_user_string()
        summary.accepted, summary.rejected, summary.duplicates = 0, row["rows"], 0
    if until != "source_file" and chunks:
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
        stage=source_file.key.to_user_string() if rejected or not redrop.finished else STEPS[-1],
        already_received=f"{registration.already_received()}; {redrop.verdict}",
        error=f"{row['error_code']}: {row['error_message']}" if row["error_code"] else None,
    )


def _resources(settings: Settings) -> dict:
    return {
        "billing": BillingResource.of(settings),
        "chunk_io_manager": ChunkFrameIOManager(base_dir=str(settings.staging_dir)),
    }


def _materialize_chunk(key: str, names: list[str], settings: Settings) -> None:
    """One chunk's assets in a worker process, on an ephemeral instance of its own."""
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(chunk_partitions.name, [key])
    _materialize([CHUNK_ASSETS[name] for name in names], key, instance, _resources(settings))


def _started() -> None:
    """A worker's first task: by the time it runs, the worker has imported the definitions."""


def _worker_pool(workers: int) -> ProcessPoolExecutor:
    """Spawned, not forked: a fork would copy this process's open connections. Every worker is started now."""
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
    for _ in range(workers):
        pool.submit(_started)
    return pool


def _materialize_in_parallel(pool: ProcessPoolExecutor, keys: list[str], names: list[str],
                             settings: Settings) -> None:
    """While one chunk's rows are in PostgreSQL's hands, another's are in ours."""
    futures = [pool.submit(_materialize_chunk, key, names, settings) for key in keys]
    for future in futures:
        future.result()  # the first failure is raised; the caller's shutdown cancels the chunks not yet started


def write_remessa(settings: Settings) -> dict[str, object]:
    """The remessa asset materialized in this process, as the daemon's write_remessa run would: its metadata."""
    settings.ensure_dirs()
    result = _materialize([remessa], None, dg.DagsterInstance.ephemeral(), _resources(settings))
    return _metadata_of(result, remessa)


def remind(settings: Settings, today: str = "") -> dict[str, object]:
    """The reminder_notices asset materialized in this process as if `today` (YYYY-MM-DD, "" for the real today)
    had come, as the daemon's scheduled run would: its metadata."""
    settings.ensure_dirs()
    config = {"day": today, "as_today": bool(today)}
    result = _materialize([reminder_notices], None, dg.DagsterInstance.ephemeral(), _resources(settings),
                          {"ops": {"reminder_notices": {"config": config}}})
    return _metadata_of(result, reminder_notices)


def import_retorno(path: Path, settings: Settings) -> tuple[stages.RetornoRegistration, dict[str, object] | None]:
    """A retorno registered by its sha256 and its asset materialized in this process; bytes imported before are
    not imported again (None: nothing was run)."""
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
    result = _materialize([retorno], registration.file_id, instance, _resources(settings))
    return registration, _metadata_of(result, retorno)


def _metadata_of(result: dg.ExecuteInProcessResult, asset: dg.AssetsDefinition) -> dict[str, object]:
    (materialization,) = result.asset_materializations_for_node(asset.op.name)
    return {key: value.value for key, value in materialization.metadata.items()}


def _materialize(selection: list, partition_key: str | None, instance: dg.DagsterInstance,
                 resources: dict, run_config: dict | None = None) -> dg.ExecuteInProcessResult:
    result = dg.materialize(
        ASSETS,
        selection=selection,
        partition_key=partition_key,
        instance=instance,
        resources=resources,
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
    it, after one last look. The steps run inside dagster.materialize, here or in worker processes, so the store
    is the one place that sees all of them."""
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
