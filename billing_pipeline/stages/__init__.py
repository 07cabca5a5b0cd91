"""The service layer: every stage of the pipeline as a plain function over the store and the data folders, and
what the sensors, the runner and the CLI read of where files stand.

Dagster assets and sensors, the in-process runner (`billing process`), the CLI and the API call these and nothing
below them (import-linter checks it), so the same code runs under the daemon, in one process and in tests. Every
stage is idempotent: running it again replaces what it wrote, or finds it done.

    register -> split -> validate -> load -> boletos -> pdfs -> notify -> report

and, with the bank: remessa (entradas and baixas out) -> retorno (the bank's answers in), cancel on demand.
"""

from billing_pipeline.cnab.errors import CnabError
from billing_pipeline.stages.bank_inbox import look_for_retornos
from billing_pipeline.stages.boletos import BoletoVerification, boleto_stage, verify_boletos
from billing_pipeline.stages.cancel import BoletoNotCancellable, CancelOutcome, cancel_boleto
from billing_pipeline.stages.chunk import ChunkRun, ChunkStageFailed, run_chunk_stages
from billing_pipeline.stages.demo_bank import (
    DemoAnswer,
    SimulationRefused,
    answer_as_demo_bank,
    simulate_answer,
)
from billing_pipeline.stages.files import (
    FileIdError,
    FileSummary,
    FileView,
    WrittenFile,
    file_view,
    list_files,
    plain_data,
    resolve_file_id,
)
from billing_pipeline.stages.finish import finish_file, write_file_rejects
from billing_pipeline.stages.health import health_problems
from billing_pipeline.stages.load import load_stage, release_staged_frame
from billing_pipeline.stages.lookup import (
    BoletoEventView,
    boleto_events,
    boleto_pdf,
    boleto_summary,
    debt_id_of,
    file_collection,
    notice_counts,
)
from billing_pipeline.stages.notify import NotifyOutcome, notify_stage, step_retry_wait
from billing_pipeline.stages.observe import (
    REJECT_RATE_WINDOW_SECONDS,
    InboxBacklog,
    MetricsSnapshot,
    StoreFigures,
    metrics_snapshot,
)
from billing_pipeline.stages.pdfs import PdfOutcome, pdf_stage
from billing_pipeline.stages.progress import (
    ChunkNumbers,
    ChunkPlace,
    FileProgress,
    InboxLook,
    Receipt,
    Undelivered,
    chunk_numbers,
    chunk_place,
    file_boleto_count,
    file_chunks,
    file_progress,
    file_receipts_of,
    file_record,
    files_answered_by,
    files_of_chunks,
    finished_inbox_files,
    inbox_chunks_after,
    inbox_files_after,
    inbox_files_in_progress,
    is_finished,
    look_at_inbox,
    pdfs_written,
    retornos_processed_after,
    undelivered,
)
from billing_pipeline.stages.register import (
    Redrop,
    Registration,
    Submission,
    redrop_of,
    register_stage,
    submit_stage,
)
from billing_pipeline.stages.remessa import (
    RemessaOutcome,
    account_name,
    remessa_pending,
    remessa_queue_marker,
    remessa_stage,
    remessas_after,
)
from billing_pipeline.stages.remind import (
    FutureDay,
    NotAnEmail,
    RemindOutcome,
    clock_on,
    deliver_reminders,
    email_address,
    opt_in,
    opt_out,
    opted_out,
    refuse_future_day,
    remind_stage,
    reminder_counts,
    reminders_waiting,
    utc_now,
)
from billing_pipeline.stages.report import ReportOutcome, report_stage
from billing_pipeline.stages.retorno import (
    RetornoOutcome,
    RetornoRegistration,
    register_retorno,
    retorno_stage,
    retornos_to_import,
)
from billing_pipeline.stages.split import SplitOutcome, split_stage
from billing_pipeline.stages.store import connect_store, open_store, upgrade_store
from billing_pipeline.stages.upload import (
    QUEUED,
    PartialUpload,
    PresignedUpload,
    UploadOutcome,
    UploadTooLarge,
    begin_upload,
    finish_upload,
    presign_upload,
    queued_in_inbox,
    tidy_inbox,
)
from billing_pipeline.stages.validate import validate_stage
from billing_pipeline.storage.errors import StorageUnavailable
from billing_pipeline.storage.location import location
from billing_pipeline.storage.objects import open_stream as open_stored
from billing_pipeline.storage.objects import read_bytes as read_stored
from billing_pipeline.storage.staged_frames import read_staged_frame, write_staged_frame

__all__ = [
    "ChunkRun",
    "ChunkStageFailed",
    "run_chunk_stages",
    "QUEUED",
    "PartialUpload",
    "PresignedUpload",
    "UploadOutcome",
    "UploadTooLarge",
    "begin_upload",
    "finish_upload",
    "connect_store",
    "debt_id_of",
    "health_problems",
    "open_stored",
    "read_stored",
    "presign_upload",
    "queued_in_inbox",
    "tidy_inbox",
    "BoletoEventView",
    "BoletoNotCancellable",
    "BoletoVerification",
    "CancelOutcome",
    "CnabError",
    "DemoAnswer",
    "ChunkNumbers",
    "ChunkPlace",
    "FileIdError",
    "FileProgress",
    "FileSummary",
    "FileView",
    "InboxLook",
    "Receipt",
    "InboxBacklog",
    "MetricsSnapshot",
    "REJECT_RATE_WINDOW_SECONDS",
    "StoreFigures",
    "NotifyOutcome",
    "PdfOutcome",
    "Redrop",
    "Registration",
    "RemessaOutcome",
    "RetornoOutcome",
    "RetornoRegistration",
    "SimulationRefused",
    "StorageUnavailable",
    "Submission",
    "ReportOutcome",
    "SplitOutcome",
    "Undelivered",
    "WrittenFile",
    "account_name",
    "answer_as_demo_bank",
    "boleto_events",
    "boleto_pdf",
    "boleto_stage",
    "boleto_summary",
    "cancel_boleto",
    "chunk_numbers",
    "chunk_place",
    "inbox_chunks_after",
    "file_boleto_count",
    "file_chunks",
    "file_collection",
    "file_progress",
    "file_receipts_of",
    "file_view",
    "file_record",
    "files_answered_by",
    "files_of_chunks",
    "inbox_files_after",
    "inbox_files_in_progress",
    "finish_file",
    "finished_inbox_files",
    "is_finished",
    "list_files",
    "location",
    "load_stage",
    "look_at_inbox",
    "retornos_processed_after",
    "look_for_retornos",
    "notice_counts",
    "notify_stage",
    "FutureDay",
    "NotAnEmail",
    "opt_in",
    "opt_out",
    "opted_out",
    "reminder_counts",
    "RemindOutcome",
    "clock_on",
    "email_address",
    "utc_now",
    "deliver_reminders",
    "remind_stage",
    "refuse_future_day",
    "reminders_waiting",
    "metrics_snapshot",
    "open_store",
    "pdf_stage",
    "pdfs_written",
    "plain_data",
    "redrop_of",
    "read_staged_frame",
    "register_retorno",
    "register_stage",
    "release_staged_frame",
    "remessa_pending",
    "remessa_queue_marker",
    "remessa_stage",
    "remessas_after",
    "resolve_file_id",
    "report_stage",
    "retorno_stage",
    "retornos_to_import",
    "simulate_answer",
    "split_stage",
    "step_retry_wait",
    "submit_stage",
    "undelivered",
    "upgrade_store",
    "validate_stage",
    "verify_boletos",
    "write_file_rejects",
    "write_staged_frame",
]
