"""Why a file cannot be read as CNAB 240 cobrança at all. Oddities a reader can live with are warnings instead."""

from __future__ import annotations

from enum import StrEnum


class CnabErrorCode(StrEnum):
    EMPTY = "EMPTY"  # no line at all
    NOT_CNAB240 = "NOT_CNAB240"  # the first line is not a CNAB 240 header arquivo
    NOT_COBRANCA = "NOT_COBRANCA"  # a lote of another service (pagamentos, extrato...)
    BAD_HEADER = "BAD_HEADER"  # header arquivo without a known file kind (143: 1 remessa, 2 retorno)
    BAD_RECORD = "BAD_RECORD"  # a line whose record type (pos 8) is none of 0, 1, 3, 5, 9
    BAD_SEGMENT = "BAD_SEGMENT"  # a detail line of a segment no cobrança file has
    TRUNCATED = "TRUNCATED"  # no trailer arquivo at the end: the file was cut
    BAD_LINE_LENGTH = "BAD_LINE_LENGTH"  # lines far from 240 characters: not this layout


class CnabError(Exception):
    """A CNAB file that cannot be read: a stable `code`, a sentence, and the 1-based line at fault (if one is)."""

    def __init__(self, code: CnabErrorCode, message: str, line_number: int | None = None) -> None:
        super().__init__(message if line_number is None else f"line {line_number}: {message}")
        self.code = code
        self.message = message
        self.line_number = line_number
