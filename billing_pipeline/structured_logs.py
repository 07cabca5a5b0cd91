"""Log lines for `BILLING_LOG_FORMAT`: `text` (the default) or `json`, one JSON object per line.

A JSON line has `timestamp` (ISO 8601, UTC), `level`, `logger` and `message`, then the context the record carries
(`run_id`, `job`, `step`, `event`, `file_id`, `chunk`, given with ``extra=`` or set by the Dagster bridge in
defs/loggers.py), any other ``extra=`` field, and a traceback as one `exc_info` string. CPF, CNPJ and e-mail
addresses in the message, the traceback and the extra strings are masked (`mask_personal_data`); JSON keeps each
line one line whatever the message holds.

Entrypoints call `configure_logging(settings.log_format)`; `billing api` gives uvicorn `uvicorn_log_config(...)`.
No Dagster here: the runs' logger (defs/loggers.py) reuses `JsonLineFormatter`.

>>> import logging
>>> record = logging.makeLogRecord({"name": "billing_pipeline.api", "levelname": "INFO", "created": 0,
...                                 "msg": "upload from %s", "args": ("ana@example.com",), "file_id": "ab" * 32})
>>> print(JsonLineFormatter().format(record))  # doctest: +NORMALIZE_WHITESPACE
{"timestamp": "1970-01-01T00:00:00.000Z", "level": "INFO", "logger": "billing_pipeline.api",
 "message": "upload from a***@example.com", "file_id": "abababababababababababababababababababababababababababababababab"}
"""

from __future__ import annotations

import copy
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

from billing_pipeline import government_id

LOG_FORMATS = ("text", "json")
# The context a line is about, first after the message when a record carries it.
CONTEXT_FIELDS = ("run_id", "job", "step", "event", "file_id", "chunk")
# `text`: what an entrypoint's own records look like (uvicorn keeps its own look, see uvicorn_log_config).
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Record attributes that are presentation, not data: uvicorn's coloured copy of its message.
_NOT_FIELDS = frozenset({"color_message"})

# --- masking ------------------------------------------------------------------------------------------------------
# An id is a token of its own: a digit or an ASCII letter next to it makes it a piece of something longer (a hex file
# id, a UUID, a barcode, a word); punctuation and spaces (a CSV row's commas, quotes, a sentence's full stop) do not.
_NOT_BEFORE = r"(?<![0-9A-Za-z])"
_NOT_AFTER = r"(?![0-9A-Za-z])"
_EMAIL = re.compile(r"(?<![\w.%+-])([\w%+-])[\w.%+-]*@((?:[\w-]+\.)+[A-Za-z]{2,})(?![\w-])")
_GOVERNMENT_ID = re.compile(
    # Kept whole, whatever its fields look like: a typed linha digitável (the dots optional). Its 2nd and 3rd fields
    # typed without the dot are 11 digits and its last field (due factor + amount) is 14, any of which may pass a
    # CPF / CNPJ check by chance. First, so that the regex consumes the linha before it looks inside it.
    r"(?P<linha>(?<![0-9])\d{5}\.?\d{5}\s+\d{5}\.?\d{6}\s+\d{5}\.?\d{6}\s+\d\s+\d{14}(?![0-9]))"
    # A CPF: 529.982.247-25, 529982247-25, 52998224725 (any of its separators may be left out).
    rf"|(?P<cpf>{_NOT_BEFORE}\d{{3}}\.?\d{{3}}\.?\d{{3}}-?\d{{2}}{_NOT_AFTER})"
    # A CNPJ, numeric or alphanumeric: 11.222.333/0001-81, 11222333/0001-81, 11222333000181, 12.ABC.345/01DE-35.
    rf"|(?P<cnpj>{_NOT_BEFORE}[0-9A-Za-z]{{2}}\.?[0-9A-Za-z]{{3}}\.?[0-9A-Za-z]{{3}}/?[0-9A-Za-z]{{4}}-?\d{{2}}"
    rf"{_NOT_AFTER})"
)
# Formatted as an id: written with the separator of its check digits (CPF), or of its branch or check digits (CNPJ).
_FORMATTED_CPF = re.compile(r"\d{9}-\d{2}")  # on the text without its dots
_FORMATTED_CNPJ = re.compile(r"\d{8}(?:/\d{4}-?|/?\d{4}-)\d{2}")  # idem
_TYPED_CNPJ = re.compile(r"[0-9A-Za-z]{2}\.[0-9A-Za-z]{3}\.[0-9A-Za-z]{3}/[0-9A-Za-z]{4}-\d{2}")


