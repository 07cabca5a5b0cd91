"""The service layer: every stage of the pipeline as a plain function over the store and the data folders.

Dagster assets, the in-process runner (`billing process`), the CLI and the API call these and nothing below them,
so the same code runs under the daemon, in one process and in tests. Every stage is idempotent: running it again
replaces what it wrote, or finds it done.

    register -> split -> validate -> load -> boletos -> pdfs -> notify -> report
"""

from billing_pipeline.stages.boletos import boleto_stage
from billing_pipeline.stages.finish import finish_file, write_file_rejects
from billing_pipeline.stages.load import load_stage
from billing_pipeline.stages.lookup import boleto_pdf, boleto_summary, notice_counts
from billing_pipeline.stages.notify import NotifyOutcome, notify_stage
from billing_pipeline.stages.pdfs import PdfOutcome, pdf_stage
from billing_pipeline.stages.register import Registration, register_stage
from billing_pipeline.stages.report import ReportOutcome, report_stage
from billing_pipeline.stages.split import SplitOutcome, split_stage
from billing_pipeline.stages.validate import validate_stage

__all__ = [
    "NotifyOutcome",
    "PdfOutcome",
    "Registration",
    "ReportOutcome",
    "SplitOutcome",
    "boleto_pdf",
    "boleto_stage",
    "boleto_summary",
    "finish_file",
    "load_stage",
    "notice_counts",
    "notify_stage",
    "pdf_stage",
    "register_stage",
    "report_stage",
    "split_stage",
    "validate_stage",
    "write_file_rejects",
]
