"""A snapshot of every definition the code location `billing_pipeline` holds, as dagster-open-platform keeps one:
asset keys with their groups, kinds, partitions, lineage, pools, retry policies and checks; jobs with their
selections and run priorities; sensors with their intervals, schedules, resources and the pools' default limits.

A change to any of them shows up here as a diff to review. When the change is meant, write the snapshot anew:

    UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest billing_pipeline_tests/test_definitions_snapshot.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import dagster as dg

from billing_pipeline.definitions import defs
from billing_pipeline.instance.pools import POOLS

SNAPSHOT = Path(__file__).with_name("snapshots") / "definitions.json"


def _retry_policy(definitions: dg.Definitions, key: dg.AssetKey) -> dict | None:
    policy = definitions.get_assets_def(key).op.retry_policy
    if policy is None:
        return None
    return {"max_retries": policy.max_retries, "delay": policy.delay, "backoff": getattr(policy.backoff, "value", None),
            "jitter": getattr(policy.jitter, "value", None)}


def definitions_snapshot(definitions: dg.Definitions) -> dict:
    repository = definitions.get_repository_def()
    graph = definitions.resolve_asset_graph()
    assets = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        assets[key.to_user_string()] = {
            "group": node.group_name,
            "kinds": sorted(node.kinds),
            "owners": sorted(node.owners),
            "partitions": getattr(node.partitions_def, "name", None),
            "deps": sorted(parent.to_user_string() for parent in node.parent_keys),
            "pools": sorted(node.pools or []),
            "checks": sorted(check.name for check in node.check_keys),
            "retry_policy": _retry_policy(definitions, key),
            "description": node.description,
        }
    jobs = {
        job.name: {
            "assets": sorted(k.to_user_string() for k in job.asset_layer.selected_asset_keys),
            "tags": dict(sorted(job.tags.items())),
            "description": job.description,
        }
        for job in sorted(repository.get_all_jobs(), key=lambda j: j.name)
        if not job.name.startswith("__")  # Dagster's implicit asset job
    }
    sensors = {
        sensor.name: {
            "jobs": sorted(job.name for job in sensor.jobs) if sensor.has_jobs else [],
            "default_status": sensor.default_status.value,
            "minimum_interval_seconds": sensor.minimum_interval_seconds,
            "description": sensor.description,
        }
        for sensor in sorted(definitions.sensors or [], key=lambda s: s.name)
    }
    return {
        "assets": assets,
        "jobs": jobs,
        "sensors": sensors,
        "schedules": sorted(schedule.name for schedule in definitions.schedules or []),
        "resources": sorted((definitions.resources or {}).keys()),
        "pools": {pool.name: pool.default_limit for pool in POOLS},
    }


def test_definitions_match_the_snapshot():
    current = definitions_snapshot(defs)
    if os.environ.get("UPDATE_SNAPSHOTS"):
        SNAPSHOT.write_text(json.dumps(current, indent=1, sort_keys=True, ensure_ascii=False) + "\n",
                            encoding="utf-8")
    assert current == json.loads(SNAPSHOT.read_text(encoding="utf-8"))


def test_every_pool_an_asset_names_is_one_billing_pools_sets():
    named = {pool for asset in definitions_snapshot(defs)["assets"].values() for pool in asset["pools"]}
    assert named == {pool.name for pool in POOLS}
