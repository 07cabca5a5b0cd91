from __future__ import annotations

from billing_pipeline.rejects import RejectCode


class FileRejected(Exception):
    """The file as a whole cannot be processed; `code` is stable, `message` says what to fix."""

    def __init__(self, code: RejectCode, message: str, line_number: int | None = None):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.line_number = line_number
