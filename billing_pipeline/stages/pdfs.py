"""PDFs: one document per boleto of a chunk, in the chunk's archive <BILLING_DATA_DIR>/boletos/<chunk_key>.zip."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Engine

from billing_pipeline.pdf.documents import archived_documents, render_pdfs, write_archive
from billing_pipeline.pdf.preview import png_of_first_page
from billing_pipeline.progress_log import ProgressLog
from billing_pipeline.settings import Settings
from billing_pipeline.storage.location import AnyPath
from billing_pipeline.store.boletos import boleto_rows


@dataclass(frozen=True)
class PdfOutcome:
    archive: AnyPath
    documents: int
    pdf_bytes: int  # all its PDFs together
    seconds: float
    first_pdf: bytes | None
    created: bool = True

    def preview_png(self) -> bytes | None:
        """The top of the first boleto's page as a small PNG, for the UI; None for a chunk without boletos."""
        return png_of_first_page(self.first_pdf, scale=0.8, top_fraction=0.55) if self.first_pdf else None


def pdf_stage(engine: Engine, settings: Settings, chunk_key: str, today: date | None = None, *,
              progress: Callable[[str], None] | None = None) -> PdfOutcome:
    """An archive that already holds exactly the chunk's boletos is kept (boletos never change once issued);
    otherwise it is replaced whole, `progress` told how far it got every 10 s or 10% (progress_log)."""
    rows = boleto_rows(engine, chunk_key=chunk_key)
    archive = settings.boleto_archive_path(chunk_key)
    started = time.perf_counter()
    existing = archived_documents(archive)
    if existing is not None and existing.names == {f"{boleto.debt_id}.pdf" for boleto in rows}:
        return PdfOutcome(archive, len(existing.names), existing.pdf_bytes, time.perf_counter() - started,
                          existing.first, created=False)
    first: list[bytes] = []
    log = ProgressLog(f"PDFs of chunk {chunk_key}", len(rows), progress)

    def documents():
        for debt_id, pdf in render_pdfs(rows, settings.account, settings.is_demo_account, today or date.today(),
                                        settings.pix_receiver):
            if not first:
                first.append(pdf)
            log.advance()
            yield debt_id, pdf

    count, size = write_archive(archive, documents())
    log.done()
    return PdfOutcome(archive, count, size, time.perf_counter() - started, first[0] if first else None)
