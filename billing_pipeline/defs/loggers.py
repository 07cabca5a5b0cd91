"""The runs' console logger for `BILLING_LOG_FORMAT=json`: every line of a run (`context.log`, Dagster's events, and
the `billing_pipeline.*` Python loggers that the instance's `python_logs.managed_python_loggers` hands to the run)
as one JSON object on stderr, written by structured_logs.JsonLineFormatter, so masked as the API's lines are.

Dagster puts the context of a line in the record's `dagster_meta` (run id, job, step key, run tags, the event);
`_RunContext` turns it into the formatter's fields: `run_id`, `job`, `step`, `event`, and `file_id` / `chunk` from
the run's `billing/file_id` and `billing/chunk` tags (defs/run_tags.py) or else from its partition key: a 64-hex
sha256 is a file, `<12 hex>-<4 digits>` a chunk (defs/partitions.py). The message is the one logged, without the
`job - run_id - step -` prefix the text console puts before it.

Why both halves of `run_loggers`: `Definitions(loggers=...)` only makes the logger the one a run config's
`loggers: console:` section configures; a run whose config has no `loggers` section (a sensor's, the UI's
Materialize, a backfill: all of ours) gets `dagster.default_system_loggers` instead, Dagster's coloured console
(context_creation_job.create_log_manager; the Dagster docs: "not currently possible to globally configure the
logger for all jobs"). So for json the JSON logger is also made the default of this process, where Dagster looks
it up: `default_system_loggers` in the modules that call it. Dagster's functions are kept, and text puts them back:
a process that loads the definitions with json and then with text (a test session, a reload) is on Dagster's
coloured console again.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import dagster as dg
from dagster._core.execution import context_creation_job, host_mode

from billing_pipeline.defs.run_tags import CHUNK_TAG, FILE_ID_TAG
from billing_pipeline.settings import Settings
from billing_pipeline.structured_logs import JsonLineFormatter, StderrHandler

CONSOLE = "console"  # the key of Dagster's own console logger: run configs written for it keep working
_PARTITION_TAG = "dagster/partition"
_FILE_ID = re.compile(r"[0-9a-f]{64}")
_CHUNK_KEY = re.compile(r"[0-9a-f]{12}-[0-9]{4}")
# What Dagster's log handler leaves on a record (dagster._core.log_manager): its context, and the event again.
_DAGSTER_ATTRS = ("dagster_meta", "dagster_event", "dagster_event_batch_metadata")


def partition_context(partition_key: str | None) -> dict[str, str]:
    """`file_id` or `chunk` for a partition key of ours, nothing for another.

    >>> partition_context("ab" * 32) == {"file_id": "ab" * 32}, partition_context("3f2a9c1b7d4e-0001")
    (True, {'chunk': '3f2a9c1b7d4e-0001'})
    >>> partition_context("2026-05-01"), partition_context(None)
    ({}, {})
    """
    if partition_key and _FILE_ID.fullmatch(partition_key):
        return {"file_id": partition_key}
    if partition_key and _CHUNK_KEY.fullmatch(partition_key):
        return {"chunk": partition_key}
    return {}


def _error_text(event: Any) -> str | None:
    """The error a failure event carries (as the text console appends it to the message), else None."""
    data = getattr(event, "event_specific_data", None)
    error = getattr(data, "error", None)
    if error is None:
        return None
    return getattr(data, "error_display_string", None) or error.to_string()


class _RunContext(logging.Filter):
    """Turns Dagster's `dagster_meta` into JsonLineFormatter's fields; a field given with `extra=` is kept."""

    def filter(self, record: logging.LogRecord) -> bool:
        meta: Mapping[str, Any] | None = getattr(record, "dagster_meta", None)
        for attr in _DAGSTER_ATTRS:
            record.__dict__.pop(attr, None)
        if not meta:
            return True
        record.msg, record.args = meta.get("orig_message", record.getMessage()), ()
        tags = meta.get("job_tags") or {}
        context = {
            "run_id": meta.get("run_id"),
            "job": meta.get("job_name"),
            "step": meta.get("step_key"),
            **partition_context(tags.get(_PARTITION_TAG)),
            **{field: tags[tag] for field, tag in (("file_id", FILE_ID_TAG), ("chunk", CHUNK_TAG)) if tags.get(tag)},
        }
        if (event := meta.get("dagster_event")) is not None:
            context["event"] = event.event_type.name  # RUN_START, as the text console names it
            if not record.exc_info and (error := _error_text(event)):
                record.exc_text = error
        for field, value in context.items():
            if value is not None and getattr(record, field, None) is None:
                setattr(record, field, value)
        return True


@dg.logger(
    {
        "log_level": dg.Field(str, is_required=False, default_value="INFO", description="The logger's threshold."),
        "name": dg.Field(str, is_required=False, default_value="dagster", description="The `logger` of its lines."),
    },
    description="One JSON object per line on stderr (BILLING_LOG_FORMAT=json): timestamp, level, logger, message, "
    "run_id, job, step, event, file_id / chunk; CPF, CNPJ and e-mail addresses masked.",
)
def json_lines_logger(init_context: dg.InitLoggerContext) -> logging.Logger:
    config = init_context.logger_config
    logger = logging.Logger(config["name"], level=config["log_level"].upper())
    handler = StderrHandler()
    handler.addFilter(_RunContext())
    handler.setFormatter(JsonLineFormatter())
    logger.addHandler(handler)
    return logger


def _json_system_loggers(instance: dg.DagsterInstance | None) -> Sequence[tuple[dg.LoggerDefinition, dict]]:
    """dagster.default_system_loggers with the JSON logger in place of the coloured one, at the same level."""
    level = instance.python_log_level if instance is not None and instance.python_log_level else "DEBUG"
    return [(json_lines_logger, {"name": "dagster", "log_level": level})]


# Every module of Dagster 1.13 that calls default_system_loggers, which it imported by name.
_SYSTEM_LOGGER_CALLERS = (context_creation_job, host_mode)
# Dagster's default_system_loggers of each of those modules, kept while the JSON one stands in for it.
_dagsters_system_loggers: dict[str, Callable[..., Any]] = {}


def _is_ours(function: object) -> bool:
    """_json_system_loggers, also as an earlier import of this module defined it (importlib.reload)."""
    return (getattr(function, "__module__", None) == __name__
            and getattr(function, "__qualname__", None) == _json_system_loggers.__qualname__)


def _use_json_system_loggers() -> None:
    for module in _SYSTEM_LOGGER_CALLERS:
        current = getattr(module, "default_system_loggers", None)
        if not callable(current):
            raise RuntimeError(f"{module.__name__} no longer looks up default_system_loggers: see {__name__}")
        if not _is_ours(current):
            _dagsters_system_loggers[module.__name__] = current
        module.default_system_loggers = _json_system_loggers  # type: ignore[attr-defined]


def _restore_dagsters_system_loggers() -> None:
    """Dagster's functions back where _use_json_system_loggers replaced them; one replaced since is left alone."""
    for module in _SYSTEM_LOGGER_CALLERS:
        original = _dagsters_system_loggers.pop(module.__name__, None)
        if original is not None and _is_ours(getattr(module, "default_system_loggers", None)):
            module.default_system_loggers = original  # type: ignore[attr-defined]


def run_loggers(settings: Settings | None = None) -> dict[str, dg.LoggerDefinition] | None:
    """The Definitions' loggers for `settings` (the BILLING_* environment when None): None for text, Dagster's own,
    whose default for runs without logger config is put back if a json call replaced it; for json
    `{"console": json_lines_logger}`, made the default of runs without logger config as well."""
    settings = settings or Settings.from_env()
    if settings.log_format != "json":
        _restore_dagsters_system_loggers()
        return None
    _use_json_system_loggers()
    return {CONSOLE: json_lines_logger}
