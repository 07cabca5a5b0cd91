"""Remessa: the file that registers the account's new boletos with its bank and asks it to write off the cancelled
ones, written to `<data>/remessas/<bank>-<account>-<NSA>.rem` and recorded with its NSA."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd
from sqlalchemy import Engine
from upath import UPath

from billing_pipeline.cnab.remessa import (
    first_lines,
    segments_per_title,
    title_lines,
    titles_per_file,
    titles_per_lote,
    write_remessa,
)
from billing_pipeline.settings import Settings
from billing_pipeline.storage.atomic import replaced_atomically
from billing_pipeline.storage.location import location
from billing_pipeline.store import remessas as store
from billing_pipeline.store.remessas import (
    RemessaPending,
    WrittenRemessa,
    make_remessa,
)
from billing_pipeline.store.remessas import account_name as account_name


@dataclass(frozen=True)
class RemessaFile:
    nsa: int
    path: UPath
    entradas: int
    baixas: int
    lines: int


@dataclass(frozen=True)
class RemessaOutcome:
    account_key: str
    path: UPath | None  # the (first) file; None: nothing was pending, no file was written and no NSA spent
    nsa: int | None = None  # its NSA
    entradas: int = 0  # these counts are over every file
    baixas: int = 0
    lines: int = 0
    missing_address: int = 0  # entradas sent without a complete payer address (the bank may reject them)
    # More titles than a CNAB file holds (cnab.remessa.titles_per_file: 450,000 of P + Q, 300,000 when a title has an
    # R) go out in several, NSA after NSA.
    files: tuple[RemessaFile, ...] = ()
    seconds: dict[str, float] = field(default_factory=dict)  # by phase: read, write, record, commit

    @property
    def titles(self) -> int:
        return self.entradas + self.baixas


def remessa_stage(engine: Engine, settings: Settings, *, now: datetime | None = None) -> RemessaOutcome:
    """Write a remessa of everything pending for the configured account, or nothing when nothing is."""
    account = settings.account
    generated_at = now or datetime.now()

    def write(nsa: int, file_name: str, titles: pd.DataFrame) -> tuple[str, int, np.ndarray]:
        target = settings.remessa_path(file_name)
        with replaced_atomically(target) as partial, partial.open("wb") as out:
            written = write_remessa(out, account, nsa, generated_at, titles)
        lines = title_lines(titles)
        p_lines = first_lines(lines, titles_per_lote(segments_per_title(titles)))
        if len(titles) and p_lines[-1] + lines[-1] + 1 != written.lines:
            raise RuntimeError(f"remessa {file_name}: {written.lines} lines, not the layout the events number")
        return str(target), int(written.lines), p_lines

    seconds: dict[str, float] = {}
    recorded = make_remessa(engine, account, write, lambda titles: titles_per_file(segments_per_title(titles)),
                            seconds)
    if not recorded:
        return RemessaOutcome(account.sequence_name, None, seconds=seconds)
    files = tuple(RemessaFile(part.nsa, location(part.path), part.entradas, part.baixas, part.lines)
                  for part in recorded)
    return RemessaOutcome(account.sequence_name, files[0].path, files[0].nsa, sum(f.entradas for f in files),
                          sum(f.baixas for f in files), sum(f.lines for f in files),
                          sum(part.missing_address for part in recorded), files, seconds)


def remessa_pending(engine: Engine, settings: Settings) -> RemessaPending:
    """What the configured account's next remessa would carry: entradas and baixas counted, and a marker that
    changes whenever that does."""
    return store.remessa_pending(engine, settings.account.sequence_name)


def remessas_after(engine: Engine, last_id: int = 0) -> list[WrittenRemessa]:
    """Remessas written since the one numbered `last_id` in the store (any account), oldest first."""
    return store.remessas_after(engine, last_id)


def p_line_numbers(entrada: np.ndarray, with_fine: np.ndarray | None = None) -> np.ndarray:
    """Each title's first line (its P segment) in the file cnab.remessa writes: a header arquivo, then lotes of
    titles, each a header lote, P + Q per entrada (+ R with a multa), P per baixa, and a trailer lote.

    >>> p_line_numbers(np.array([True, False, True])).tolist()
    [3, 5, 6]
    >>> p_line_numbers(np.array([True, False, True]), np.array([True, False, False])).tolist()
    [3, 6, 7]
    """
    entrada = np.asarray(entrada, dtype=bool)
    r = entrada & (np.asarray(with_fine, dtype=bool) if with_fine is not None else False)
    return first_lines(1 + entrada.astype(np.int64) + r, titles_per_lote(3 if r.any() else 2))


def remessa_queue_marker(engine: Engine, settings: Settings) -> str:
    """Changes whenever the configured account's remessa queue may have (`remessa_pending` counts it)."""
    return store.queue_marker(engine, settings.account.sequence_name)
