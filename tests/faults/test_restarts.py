"""Planned restarts keep the state: `docker compose down` + `up` (no -v) and
`docker compose restart` leave objects, run history, the file_sensor cursor and the
schedules' state as they were.
"""

from __future__ import annotations

import json

import time

import pytest

from tooling.stack import LOCATION, Stack
from e2e.waits import REPOSITORY, wait_for

from .harm import require
from .stack_state import back_up, busy_runs, objects, run_ids
from .recovery import Stopwatch, record

pytestmark = pytest.mark.faults

SELECTOR = {"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY}


def sensor_cursor(stack: Stack) -> str | None:
    data = stack.graphql(
        """query($s: SensorSelector!) { sensorOrError(sensorSelector: $s) { __typename
        ... on Sensor { sensorState { status typeSpecificData { ... on SensorData { lastCursor } } } } } }""",
        {"s": {**SELECTOR, "sensorName": "file_sensor"}},
    )
    return data["sensorOrError"]["sensorState"]["typeSpecificData"]["lastCursor"]


def schedules(stack: Stack) -> dict[str, str]:
    data = stack.graphql(
        """query($r: RepositorySelector!) { schedulesOrError(repositorySelector: $r) {
        ... on Schedules { results { name scheduleState { status } } } } }""",
        {"r": SELECTOR},
    )
    return {s["name"]: s["scheduleState"]["status"] for s in data["schedulesOrError"]["results"]}


def quiet_state(stack: Stack) -> dict:
    """The state once no run is in flight and the sensor cursor holds still for 10 s."""

    def probe():
        if busy_runs(stack):
            return "runs in flight"
        first = sensor_cursor(stack)
        time.sleep(10)
        return {"cursor": first} if sensor_cursor(stack) == first and not busy_runs(stack) else "cursor moving"

    wait_for("no run in flight and a still sensor cursor", probe, 180, 1)
    time.sleep(5)  # the moto stand-in snapshots writes within 3 s
    return {
        "cursor": sensor_cursor(stack),
        "schedules": schedules(stack),
        "runs": run_ids(stack),
        "objects": objects(stack),
    }


def compare(before: dict, after: dict, how: str) -> None:
    lost_runs, lost_objects = before["runs"] - after["runs"], before["objects"] - after["objects"]
    require(not lost_runs, f"{how}: {len(lost_runs)} runs lost, e.g. {sorted(lost_runs)[:3]}")
    require(not lost_objects, f"{how}: {len(lost_objects)} objects lost, e.g. {sorted(lost_objects)[:3]}")
    # The sweep position moves whenever a tick's listing budget cuts the sweep short; what must
    # survive is the sensor's memory of batches in flight and files to retry.
    durable = [
        {k: v for k, v in json.loads(c or "{}").items() if k != "position"} for c in (before["cursor"], after["cursor"])
    ]
    require(durable[0] == durable[1], f"{how}: file_sensor cursor {before['cursor']!r} -> {after['cursor']!r}")
    require(
        after["schedules"] == before["schedules"], f"{how}: schedules {before['schedules']} -> {after['schedules']}"
    )


def test_h_down_up_and_restart_keep_the_state(stack: Stack):
    back_up(stack)
    before = quiet_state(stack)
    clock = Stopwatch()
    stack.compose("down")
    stack.up()
    back_up(stack)
    down_up = clock()
    after = {
        "cursor": sensor_cursor(stack),
        "schedules": schedules(stack),
        "runs": run_ids(stack),
        "objects": objects(stack),
    }
    compare(before, after, "down + up")

    clock = Stopwatch()
    stack.compose("restart")
    back_up(stack)
    restart = clock()
    again = {
        "cursor": sensor_cursor(stack),
        "schedules": schedules(stack),
        "runs": run_ids(stack),
        "objects": objects(stack),
    }
    compare(before, again, "restart")
    record(
        "h_down_up",
        down_up,
        240,
        "docker compose down + up -> UI and location back, state intact",
        runs=len(after["runs"]),
        objects=len(after["objects"]),
    )
    record("h_restart", restart, 240, "docker compose restart -> UI and location back, state intact")
