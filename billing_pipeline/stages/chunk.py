"""One chunk through its stages in one call, up to a given step: what `billing process` runs per chunk.

Under the daemon each of these is its own asset (validated_chunk, debts, boletos, boleto_pdfs, notifications) with
its own retries and metadata; in one process the same stages run back to back, the validated rows handed over in
memory instead of staged on disk, and without the fixed cost of a Dagster run per chunk (~0.3-0.5 s each).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Protocol, TypeVar

import pandas as pd
from sqlalchemy import Engine

from billing_pipeline.pipeline_steps import STEPS
from billing_pipeline.settings import Settings
from billing_pipeline.stages.boletos import boleto_stage, verify_boletos
from billing_pipeline.stages.load import load_stage, release_staged_frame
from billing_pipeline.stages.notify import notify_stage, step_retry_wait
from billing_pipeline.stages.pdfs import pdf_stage
from billing_pipeline.stages.validate import validate_stage
from billing_pipeline.store.boletos import BoletoOutcome
from billing_pipeline.store.chunk_results import LoadOutcome

T = TypeVar("T")


class Step(Protocol):
    def __call__(self, name: str, stage: Callable[[], T], /) -> T: ...


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
                     sleep: Callable[[float], None] = time.sleep, step: Step | None = None) -> ChunkRun:
    """The chunk's stages from validation through `until` (one of pipeline_steps.STEPS after source_file). Each
    runs through `step(name, stage)` (the asset's name, a callable), which may retry it alone, as a step retry
    policy would, or name it in an error."""
    run = step or _directly
    last = STEPS.index(until)
    validation = run("validated_chunk", lambda: validate_stage(engine, settings, chunk_key))
    if last < STEPS.index("debts"):
        return ChunkRun(chunk_key)

    def load(accepted: pd.DataFrame) -> LoadOutcome:
        outcome = load_stage(engine, settings, chunk_key, accepted)
        release_staged_frame(engine, settings, chunk_key)
        return outcome

    loaded = run("debts", partial(load, validation.accepted))
    del validation  # the chunk's rows are in the store: the PDFs and notices read them there
    if last < STEPS.index("boletos"):
        return ChunkRun(chunk_key, accepted=loaded.accepted)

    def number() -> BoletoOutcome:
        created = boleto_stage(engine, settings, chunk_key)
        verified = verify_boletos(engine, chunk_key, created)
        if not (verified.numbers_verify and verified.one_boleto_per_debt):
            # Under the daemon two failed checks on the boletos asset; here nothing else would show it.
            raise ChunkStageFailed(
                f"chunk {chunk_key}: boletos: {verified.invalid} of {verified.checked} barcodes or linhas do not "
                f"verify (first: {', '.join(verified.invalid_debt_ids) or 'none'}); {verified.debts} debts and "
                f"{verified.boletos} boletos stored")
        return created

    created = run("boletos", number)
    if last < STEPS.index("boleto_pdfs"):
        return ChunkRun(chunk_key, accepted=loaded.accepted, boletos=created.total)
    pdfs = run("boleto_pdfs", lambda: pdf_stage(engine, settings, chunk_key))
    if last < STEPS.index("notifications"):
        return ChunkRun(chunk_key, accepted=loaded.accepted, boletos=created.total, pdfs=pdfs.documents)
    notified = run("notifications", lambda: _notify_with_retries(engine, settings, chunk_key, sleep))
    return ChunkRun(chunk_key, accepted=loaded.accepted, boletos=created.total, pdfs=pdfs.documents,
                    notified=notified)


def _directly(name: str, stage: Callable[[], T]) -> T:
    return stage()


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
