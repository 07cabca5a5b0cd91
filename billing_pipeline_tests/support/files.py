"""Sample files of debts as the tests write them, and taken through the stages (the service layer, no Dagster).

    sample = write_sample_file(tmp_path / "debts.csv", rows=900, seed=41, invalid_rate=0.01)
    sample.file_id, sample.rejected                      # what the store must end with
    stored = store_sample(engine, settings, sample, through="boletos")
    stored.chunk_keys
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import Engine

from billing_pipeline import stages
from billing_pipeline.ingest.inbox import sha256_of, submit
from billing_pipeline.pipeline_steps import STEPS
from billing_pipeline.sample import InjectedError, write_sample
from billing_pipeline.settings import Settings


@dataclass(frozen=True)
class SampleFile:
    path: Path
    rows: int
    injected: list[InjectedError]
    file_id: str  # the sha256 of its bytes, as the inbox names it

    @property
    def rejected(self) -> int:
        """Rows with at least one deliberate error: a row with two counts once."""
        return len({error.line_number for error in self.injected})

    @property
    def accepted(self) -> int:
        return self.rows - self.rejected


def write_sample_file(path: Path, rows: int, seed: int, invalid_rate: float = 0.0) -> SampleFile:
    """billing_pipeline.sample's reproducible file of `rows` debts, `invalid_rate` of them with deliberate errors."""
    injected = write_sample(path, rows=rows, seed=seed, invalid_rate=invalid_rate)
    return SampleFile(path, rows, injected, sha256_of(path))


@dataclass(frozen=True)
class StoredSample:
    sample: SampleFile
    file_id: str
    chunk_keys: list[str]


def store_sample(engine: Engine, settings: Settings, sample: SampleFile, through: str = "debts",
                 today: date | None = None) -> StoredSample:
    """The file submitted to the inbox, registered and split (source_file), and then each chunk taken through the
    stages up to and including the asset `through`: one of pipeline_steps.STEPS before notifications. `today` is
    the boletos' and PDFs' issue date."""
    steps = STEPS[:STEPS.index("notifications")]
    if through not in steps:
        raise ValueError(f"through must be one of {', '.join(steps)}, got {through!r}")
    reached = steps[:steps.index(through) + 1]
    registration = stages.register_stage(engine, settings, submit(sample.path, settings.inbox_dir))
    keys = stages.split_stage(engine, settings, registration.file_id).chunk_keys
    for key in keys:
        if "validated_chunk" in reached:
            validation = stages.validate_stage(engine, settings, key)
        if "debts" in reached:
            stages.load_stage(engine, settings, key, validation.accepted)
        if "boletos" in reached:
            stages.boleto_stage(engine, settings, key, today=today)
        if "boleto_pdfs" in reached:
            stages.pdf_stage(engine, settings, key, today=today)
    return StoredSample(sample, registration.file_id, list(keys))
