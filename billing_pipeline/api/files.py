"""GET /files (a page of files, newest first), GET /files/{file_id} (one file in detail), and the two files the
pipeline writes for it: its rejects (CSV) and its report (JSON). A file id is the sha256 or a unique prefix of it."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import Engine

from billing_pipeline.settings import Settings
from billing_pipeline.stages import (
    QUEUED,
    FileIdError,
    FileSummary,
    FileView,
    StorageUnavailable,
    file_view,
    list_files,
    open_stored,
    plain_data,
    queued_in_inbox,
    read_stored,
)
from billing_pipeline.statuses import FileStatus

from . import schemas
from .errors import ApiError

router = APIRouter(tags=["files"])

FILE_ID = Path(description="The file's sha256, or a unique prefix of it (at least 4 hex digits)",
               examples=["5f1e0c3a"])
MAX_PAGE = 500
_CURSOR = re.compile(r"[0-9]{1,18}")  # a file's seq: a BIGINT
STREAM_BLOCK = 1 << 20
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": schemas.ErrorBody, "description": "No such file (or not written yet)"},
    400: {"model": schemas.ErrorBody, "description": "Not a file id"},
    409: {"model": schemas.ErrorBody, "description": "A prefix that matches more than one file"},
    401: {"model": schemas.ErrorBody, "description": "No valid bearer token"},
}


def _summary(request: Request, summary: FileSummary) -> dict[str, Any]:
    data = plain_data(summary)
    data["status_url"] = str(request.app.url_path_for("file_detail", file_id=summary.file_id))
    return data


@router.get("/files", response_model=schemas.FilePage, summary="The files received, newest first",
            responses={401: _NOT_FOUND[401], 400: {"model": schemas.ErrorBody}})
def files_page(
    request: Request,
    status: Annotated[FileStatus | None, Query(description="Only files in this status")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="Files per page")] = 50,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page")] = None,
) -> dict[str, Any]:
    before = _cursor(cursor)
    engine: Engine = request.app.state.engine
    found = list_files(engine, status, limit + 1, before_seq=before)
    page = found[:limit]
    return {"files": [_summary(request, summary) for summary in page],
            "next_cursor": str(page[-1].seq) if len(found) > limit else None}


def _cursor(raw: str | None) -> int | None:
    if raw is None:
        return None
    if not _CURSOR.fullmatch(raw):
        raise ApiError(400, "invalid_request", f"cursor: {raw!r} is not a cursor this API handed out")
    return int(raw)


def _view(request: Request, file_id: str) -> FileView:
    settings: Settings = request.app.state.settings
    try:
        return file_view(request.app.state.engine, settings, file_id)
    except FileIdError as error:
        status, code = {"malformed": (400, "invalid_request"), "ambiguous": (409, "ambiguous_id")}.get(
            error.reason, (404, "not_found"))
        raise ApiError(status, code, str(error)) from None


@router.get("/files/{file_id}", name="file_detail", summary="One file: status, counts, chunks, notices, report",
            response_model=schemas.FileDetail | schemas.QueuedFile, responses=_NOT_FOUND)
def file_detail(request: Request, file_id: Annotated[str, FILE_ID]) -> dict[str, Any]:
    """A file uploaded a moment ago and still waiting in the inbox for the sensor is `queued` (by its full id)."""
    settings: Settings = request.app.state.settings
    try:
        view = _view(request, file_id)
    except ApiError as error:
        wanted = file_id.strip().lower()
        if error.status == 404 and len(wanted) == 64 and _queued(settings, wanted):
            return {"file_id": wanted, "status": QUEUED,
                    "status_url": str(request.app.url_path_for("file_detail", file_id=wanted))}
        raise
    detail = view.detail
    data = _summary(request, detail.summary)
    data.update(
        receipts=plain_data(detail.receipts), chunks=plain_data(detail.chunks), reject_codes=detail.reject_codes,
        rejects_url=str(request.app.url_path_for("file_rejects", file_id=detail.summary.file_id))
        if view.rejects.written else None,
        report_url=str(request.app.url_path_for("file_report", file_id=detail.summary.file_id))
        if view.report.written else None,
        report=_report(view),
    )
    return data


def _queued(settings: Settings, file_id: str) -> bool:
    try:
        return queued_in_inbox(settings, file_id)
    except StorageUnavailable:
        return False


def _report(view: FileView) -> dict[str, Any] | None:
    if not view.report.written:
        return None
    try:
        report = json.loads(read_stored(view.report.path))
    except (FileNotFoundError, ValueError):
        return None
    return report if isinstance(report, dict) else None


def _stream(path: Any) -> Iterator[bytes]:
    with open_stored(path) as stream:
        while block := stream.read(STREAM_BLOCK):
            yield block


@router.get("/files/{file_id}/rejects", name="file_rejects", summary="The file's rejected rows (CSV)",
            response_class=StreamingResponse, responses={
                200: {"content": {"text/csv": {"example": "line_number,column,code,message,raw_line\n"
                                                          "7,email,invalid_email,not an e-mail address,...\n"}}},
                **_NOT_FOUND})
def file_rejects(request: Request, file_id: Annotated[str, FILE_ID]) -> StreamingResponse:
    """Every rejected row with its line number, column, stable code and message; written once the file is
    processed (or refused whole)."""
    view = _view(request, file_id)
    if not view.rejects.written:
        raise ApiError(404, "not_found", f"the rejects of file {view.detail.summary.file_id} are not written yet "
                       f"(status {view.detail.summary.status})")
    name = f"{view.detail.summary.file_id}-rejects.csv"
    return StreamingResponse(_stream(view.rejects.path), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/files/{file_id}/report", name="file_report", summary="The file's report (JSON)",
            responses={200: {"content": {"application/json": {}}}, **_NOT_FOUND})
def file_report(request: Request, file_id: Annotated[str, FILE_ID]) -> dict[str, Any]:
    """What became of every row: accepted, rejected by code, duplicates, boletos and notices; written once the
    file's work is over."""
    view = _view(request, file_id)
    report = _report(view)
    if report is None:
        raise ApiError(404, "not_found", f"the report of file {view.detail.summary.file_id} is not written yet "
                       f"(status {view.detail.summary.status})")
    return report
