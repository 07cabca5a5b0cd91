"""The service layer: every stage of the pipeline as a plain function over the store and the data folders, and
what the sensors, the runner and the CLI read of where files stand.

Dagster assets and sensors, the in-process runner (`billing process`), the CLI and the API call these and nothing
below them (import-linter checks it), so the same code runs under the daemon, in one process and in tests. Every
stage is idempotent: running it again replaces what it wrote, or finds it done.

    register -> split -> validate -> load -> boletos -> pdfs -> notify -> report
"""

from billing_pipeline.stages.boletos import BoletoVerification, boleto_stage, verify_boletos
from billing_pipeline.stages.finish import finish_file, write_file_rejects
from billing_pipeline.stages.load import load_stage
from billing_pipeline.stages.lookup import boleto_pdf, boleto_summary, notice_counts
from billing_pipeline.stages.notify import NotifyOutcome, notify_stage, step_retry_wait
from billing_pipeline.stages.pdfs import PdfOutcome, pdf_stage
from billing_pipeline.stages.progress import (
    ChunkNumbers,
    InboxLook,
    Undelivered,
    chunk_numbers,
    chunks_after,
    file_boleto_count,
    file_chunks,
    file_record,
    files_after,
    finished_files,
    look_at_inbox,
    pdfs_written,
    submit_file,
    undelivered,
)
from billing_pipeline.stages.register import Registration, register_stage
from billing_pipeline.stages.report import ReportOutcome, report_stage
from billing_pipeline.stages.split import SplitOutcome, split_stage
from billing_pipeline.stages.store import open_store, upgrade_store
from billing_pipeline.stages.validate import validate_stage

__all__ = [
    "BoletoVerification",
    "ChunkNumbers",
    "InboxLook",
    "NotifyOutcome",
    "PdfOutcome",
    "Registration",
    "ReportOutcome",
    "SplitOutcome",
    "Undelivered",
    "boleto_pdf",
    "boleto_stage",
    "boleto_summary",
    "chunk_numbers",
    "chunks_after",
    "file_boleto_count",
    "file_chunks",
    "file_record",
    "files_after",
    "finish_file",
    "finished_files",
    "load_stage",
    "look_at_inbox",
    "notice_counts",
    "notify_stage",
    "open_store",
    "pdf_stage",
    "pdfs_written",
    "register_stage",
    "report_stage",
    "split_stage",
    "step_retry_wait",
    "submit_file",
    "undelivered",
    "upgrade_store",
    "validate_stage",
    "verify_boletos",
    "write_file_rejects",
]
