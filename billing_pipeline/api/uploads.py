"""POST /files (and /upload, the original's path): a file streamed into the inbox while it is hashed, never held
in memory; POST /files/presign: a presigned PUT straight into a bucket inbox, for files too large for the API."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Body, Query, Request, Response
from python_multipart.multipart import parse_options_header
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from billing_pipeline.settings import Settings
from billing_pipeline.stages import (
    PartialUpload,
    StorageUnavailable,
    UploadTooLarge,
    begin_upload,
    finish_upload,
    presign_upload,
)

from . import schemas
from .errors import ApiError
from .multipart import FilePartReader, MalformedMultipart, boundary_of

log = logging.getLogger(__name__)
router = APIRouter(tags=["files"])

# What arrives is gathered into blocks of BLOCK_BYTES, hashed and written by a thread of the upload's own while the
# event loop goes on receiving: the two share the machine's cores. At most MAX_PENDING_BLOCKS blocks wait for that
# thread, so an upload holds a few MiB however large it is.
MAX_PENDING_BLOCKS = 4
BLOCK_BYTES = 1 << 20  # fewer, larger hand-overs: each costs the two threads a GIL exchange
MULTIPART_FRAMING_BYTES = 64 << 10  # a multipart body's boundaries, part headers and small fields
# A refusal before the body is read to its end closes the connection: the rest is not read for nothing.
CLOSE = {"Connection": "close"}
RAW_TYPES = ("text/csv", "application/csv", "text/plain", "application/octet-stream", "")

_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": schemas.ErrorBody, "description": description} for status, description in {
        400: "An empty body, a malformed multipart body, or one with no `file` part",
        401: "No bearer token, or not one of BILLING_API_TOKENS",
        413: "Larger than BILLING_API_MAX_UPLOAD_BYTES: nothing of it is kept",
        415: "A body that is neither multipart/form-data nor CSV",
        503: "The inbox cannot be written (the bucket or folder is unavailable)",
    }.items()}
_UPLOAD_BODY = {"requestBody": {"required": True, "content": {
    "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "format": "binary", "description": "The CSV file"}}}},
    "text/csv": {"schema": {"type": "string", "format": "binary"},
                 "example": "name,governmentId,email,debtAmount,debtDueDate,debtId\n"
                            "Ana Souza,11144477735,ana@example.com,123.45,2026-12-20,"
                            "8f14e45f-ceea-467f-a0e6-1f3c5a7e9b2d\n"},
}}}


class _Receiver:
    """Blocks counted in here, then hashed by one thread and written by another, each in order, a bounded number
    at a time: receiving, hashing and writing a 105 MB file each take about as long, and overlap on two cores."""

    def __init__(self, upload: PartialUpload):
        self.upload = upload
        self._hasher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="upload-sha256")
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="upload-write")
        self._pending: deque[Future[None]] = deque()
        self._gathered: list[bytes | memoryview] = []
        self._gathered_bytes = 0

    def take(self, data: bytes | memoryview) -> None:
        self._gathered.append(data)
        self._gathered_bytes += len(data)
        if self._gathered_bytes >= BLOCK_BYTES:
            self._hand_on()

    def _hand_on(self) -> None:
        if self._gathered:  # the received blocks as they are, never copied into one buffer
            blocks, self._gathered, self._gathered_bytes = self._gathered, [], 0
            self.upload.admit(blocks)  # UploadTooLarge here: nothing more is read
            self._pending.append(self._hasher.submit(self.upload.digest, blocks))
            self._pending.append(self._writer.submit(self.upload.store, blocks))

    async def keep_up(self) -> None:
        """Waits while too many blocks are pending; raises what a thread raised at once."""
        while self._pending and (self._pending[0].done() or len(self._pending) > 2 * MAX_PENDING_BLOCKS):
            await asyncio.wrap_future(self._pending.popleft())

    async def written(self) -> None:
        """Every block taken is hashed and written."""
        self._hand_on()
        while self._pending:
            await asyncio.wrap_future(self._pending.popleft())

    async def settled(self) -> None:
        """Both threads idle and gone, whatever they raised: the upload may be published or discarded safely."""
        for pending in self._pending:
            pending.cancel()
        for executor in (self._hasher, self._writer):
            await asyncio.wrap_future(executor.submit(lambda: None))
            executor.shutdown(wait=False)
        self._pending.clear()


async def _receive(request: Request, receiver: _Receiver, reader: FilePartReader | None, most: int) -> None:
    """The body handed to the upload; past `most` bytes (the file's limit and a multipart body's framing) it is
    refused without reading further."""
    received = 0
    async for block in request.stream():
        received += len(block)
        if received > most:
            raise UploadTooLarge(f"the upload is larger than the limit of {receiver.upload.max_bytes:,} bytes "
                                 "(BILLING_API_MAX_UPLOAD_BYTES)")
        if reader is None:
            receiver.take(block)
        else:
            reader.feed(block)
        await receiver.keep_up()
    if reader is not None:
        reader.finish()
    await receiver.written()


def _declared_length(request: Request) -> int | None:
    raw = request.headers.get("content-length")
    return int(raw) if raw is not None and raw.isdigit() else None


async def _upload(request: Request, response: Response, name: str | None) -> schemas.UploadAccepted:
    settings: Settings = request.app.state.settings
    content_type = request.headers.get("content-type", "")
    try:
        boundary = boundary_of(content_type)
    except MalformedMultipart as error:
        raise ApiError(400, "invalid_request", str(error)) from None
    if boundary is None and content_type.split(";")[0].strip().lower() not in RAW_TYPES:
        raise ApiError(415, "unsupported_media_type", f"send the file as multipart/form-data (a `file` part) or as "
                       f"a text/csv body, not {content_type.split(';')[0]!r}", CLOSE)
    declared = _declared_length(request)
    most = settings.api_max_upload_bytes + (MULTIPART_FRAMING_BYTES if boundary is not None else 0)
    if declared is not None and declared > most:
        # Answered before the body is read: a client that sent `Expect: 100-continue` sends none of it.
        raise ApiError(413, "upload_too_large", f"the upload ({declared:,} bytes) is larger than the limit of "
                       f"{settings.api_max_upload_bytes:,} bytes (BILLING_API_MAX_UPLOAD_BYTES)", CLOSE)
    try:
        upload = await run_in_threadpool(begin_upload, settings)
    except StorageUnavailable as error:
        raise ApiError(503, "unavailable", str(error)) from None
    receiver = _Receiver(upload)
    reader = FilePartReader(boundary, receiver.take) if boundary is not None else None
    try:
        try:
            await _receive(request, receiver, reader, most)
        finally:
            with anyio.CancelScope(shield=True):  # a cancelled request (a shutdown) still leaves nothing behind
                await receiver.settled()
        if upload.size == 0:
            raise ApiError(400, "empty_upload", "the file is empty: nothing was received", CLOSE)
        outcome = await run_in_threadpool(
            finish_upload, request.app.state.engine, settings, upload,
            reader.file_name if reader is not None and reader.file_name else name or _disposition_name(request))
    except UploadTooLarge as error:
        await _discard(upload)  # and stop reading: whatever else the client sends is not kept
        log.info("upload refused: %s", error)
        raise ApiError(413, "upload_too_large", str(error), CLOSE) from None
    except MalformedMultipart as error:
        await _discard(upload)
        raise ApiError(400, "no_file_part" if "no part named" in str(error) else "invalid_request",
                       str(error), CLOSE) from None
    except StorageUnavailable as error:
        await _discard(upload)
        raise ApiError(503, "unavailable", str(error), CLOSE) from None
    except ClientDisconnect:
        await _discard(upload)
        log.info("upload interrupted after %d bytes: the client went away; nothing was kept", upload.size)
        raise
    except BaseException:  # a cancelled task, a full disk, a bug: nothing is kept
        await _discard(upload)
        raise
    log.info("upload of %s bytes %s", f"{outcome.size_bytes:,}", "published in the inbox" if outcome.new else
             f"not kept: {outcome.already_received}", extra={"file_id": outcome.file_id})
    status_url = request.app.url_path_for("file_detail", file_id=outcome.file_id)
    response.status_code = 202 if outcome.new else 200
    if outcome.new:
        response.headers["Location"] = str(status_url)
    return schemas.UploadAccepted(file_id=outcome.file_id, status=outcome.status, status_url=str(status_url),
                                  size_bytes=outcome.size_bytes, original_name=outcome.original_name,
                                  new=outcome.new, already_received=outcome.already_received)


async def _discard(upload: PartialUpload) -> None:
    with anyio.CancelScope(shield=True):
        await run_in_threadpool(upload.discard)


def _disposition_name(request: Request) -> str | None:
    _, options = parse_options_header(request.headers.get("content-disposition", ""))
    raw = options.get(b"filename")
    return raw.decode("utf-8", "replace") if raw else None


_NAME = Query(description="The file's name for a raw text/csv body (metadata only; a multipart part's own "
              "filename wins). `Content-Disposition: attachment; filename=...` works too.")
_UPLOAD_RESPONSES: dict[int | str, dict[str, Any]] = {
    202: {"description": "Accepted: the file is in the inbox; follow `status_url`"},
    200: {"model": schemas.UploadAccepted, "description": "These bytes were received before: their file"},
    **_ERRORS,
}


@router.post("/files", status_code=202, response_model=schemas.UploadAccepted, responses=_UPLOAD_RESPONSES,
             openapi_extra=_UPLOAD_BODY, summary="Upload a CSV file of debts")
async def upload_file(request: Request, response: Response,
                      name: Annotated[str | None, _NAME] = None) -> schemas.UploadAccepted:
    """Streams the file into the inbox as it arrives, hashing it on the way; the inbox sensor takes it from there.
    `curl -H "Authorization: Bearer $TOKEN" -F file=@debts.csv http://127.0.0.1:8000/files`"""
    try:
        return await _upload(request, response, name)
    except ClientDisconnect:
        raise ApiError(400, "upload_interrupted", "the connection closed before the whole file arrived; nothing "
                       "was kept") from None


@router.post("/upload", status_code=202, response_model=schemas.UploadAccepted, responses=_UPLOAD_RESPONSES,
             openapi_extra=_UPLOAD_BODY, summary="Upload a CSV file of debts (alias of POST /files)")
async def upload_alias(request: Request, response: Response,
                       name: Annotated[str | None, _NAME] = None) -> schemas.UploadAccepted:
    """The original system's path; the same as POST /files."""
    return await upload_file(request, response, name)


@router.post("/files/presign", response_model=schemas.PresignedUpload, summary="A presigned PUT into the bucket",
             responses={409: {"model": schemas.ErrorBody, "description": "The inbox is a folder, not a bucket"},
                        **_ERRORS})
def presign(request: Request, body: Annotated[schemas.PresignRequest | None, Body()] = None
            ) -> schemas.PresignedUpload:
    """For files too large to pass through the API: PUT the bytes to `url` (AWS Signature V4) before
    `expires_in` seconds pass. The object lands in the inbox bucket, where the sensor takes it once it is whole."""
    settings: Settings = request.app.state.settings
    try:
        presigned = presign_upload(settings, body.name if body else None)
    except ValueError as error:
        raise ApiError(409, "not_a_bucket", str(error)) from None
    except StorageUnavailable as error:
        raise ApiError(503, "unavailable", str(error)) from None
    return schemas.PresignedUpload(url=presigned.url, key=str(presigned.key), expires_in=presigned.expires_in)