def mask_government_id(normalised: str) -> str:
    """A CPF as government_id.mask prints it; a CNPJ with its first two and its check digits hidden the same way.

    >>> mask_government_id("52998224725"), mask_government_id("11222333000181"), mask_government_id("12ABC34501DE35")
    ('***.982.247-**', '**.222.333/0001-**', '**.ABC.345/01DE-**')
    """
    if len(normalised) == 14:  # government_id.mask shows a CNPJ whole, as a boleto must; a log line need not
        return f"**.{normalised[2:5]}.{normalised[5:8]}/{normalised[8:12]}-**"
    return government_id.mask(normalised)


def _is_id(kind: str, text: str) -> bool:
    """Whether a token the regex took for a `kind` ("cpf" or "cnpj") is one, so is masked.

    Its check digits verify (government_id.kind): masked however it is written. That alone decides a bare run of
    digits, with or without dots, so that a phone number (11 digits) or a timestamp (14) stays as it is.
    They do not: masked all the same when it is formatted as an id (someone meant it as one, a mistyped one is still
    personal data): a CPF with its `-`, a numeric CNPJ with its `/` or `-`, an alphanumeric CNPJ typed in full.
    An alphanumeric CNPJ not typed in full is one only with its letters in capitals (as the Receita writes them):
    lower-case letters and digits are a hex token.
    """
    undotted = text.replace(".", "")
    has_letters = not undotted.replace("/", "").replace("-", "").isdigit()
    if has_letters and _TYPED_CNPJ.fullmatch(text):
        return True
    if has_letters and not undotted.replace("/", "").replace("-", "").isupper():
        return False
    if government_id.kind(government_id.normalise(text)) == kind:
        return True
    if kind == "cpf":
        return _FORMATTED_CPF.fullmatch(undotted) is not None
    return not has_letters and _FORMATTED_CNPJ.fullmatch(undotted) is not None


def _masked_id(match: re.Match[str]) -> str:
    text, kind = match.group(), match.lastgroup
    if kind == "linha" or kind is None or not _is_id(kind, text):
        return text
    return mask_government_id(government_id.normalise(text))


