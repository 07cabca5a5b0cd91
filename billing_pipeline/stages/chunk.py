"""One chunk through its stages in one call, up to a given step: what `billing process` runs per chunk.

Under the daemon each of these is its own asset (validated_chunk, debts, boletos, boleto_pdfs, notifications) with
its own retries and metadata; in one process the same stages run back to back, the validated rows handed over in
memory instead of staged on disk, and without the fixed cost of a Dagster run per chunk (~0.3-0.5 s each).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine

from billing_pipeline.pipeline_steps import STEPS
from billing_pipeline.settings import Settings
from billing_pipeline.stages.boletos import boleto_stage, verify_boletos
from billing_pipeline.stages.load import load_stage, release_staged_frame
from billing_pipeline.stages.notify import notify_stage, step_retry_wait
from billing_pipeline.stages.pdfs import pdf_stage
from billing_pipeline.stages.validate import validate_stage


class ChunkStageFailed(Exception):
    """A chunk's stage ended without its result: the message names the chunk, the step and why."""


@dataclass(frozen=True)
class ChunkRun:
    chunk_key: str
    accepted: int | None = None
    boletos: int | None = None
    pdfs: int | None = None
    notified: int | None = None


def run_chunk_stages(engine: Engine, settings: Settings, chunk_key: str, until: str,
                     sleep: Callable[[float], None] = time.sleep) -> ChunkRun:
    """The chunk's stages from validation through `until` (one of pipeline_steps.STEPS after source_file)."""
    last = STEPS.index(until)
    validation = validate_stage(engine, settings, chunk_key)
    if last < STEPS.index("debts"):
        return ChunkRun(chunk_key)
    loaded = load_stage(engine, settings, chunk_key, validation.accepted)
    release_staged_frame(engine, settings, chunk_key)
    del validation
    if last < STEPS.index("boletos"):
        return ChunkRun(chunk_key, accepted=loaded.accepted)
    created = boleto_stage(engine, settings, chunk_key)
    verified = verify_boletos(engine, chunk_key, created)
    if not (verified.numbers_verify and verified.one_boleto_per_debt):
        raise ChunkStageFailed(
            f"chunk {chunk_key}: boletos: {verified.invalid} of {verified.checked} barcodes or linhas do not verify "
            f"(first: {', '.join(verified.invalid_debt_ids) or 'none'}); {verified.debts} debts and "
            f"{verified.boletos} boletos stored")
    if last < STEPS.index("boleto_pdfs"):
        return ChunkRun(chunk_key, accepted=loaded.accepted, boletos=created.total)
    pdfs = pdf_stage(engine, settings, chunk_key)
    if last < STEPS.index("notifications"):
        return ChunkRun(chunk_key, accepted=loaded.accepted, boletos=created.total, pdfs=pdfs.documents)
    notified = _notify_with_retries(engine, settings, chunk_key, sleep)
    return ChunkRun(chunk_key, accepted=loaded.accepted, boletos=created.total, pdfs=pdfs.documents,
                    notified=notified)


def _notify_with_retries(engine: Engine, settings: Settings, chunk_key: str, sleep: Callable[[float], None]) -> int:
    """The notifications asset's step retries, in place: the mail server gets BILLING_SMTP_STEP_RETRIES more
    chances, at the same growing waits, before the chunk is reported as waiting on it."""
    sent = 0
    for retry in range(settings.smtp_step_retries + 1):
        if retry:
            sleep(step_retry_wait(retry, settings))
        outcome = notify_stage(engine, settings, chunk_key=chunk_key, sleep=sleep)
        sent += outcome.sent
        if not outcome.still_pending:
            return sent
    raise ChunkStageFailed(
        f"chunk {chunk_key}: notifications: {outcome.still_pending} notices wait on the mail server (last answer: "
        f"{outcome.last_error or 'none'}) after {settings.smtp_step_retries} retries; nothing is lost: "
        "`billing notify` sends them (`billing outbox` counts them)")
