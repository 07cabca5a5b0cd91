"""The store a command or a step works on: an engine on BILLING_DATABASE_URL with its schema brought current."""

from __future__ import annotations

from sqlalchemy import Engine

from billing_pipeline.settings import Settings
from billing_pipeline.store.engine import create_store_engine
from billing_pipeline.store.migrate import Migration, pending, upgrade


def open_store(settings: Settings) -> Engine:
    """An engine on the configured store, every pending migration applied (safe from many processes at once)."""
    engine = create_store_engine(settings.database_url)
    upgrade(engine)
    return engine


def connect_store(settings: Settings) -> Engine:
    """An engine that only reads the configured store (the API's), nothing asked of it yet: a server that must
    start while the store is down, and say so."""
    return create_store_engine(settings.database_url, readers_only=True)


def upgrade_store(settings: Settings) -> tuple[list[Migration], list[Migration]]:
    """(the migrations applied now, those still pending after): `billing db upgrade`."""
    engine = create_store_engine(settings.database_url)
    try:
        applied = upgrade(engine)
        return applied, pending(engine)
    finally:
        engine.dispose()