def mask_personal_data(text: str) -> str:
    """CPF / CNPJ and e-mail addresses masked; barcodes, linhas, file ids, UUIDs and amounts left as they are.

    A bare run of 11 or 14 digits is masked when its check digits verify (a CPF, a CNPJ), so a phone number or a
    timestamp is not; an id formatted as one (`529.982.247-25`, `529982247-25`, `11222333/0001-81`) is masked
    whether or not they verify. See `_is_id`.

    >>> mask_personal_data("debt for 529.982.247-25 (joao.silva@example.com.br), payer 11222333000181")
    'debt for ***.982.247-** (j***@example.com.br), payer **.222.333/0001-**'
    >>> mask_personal_data("Ana,123.45,52998224725,ana@example.com")
    'Ana,123.45,***.982.247-**,a***@example.com'
    >>> mask_personal_data("tel 11987654321 at 20261201123456, chunk 3f2a9c1b7d4e-0001, rate 0.12345678901")
    'tel 11987654321 at 20261201123456, chunk 3f2a9c1b7d4e-0001, rate 0.12345678901'
    """
    if not text:
        return text
    return _GOVERNMENT_ID.sub(_masked_id, _EMAIL.sub(lambda m: f"{m[1]}***@{m[2]}", text))


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return mask_personal_data(value)
    if isinstance(value, dict):
        return {key: _masked(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_masked(item) for item in value]
    return value


# --- the JSON line ------------------------------------------------------------------------------------------------
class JsonLineFormatter(JsonFormatter):
    """One JSON object per record: timestamp, level, logger, message, the context fields, other extras, exc_info;
    personal data masked. Non-ASCII text (Portuguese names) is written as it is."""

    def __init__(self) -> None:
        super().__init__(reserved_attrs=[*RESERVED_ATTRS, "taskName", *_NOT_FIELDS], json_ensure_ascii=False)

    def add_fields(self, log_data: dict[str, Any], record: logging.LogRecord,
                   message_dict: dict[str, Any]) -> None:
        log_data["timestamp"] = (datetime.fromtimestamp(record.created, tz=UTC)
                                 .isoformat(timespec="milliseconds").replace("+00:00", "Z"))
        log_data["level"] = record.levelname
        log_data["logger"] = record.name
        log_data["message"] = record.message  # format() sets it: the message with its arguments
        for field in CONTEXT_FIELDS:
            if getattr(record, field, None) is not None:
                log_data[field] = getattr(record, field)
        extras = {key: value for key, value in message_dict.items() if key not in ("exc_info", "stack_info")}
        for key, value in record.__dict__.items():
            if key not in self.reserved_attrs and key not in log_data and not key.startswith("_"):
                extras[key] = value
        log_data.update(extras)
        for key in ("exc_info", "stack_info"):  # each one string: JSON escapes its line breaks
            if message_dict.get(key):
                log_data[key] = message_dict[key]

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        return {key: _masked(value) for key, value in log_data.items()}


class StderrHandler(logging.StreamHandler):
    """Writes to the sys.stderr of the moment (a redirected stream, pytest's capture), as logging's last resort."""

    def __init__(self, level: int = logging.NOTSET) -> None:
        logging.Handler.__init__(self, level)

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:  # logging.StreamHandler.setStream: always the current sys.stderr
        pass


def formatter_for(log_format: str) -> logging.Formatter:
    """The formatter of `log_format`: JsonLineFormatter for json, TEXT_FORMAT for text."""
    if log_format not in LOG_FORMATS:
        raise ValueError(f"log format must be one of {', '.join(LOG_FORMATS)}, got {log_format!r}")
    return JsonLineFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)


class _EntrypointHandler(StderrHandler):
    """The root handler configure_logging installs, so that a second call replaces it rather than adding one."""


def configure_logging(log_format: str, level: int = logging.INFO) -> None:
    """The root logger writes `level` and above to stderr, as JSON lines or as TEXT_FORMAT; calling it again (with
    either format) replaces what an earlier call installed. A lower level set on the root beforehand is kept."""
    handler = _EntrypointHandler()
    handler.setFormatter(formatter_for(log_format))
    root = logging.getLogger()
    for installed in [h for h in root.handlers if isinstance(h, _EntrypointHandler)]:
        root.removeHandler(installed)
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > level:
        root.setLevel(level)


def uvicorn_log_config(log_format: str) -> dict[str, Any]:
    """A logging dictConfig for uvicorn's `log_config=`: uvicorn's own for text; for json, the lines of
    `uvicorn.error` (start, stop, errors) and `uvicorn.access` (one per request) as JSON lines on stderr.

    >>> uvicorn_log_config("json")["loggers"]["uvicorn.access"]
    {'handlers': ['json'], 'level': 'INFO', 'propagate': False}
    """
    formatter_for(log_format)  # validates it
    if log_format == "text":
        from uvicorn.config import LOGGING_CONFIG  # the API's dependency, imported only for the API

        return copy.deepcopy(LOGGING_CONFIG)
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": f"{__name__}.JsonLineFormatter"}},
        "handlers": {"json": {"()": f"{__name__}.StderrHandler", "formatter": "json"}},
        "loggers": {
            "uvicorn": {"handlers": ["json"], "level": "INFO", "propagate": False},
            "uvicorn.error": {"level": "INFO"},
            "uvicorn.access": {"handlers": ["json"], "level": "INFO", "propagate": False},
        },
    }
