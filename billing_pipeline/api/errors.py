"""Every error the API returns is JSON, `{"error": code, "message": sentence}`, never a traceback."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

from billing_pipeline.stages import StorageUnavailable

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An answer other than success: its HTTP status, a stable code and one sentence."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": code, "message": message}, status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, error: ApiError) -> JSONResponse:
        return error_response(error.status, error.code, error.message, error.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        problems = "; ".join(f"{'.'.join(str(part) for part in problem['loc'])}: {problem['msg']}"
                             for problem in error.errors())
        return error_response(400, "invalid_request", problems or "the request is not valid")

    @app.exception_handler(SQLAlchemyError)
    async def _store_down(request: Request, error: SQLAlchemyError) -> JSONResponse:
        log.warning("%s %s: the store failed: %s", request.method, request.url.path, str(error).splitlines()[0])
        return error_response(503, "unavailable", "the store does not answer; try again shortly",
                              {"Retry-After": "10"})

    @app.exception_handler(StorageUnavailable)
    async def _storage_down(request: Request, error: StorageUnavailable) -> JSONResponse:
        log.warning("%s %s: %s", request.method, request.url.path, error)
        return error_response(503, "unavailable", str(error), {"Retry-After": "10"})

    @app.exception_handler(OSError)
    async def _disk_fault(request: Request, error: OSError) -> JSONResponse:
        log.error("%s %s: %s: %s", request.method, request.url.path, type(error).__name__, error)
        return error_response(503, "storage_error", "the server could not read or write its files (a full disk?); "
                              "its log has the details", {"Retry-After": "30"})

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> JSONResponse:
        log.error("%s %s failed", request.method, request.url.path, exc_info=error)
        return error_response(500, "internal_error", "an unexpected error; the server's log has the details")

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
        return error_response(error.status_code, code, str(error.detail), getattr(error, "headers", None))
