from __future__ import annotations

from sqlalchemy import inspect, text

from billing_pipeline.store.engine import create_store_engine, normalise_url
from billing_pipeline.store.migrate import migrations, pending, upgrade
from billing_pipeline.store.tables import metadata


def test_upgrade_is_recorded_and_idempotent(settings):
    engine = create_store_engine(settings.database_url)
    applied = upgrade(engine)
    assert [m.version for m in applied] == [m.version for m in migrations(engine.dialect.name)]
    assert upgrade(engine) == []
    assert pending(engine) == []
    with engine.connect() as connection:
        versions = connection.execute(text("SELECT version, name FROM schema_version ORDER BY version")).all()
    assert versions == [(m.version, m.name) for m in applied]
    engine.dispose()


def test_migrated_schema_matches_the_sqlalchemy_tables(engine):
    inspector = inspect(engine)
    for table in metadata.sorted_tables:
        assert {c["name"] for c in inspector.get_columns(table.name)} == {c.name for c in table.columns}, table.name
    debt_id = next(c for c in inspector.get_columns("debts") if c["name"] == "debt_id")
    if engine.dialect.name == "postgresql":
        assert str(debt_id["type"]) == "UUID"
        amount = next(c for c in inspector.get_columns("debts") if c["name"] == "amount")
        assert (amount["type"].precision, amount["type"].scale) == (12, 2)


def test_both_dialects_have_the_same_migrations():
    assert [(m.version, m.name) for m in migrations("sqlite")] == [
        (m.version, m.name) for m in migrations("postgresql")
    ]


def test_plain_postgresql_urls_mean_psycopg_3():
    assert normalise_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("sqlite:///x.db") == "sqlite:///x.db"
