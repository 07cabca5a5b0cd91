"""Health: whether the two things every part of the pipeline needs, the store and the inbox, answer now."""

from __future__ import annotations

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from billing_pipeline.ingest.inbox import scan
from billing_pipeline.settings import Settings
from billing_pipeline.storage.errors import StorageUnavailable
from billing_pipeline.storage.location import is_bucket


def health_problems(engine: Engine, settings: Settings) -> dict[str, str | None]:
    """"store" and "inbox", each None when it answers, else one sentence saying what is wrong."""
    return {"store": _store_problem(engine), "inbox": _inbox_problem(settings)}


def _store_problem(engine: Engine) -> str | None:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        return f"the store does not answer: {type(error).__name__}: {str(error).splitlines()[0]}"
    return None


def _inbox_problem(settings: Settings) -> str | None:
    inbox = settings.inbox_dir
    try:
        scan(inbox)  # one listing of a bucket prefix, or of the folder
    except StorageUnavailable as error:
        return str(error)
    except OSError as error:
        return f"the inbox {inbox} cannot be read: {error}"
    if not is_bucket(inbox) and not inbox.is_dir():
        return f"the inbox folder {inbox} does not exist"
    return None
