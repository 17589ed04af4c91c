"""The code location loads, validates, and its asset graph is what we meant it to be.

The snapshot in snapshots/asset_graph.json catches accidental changes to asset keys,
dependencies, partitions, checks, freshness policies, jobs (and their executors), schedules and sensors. After a deliberate
change, rewrite it with ``UPDATE_SNAPSHOTS=1 pytest tests/unit/test_definitions.py``
and review the diff.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from dagster import DynamicPartitionsDefinition, TimeWindowPartitionsDefinition

from user_code.alerts.sensors import describe_policy

SNAPSHOT = Path(__file__).parent / "snapshots" / "asset_graph.json"


@pytest.fixture
def defs(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_DEPLOYMENT", "local")
    monkeypatch.setenv("LOCAL_DATA_DIR", str(tmp_path))
    for module in [m for m in sys.modules if m.startswith("user_code.definitions")]:
        del sys.modules[module]
    from user_code.definitions import defs

    return defs


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


def test_definitions_load_in_local_mode(defs):
    assert defs.resolve_all_asset_keys()
    assert {"object_store", "warehouse", "io_manager"} <= set(defs.resources)


def test_asset_graph_matches_snapshot(defs):
    current = graph_snapshot(defs)
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n")
    assert current == json.loads(SNAPSHOT.read_text()), (
        "The asset graph changed. If that was meant, run UPDATE_SNAPSHOTS=1 pytest "
        "tests/unit/test_definitions.py and commit the snapshot."
    )


def test_dagster_definitions_validate(tmp_path):
    env = {**os.environ, "DAGSTER_DEPLOYMENT": "local", "LOCAL_DATA_DIR": str(tmp_path), "DAGSTER_HOME": str(tmp_path)}
    (tmp_path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    result = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-m", "user_code.definitions"],
        capture_output=True,
        text=True,
        env=env,
        cwd=Path(__file__).parents[2],
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All code locations passed validation" in result.stdout + result.stderr
