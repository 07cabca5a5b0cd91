"""Concurrency pools: how many steps may touch each shared resource at once, across all runs and backfills.

Dagster keeps pool limits in the instance's storage (set from the UI's Concurrency page or with
`dagster instance concurrency set POOL N`); `billing pools` sets these defaults for the pools that have no limit
yet, so an operator's later change survives restarts. A pool with no limit falls back to dagster.yaml's
`concurrency.pools.default_limit`.
"""

from dataclasses import dataclass

from dagster import DagsterInstance


@dataclass(frozen=True)
class Pool:
    name: str
    default_limit: int
    guards: str


POOLS = (
    Pool("db", 2, "bulk writes to the store (split, validation rejects, COPY + INSERT, boleto numbering)"),
    Pool("pdf", 2, "PDF rendering, CPU-bound: one per core"),
    Pool("smtp", 2, "open SMTP connections (each also rate-limited by BILLING_SMTP_RATE)"),
)
DB, PDF, SMTP = (pool.name for pool in POOLS)


def current_limits(instance: DagsterInstance) -> dict[str, int | None]:
    """Each pool's explicitly set limit; None when unset or only taken from dagster.yaml's default_limit."""
    explicit = {p.name: p.limit for p in instance.event_log_storage.get_pool_limits() if not p.from_default}
    return {pool.name: explicit.get(pool.name) for pool in POOLS}


def apply_default_limits(instance: DagsterInstance, overrides: dict[str, int] | None = None) -> dict[str, int]:
    """Set each pool's limit: `overrides` always win; otherwise the default, only where no limit is set yet."""
    overrides = overrides or {}
    current = current_limits(instance)
    applied = {}
    for pool in POOLS:
        limit = overrides.get(pool.name)
        if limit is None and current[pool.name] is None:
            limit = pool.default_limit
        if limit is not None:
            instance.event_log_storage.set_concurrency_slots(pool.name, limit)
        applied[pool.name] = limit if limit is not None else current[pool.name]
    return applied
