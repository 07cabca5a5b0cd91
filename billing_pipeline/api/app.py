"""The FastAPI application: its routes, the settings and store engine they share (`app.state`), JSON errors.

    uvicorn --factory billing_pipeline.api.app:create_app     # what `billing api` runs, with its own checks
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy.exc import SQLAlchemyError

from billing_pipeline.settings import Settings
from billing_pipeline.stages import StorageUnavailable, connect_store, open_store, tidy_inbox

from . import debts, files, health, metrics, public, uploads
from .auth import TokenGate
from .errors import install_error_handlers

log = logging.getLogger(__name__)

DESCRIPTION = """\
Hand CSV files of debts to Smart Billing and follow them: each file goes through the same pipeline as a file
dropped into the inbox (validation, the store, boletos, e-mails), run by the Dagster daemon.

Every route but `/health`, `/metrics` and `/boletos/{debt_id}.pdf` (the signed link an e-mail carries with
`BILLING_NOTICE_PDF=link`) needs `Authorization: Bearer <token>`, a token of `BILLING_API_TOKENS`.
A file is known by its sha256 (`file_id`); a unique prefix of at least 4 hex digits works too.
Errors are JSON: `{"error": "<stable code>", "message": "<one sentence>"}`.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            if removed := tidy_inbox(settings):
                log.info("removed %d upload part(s) left by an API process that stopped mid-upload", removed)
        except (OSError, StorageUnavailable) as error:
            log.warning("could not tidy the inbox %s: %s", settings.inbox_dir, error)
        yield
        metrics.close_metrics(app)
        app.state.engine.dispose()

    app = FastAPI(title="Smart Billing", version="1", description=DESCRIPTION, lifespan=lifespan)
    app.state.settings = settings
    app.state.engine = _engine(settings)
    install_error_handlers(app)
    app.add_middleware(TokenGate, settings=settings)
    public.hide_signatures_in_access_log()
    for module in (uploads, files, debts, public, health, metrics):
        app.include_router(module.router)
    return app


def _engine(settings: Settings):  # noqa: ANN202 (an Engine)
    """A reader of the store, its schema brought current first (as every `billing` command does); a store that
    does not answer yet still gives one, so that the API starts and /health says what is down."""
    try:
        open_store(settings).dispose()
    except SQLAlchemyError as error:
        log.warning("the store does not answer (%s); /health reports it until it does",
                    str(error).splitlines()[0])
    return connect_store(settings)
