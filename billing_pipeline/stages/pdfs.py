"""PDFs: one document per boleto of a chunk, in the chunk's archive <BILLING_DATA_DIR>/boletos/<chunk_key>.zip."""

from __future__ import annotations

import builtins
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import Engine

from billing_pipeline.pdf.documents import archived_documents, render_pdfs, write_archive
from billing_pipeline.settings import Settings
from billing_pipeline.store.boletos import boleto_rows


@dataclass(frozen=True)
class PdfOutcome:
    archive: Path
    documents: int
    bytes: int
    seconds: float
    first_pdf: builtins.bytes | None  # builtins: the field above shadows the name inside the class
    created: bool = True


def pdf_stage(engine: Engine, settings: Settings, chunk_key: str, today: date | None = None) -> PdfOutcome:
    """An archive that already holds exactly the chunk's boletos is kept (boletos never change once issued);
    otherwise it is replaced whole."""
    rows = boleto_rows(engine, chunk_key=chunk_key)
    archive = settings.boleto_archive_path(chunk_key)
    started = time.perf_counter()
    existing = archived_documents(archive)
    if existing is not None and existing.names == {f"{boleto.debt_id}.pdf" for boleto in rows}:
        return PdfOutcome(archive, len(existing.names), existing.bytes, time.perf_counter() - started,
                          existing.first, created=False)
    first: list[bytes] = []

    def documents():
        for debt_id, pdf in render_pdfs(rows, settings.account, settings.is_demo_account, today or date.today()):
            if not first:
                first.append(pdf)
            yield debt_id, pdf

    count, size = write_archive(archive, documents())
    return PdfOutcome(archive, count, size, time.perf_counter() - started, first[0] if first else None)
