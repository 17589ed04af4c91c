"""Each code location loads, and its asset graph is what we meant it to be.

The snapshots in snapshots/<location>.json catch accidental changes to asset keys,
dependencies, partitions, checks, freshness policies, jobs (and their executors), schedules and sensors. After a deliberate
change, rewrite it with ``UPDATE_SNAPSHOTS=1 pytest tests/unit/test_definitions.py``
and review the diff.
"""

import json
import os
from pathlib import Path

import pytest
from dagster import DynamicPartitionsDefinition, TimeWindowPartitionsDefinition

import orders_and_sales.definitions
import platform_ops.definitions
import scale.definitions
from orders_and_sales.defs.alerts.asset_alerts import describe_policy

SNAPSHOTS = Path(__file__).parent / "snapshots"
LOCATIONS = {
    "orders_and_sales": orders_and_sales.definitions.defs,
    "platform": platform_ops.definitions.defs,
    "scale": scale.definitions.defs,
}


@pytest.fixture(params=sorted(LOCATIONS))
def location(request, tmp_path, monkeypatch):
    """(name, Definitions) of a location as its code server loads it: settings are read
    when it loads, not at import."""
    monkeypatch.setenv("DAGSTER_DEPLOYMENT", "local")
    monkeypatch.setenv("LOCAL_DATA_DIR", str(tmp_path))
    return request.param, LOCATIONS[request.param]()


def describe_partitions(partitions_def) -> str | None:
    if partitions_def is None:
        return None
    if isinstance(partitions_def, DynamicPartitionsDefinition):
        return f"dynamic:{partitions_def.name}"
    if isinstance(partitions_def, TimeWindowPartitionsDefinition):
        return f"time:{partitions_def.cron_schedule}:{partitions_def.start.date().isoformat()}"
    return type(partitions_def).__name__


def graph_snapshot(defs) -> dict:
    graph = defs.resolve_asset_graph()
    assets = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        assets[key.to_user_string()] = {
            "deps": sorted(dep.to_user_string() for dep in node.parent_keys),
            "partitions": describe_partitions(node.partitions_def),
            "freshness": describe_policy(node.freshness_policy) if node.freshness_policy else None,
            "checks": sorted(
                f"{check.name}{' (blocking)' if graph.get_check_spec(check).blocking else ''}"
                for check in node.check_keys
            ),
        }
    repository = defs.get_repository_def()
    return {
        "assets": assets,
        "jobs": {job.name: job.executor_def.name for job in repository.get_all_jobs() if not job.name.startswith("__")},
        "schedules": {s.name: s.cron_schedule for s in repository.schedule_defs},
        "sensors": sorted(s.name for s in repository.sensor_defs),
    }


def test_definitions_load_in_local_mode(location):
    name, defs = location
    assert defs.get_repository_def().sensor_defs or defs.resolve_all_asset_keys(), f"{name} defines nothing"


def test_asset_graph_matches_snapshot(location):
    name, defs = location
    current, snapshot = graph_snapshot(defs), SNAPSHOTS / f"{name}.json"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        snapshot.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n")
    assert current == json.loads(snapshot.read_text()), (
        "The asset graph changed. If that was meant, run UPDATE_SNAPSHOTS=1 pytest "
        "tests/unit/test_definitions.py and commit the snapshot."
    )
