"""A multipart/form-data body read as a stream: the bytes of its `file` part handed on block by block as they
arrive, never held whole in memory or spooled to a temporary file first (Starlette's `request.form()` does both).
Other parts are small form fields; they are ignored, and limited in size."""

from __future__ import annotations

from collections.abc import Callable

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, MultipartState, parse_options_header

FILE_FIELD = "file"
MAX_OTHER_PART_BYTES = 64 << 10


class MalformedMultipart(ValueError):
    """The body is not the multipart/form-data its Content-Type says, or has no `file` part."""


def boundary_of(content_type: str) -> bytes | None:
    """The boundary of a multipart/form-data Content-Type, or None when it is another type."""
    kind, options = parse_options_header(content_type)
    if kind != b"multipart/form-data":
        return None
    boundary = options.get(b"boundary")
    if not boundary:
        raise MalformedMultipart("a multipart/form-data body needs a boundary in its Content-Type")
    return boundary


class FilePartReader:
    """Feed it the body's blocks with `feed`; the `file` part's bytes go to `on_file_data`, its file name to
    `file_name`."""

    def __init__(self, boundary: bytes, on_file_data: Callable[[bytes | memoryview], None]):
        self._on_file_data = on_file_data
        self.file_name: str | None = None
        self.found_file = False
        self._in_file = False
        self._other_bytes = 0
        self._header_field = bytearray()
        self._header_value = bytearray()
        self._headers: dict[bytes, bytes] = {}
        self._parser = MultipartParser(boundary, {
            "on_part_begin": self._part_begin,
            "on_header_field": lambda data, start, end: self._header_field.extend(data[start:end]),
            "on_header_value": lambda data, start, end: self._header_value.extend(data[start:end]),
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
        })

    def feed(self, block: bytes) -> None:
        try:
            self._parser.write(block)
        except MultipartParseError as error:
            raise MalformedMultipart(f"the multipart body cannot be read: {error}") from None

    def finish(self) -> None:
        try:
            self._parser.finalize()
        except MultipartParseError as error:
            raise MalformedMultipart(f"the multipart body cannot be read: {error}") from None
        if not self.found_file:
            raise MalformedMultipart(f"the multipart body has no part named {FILE_FIELD!r} (curl -F "
                                     f"{FILE_FIELD}=@debts.csv)")
        if self._parser.state != MultipartState.END:  # cut off before its closing boundary: not the whole file
            raise MalformedMultipart("the multipart body ends before its closing boundary: the file may be cut "
                                     "short, so it was not kept")

    def _part_begin(self) -> None:
        self._headers.clear()
        self._in_file = False

    def _header_end(self) -> None:
        self._headers[bytes(self._header_field).lower()] = bytes(self._header_value)
        self._header_field.clear()
        self._header_value.clear()

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        if options.get(b"name", b"").decode("utf-8", "replace") == FILE_FIELD and not self.found_file:
            self._in_file = self.found_file = True
            raw = options.get(b"filename")
            self.file_name = raw.decode("utf-8", "replace") if raw else None

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._in_file:
            # A view of a received block (immutable bytes) is not copied; the parser's own buffer, which it reuses
            # around a boundary, is.
            self._on_file_data(memoryview(data)[start:end] if isinstance(data, bytes) else bytes(data[start:end]))
            return
        self._other_bytes += end - start
        if self._other_bytes > MAX_OTHER_PART_BYTES:
            raise MultipartParseError(f"form fields other than {FILE_FIELD!r} pass {MAX_OTHER_PART_BYTES} bytes")

    def _part_end(self) -> None:
        self._in_file = False
