"""Where dagster.yaml named the pooled instance storage until 2026-12: instance files copied from then keep
loading. The class lives in billing_pipeline.instance.pooled_postgres_storage."""

from billing_pipeline.instance.pooled_postgres_storage import PooledPostgresStorage

__all__ = ["PooledPostgresStorage"]
