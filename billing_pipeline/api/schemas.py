"""The JSON bodies of the API, with the examples /docs shows. Field names are the store's, in snake_case."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

_FILE_ID = "5f1e0c3a9b7d2e4f6a8c0b1d3e5f7a9c2b4d6e8f0a1c3e5b7d9f1a3c5e7b9d0f"


def _example(example: dict[str, Any]) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": [example]})


class ErrorBody(BaseModel):
    model_config = _example({"error": "not_found", "message": "no file with id '5f1e0c3a' in the store"})
    error: str = Field(description="A stable code: unauthorized, not_found, ambiguous_id, invalid_request, "
                       "empty_upload, upload_too_large, no_file_part, not_a_bucket, unavailable")
    message: str


class UploadAccepted(BaseModel):
    model_config = _example({"file_id": _FILE_ID, "status": "queued", "status_url": f"/files/{_FILE_ID}",
                             "size_bytes": 102188327, "original_name": "debts-december.csv", "new": True,
                             "already_received": None})
    file_id: str = Field(description="The sha256 of the bytes: the file's id everywhere (CLI, UI, reports)")
    status: str = Field(description="`queued` (in the inbox, waiting for the sensor) or the file's status in "
                        "the store: registered, split, processed, rejected")
    status_url: str
    size_bytes: int
    original_name: str | None = Field(description="The client's file name, kept as metadata only")
    new: bool = Field(description="False when these bytes were received before (HTTP 200 instead of 202)")
    already_received: str | None = Field(description="For known bytes: when and as what they were received")


class PresignRequest(BaseModel):
    model_config = _example({"name": "debts-december.csv"})
    name: str | None = Field(None, description="The file's name, kept as metadata only")


class PresignedUpload(BaseModel):
    model_config = _example({"method": "PUT", "url": "https://s3.example.com/billing/data/inbox/upload-0f3c...csv"
                             "?X-Amz-Algorithm=AWS4-HMAC-SHA256&...", "key": "s3://billing/data/inbox/"
                             "upload-0f3c9a1e5b7d4c2a8e6f0b1d3c5a7e9f.csv", "expires_in": 3600})
    method: str = "PUT"
    url: str = Field(description="PUT the file's bytes here; the object is taken by the inbox sensor once whole")
    key: str
    expires_in: int = Field(description="Seconds the URL stays valid")


class FileSummary(BaseModel):
    file_id: str
    original_name: str
    status: str
    received_via: str
    received_at: datetime | None
    received_again: int = Field(description="Arrivals of the same bytes after the first")
    last_received_at: datetime | None
    rows: int | None
    accepted: int | None
    rejected: int | None
    duplicates: int | None
    chunk_count: int | None
    error_code: str | None = Field(description="The reject code of a file refused whole")
    error_message: str | None
    notices: dict[str, int] = Field(description="Notices by state: pending, sent, failed, suppressed")
    status_url: str


class FilePage(BaseModel):
    model_config = _example({"files": [{"file_id": _FILE_ID, "original_name": "debts-december.csv",
                                        "status": "processed", "received_via": "inbox",
                                        "received_at": "2026-12-01T12:00:00+00:00", "received_again": 0,
                                        "last_received_at": "2026-12-01T12:00:00+00:00", "rows": 20000,
                                        "accepted": 19802, "rejected": 198, "duplicates": 0, "chunk_count": 1,
                                        "error_code": None, "error_message": None,
                                        "notices": {"pending": 0, "sent": 19802, "failed": 0, "suppressed": 0},
                                        "status_url": f"/files/{_FILE_ID}"}],
                             "next_cursor": None})
    files: list[FileSummary]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next (older) page; null on the last")


class Chunk(BaseModel):
    chunk_key: str
    chunk_no: int
    first_line: int
    last_line: int
    rows: int
    status: str = Field(description="pending, validated or loaded")
    accepted: int | None
    rejected: int | None
    duplicates: int | None


class Receipt(BaseModel):
    original_name: str
    received_via: str
    received_at: datetime


class FileDetail(FileSummary):
    model_config = _example({"file_id": _FILE_ID, "original_name": "debts-december.csv", "status": "processed",
                             "received_via": "inbox", "received_at": "2026-12-01T12:00:00+00:00",
                             "received_again": 0, "last_received_at": "2026-12-01T12:00:00+00:00", "rows": 20000,
                             "accepted": 19802, "rejected": 198, "duplicates": 0, "chunk_count": 1,
                             "error_code": None, "error_message": None,
                             "notices": {"pending": 0, "sent": 19802, "failed": 0, "suppressed": 0},
                             "status_url": f"/files/{_FILE_ID}",
                             "receipts": [{"original_name": "debts-december.csv", "received_via": "inbox",
                                           "received_at": "2026-12-01T12:00:00+00:00"}],
                             "chunks": [{"chunk_key": "5f1e0c3a9b7d-0001", "chunk_no": 1, "first_line": 2,
                                         "last_line": 20001, "rows": 20000, "status": "loaded",
                                         "accepted": 19802, "rejected": 198, "duplicates": 0}],
                             "reject_codes": {"invalid_email": 101, "invalid_government_id": 97},
                             "rejects_url": f"/files/{_FILE_ID}/rejects", "report_url": f"/files/{_FILE_ID}/report",
                             "report": {"file_id": _FILE_ID, "rows": 20000}})
    receipts: list[Receipt]
    chunks: list[Chunk]
    reject_codes: dict[str, int] = Field(description="Rejected lines by stable code")
    rejects_url: str | None = Field(description="The rejects CSV, once written")
    report_url: str | None = Field(description="The file report, once written")
    report: dict[str, Any] | None = Field(description="The file report (JSON), once the file is finished")


class QueuedFile(BaseModel):
    model_config = _example({"file_id": _FILE_ID, "status": "queued", "status_url": f"/files/{_FILE_ID}"})
    file_id: str
    status: str = Field(description="`queued`: in the inbox, not registered by the sensor yet")
    status_url: str


class Boleto(BaseModel):
    model_config = _example({"debt_id": "8f14e45f-ceea-467f-a0e6-1f3c5a7e9b2d", "bank": "341 Itaú",
                             "linha_digitavel": "34191.09008 00000.120006 00570.123459 1 99990000012345",
                             "barcode": "34191999900000123451090000000120000057012345",
                             "nosso_numero": "109/00000012-0", "due_date": "2026-12-20",
                             "original_due_date": "2026-12-20", "amount": "123.45", "payer": "Ana Souza",
                             "payer_document": "***.456.789-**", "status": "paid", "amount_paid": "123.45",
                             "paid_on": "2026-12-18", "pdf_url": "/debts/8f14e45f-ceea-467f-a0e6-"
                             "1f3c5a7e9b2d/boleto.pdf"})
    debt_id: str
    bank: str
    linha_digitavel: str
    barcode: str
    nosso_numero: str
    due_date: str
    original_due_date: str
    amount: str = Field(description="In reais, two decimals, as text")
    payer: str
    payer_document: str = Field(description="The payer's CPF/CNPJ, masked")
    status: str = Field(description="Where it stands with the bank: issued, registration_sent, registered, "
                        "registration_rejected, paid, written_off, protested, or overdue (open and past due)")
    amount_paid: str | None = Field(None, description="Paid boletos: the amount the bank credited as paid, in reais")
    paid_on: str | None = Field(None, description="Paid boletos: the payment date")
    baixa: str | None = Field(None, description="A cancelled boleto's baixa: requested, or the remessa that sent it")
    pdf_url: str


class Health(BaseModel):
    model_config = _example({"status": "ok", "store": "ok", "inbox": "ok", "problems": {}})
    status: str = Field(description="`ok`, or `unavailable` (HTTP 503)")
    store: str
    inbox: str
    problems: dict[str, str] = Field(description="What is down, in one sentence each")
