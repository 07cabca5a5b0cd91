"""What every `billing` command shares: the one-line error, the configured store, a debt id argument."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

from billing_pipeline.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy import Engine


class CommandError(Exception):
    """Printed as `error: ...` with exit status 2, never as a traceback."""


@contextlib.contextmanager
def configured_store(settings: Settings) -> Iterator[Engine]:
    """An engine on the configured store with its schema brought current."""
    from billing_pipeline.stages import open_store

    engine = open_store(settings)
    try:
        yield engine
    finally:
        engine.dispose()


def debt_id_argument(raw: str) -> str:
    from billing_pipeline.stages import debt_id_of

    try:
        return debt_id_of(raw)
    except ValueError as error:
        raise CommandError(str(error)) from None
