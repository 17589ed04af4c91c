"""Redeploying one code location alone (issue 22, item 5), on the shared stack.

`make deploy LOCATION=platform` runs in a throwaway copy of the checkout that holds a code
change, while a file_sensor run of `orders_and_sales` is in flight. It must replace only
`platform-code`: the webserver, the daemon, the proxy and the other location's server keep
their containers, the run ends SUCCESS, and the UI shows the new code with no Reload (the
webserver notices the new server id and reloads the location itself). Then a deploy whose
code fails to import: the UI shows the error, the other location stays LOADED and its
sensor keeps ticking. Afterwards the checkout's own `platform` is deployed again.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from tooling.checkout import PLATFORM_DEFS, PROBE_ASSET, add_probe_asset, copy_checkout, probe_description
from .conftest import TIMINGS
from .test_orders_ingestion import orders_csv, upload
from .waits import (
    LOCATION,
    REPOSITORY,
    location_entry,
    runs_with_tag,
    tags_of,
    wait_for,
    wait_location_loaded,
    wait_run_success,
)
from tooling.stack import ROOT, Stack

pytestmark = pytest.mark.e2e

DEPLOYED = "platform"  # the location this module redeploys
SERVICE = "platform-code"
UNTOUCHED = ("webserver", "daemon", "proxy", "user-code")
# A run that outlasts the deploy: file_sensor's run of this many rows (600,000 took 12 s, a
# deploy of platform 18 s; the test fails, saying so, if the run ends before the replacement).
IN_FLIGHT_ROWS = 1_500_000
DEPLOY_TIMEOUT = 180  # command -> new code in the UI; the target is 60 s


def containers(stack: Stack, services: tuple[str, ...]) -> dict[str, tuple[str, str]]:
    """service -> (container id, start time) as Docker reports them."""
    out = {}
    for service in services:
        container = stack.container_id(service)
        assert container, f"service {service} has no container"
        info = json.loads(
            subprocess.run(["docker", "inspect", container], capture_output=True, text=True, check=True).stdout
        )[0]
        out[service] = (info["Id"], info["State"]["StartedAt"])
    return out


def docker_time(text: str) -> float:
    """Docker's RFC 3339 time (nanoseconds, Z) as a POSIX timestamp."""
    whole, _, fraction = text.rstrip("Z").partition(".")
    return dt.datetime.fromisoformat(whole).replace(tzinfo=dt.timezone.utc).timestamp() + float(f"0.{fraction or 0}")


def latest_tick(stack: Stack, sensor: str = "file_sensor", location: str = LOCATION) -> dict:
    data = stack.graphql(
        """query($s: SensorSelector!) { sensorOrError(sensorSelector: $s) { __typename
             ... on Sensor { sensorState { status ticks(limit: 1) { timestamp status error { message } } } } } }""",
        {"s": {"repositoryLocationName": location, "repositoryName": REPOSITORY, "sensorName": sensor}},
    )
    state = data["sensorOrError"]["sensorState"]
    assert state["status"] == "RUNNING" and state["ticks"], state
    return state["ticks"][0]


def in_flight_run(stack: Stack) -> dict:
    """A big orders file of its own, and file_sensor's run of it once it has STARTED."""
    wait_location_loaded(stack)
    year = random.Random().randrange(9000, 9999)  # the fault suite's years are 3000-8999
    key = f"incoming/orders/deploy-{uuid.uuid4().hex[:8]}.csv"
    body, _ = orders_csv(year * 100_000_000, IN_FLIGHT_ROWS, year)
    upload(stack, key, body)

    def started():
        runs = [
            r
            for r in runs_with_tag(stack, "dagster/sensor_name", "file_sensor", limit=50)
            if tags_of(r).get("orders/first_key") == key
        ]
        return next((r for r in runs if r["status"] == "STARTED"), f"runs for {key}: {[r['status'] for r in runs]}")

    return wait_for(f"a STARTED file_sensor run for {key}", started, timeout=120, interval=0.5)


@pytest.fixture(scope="module")
def copy(stack: Stack, tmp_path_factory):
    """The checkout's copy to change and deploy; afterwards the checkout's own `platform`
    is deployed again (same command), so later tests see the normal stack."""
    target = tmp_path_factory.mktemp("checkout")
    copy_checkout(target)
    try:
        yield target
    finally:
        try:
            stack.make("deploy", f"LOCATION={DEPLOYED}", cwd=ROOT)

            def restored():
                error = location_entry(stack, DEPLOYED)["locationOrLoadError"] or {}
                if error.get("__typename") != "RepositoryLocation":
                    return f"{error.get('__typename')}: {error.get('message', '')[:300]}"
                return probe_description(stack) is None or f"{PROBE_ASSET} is still there"

            wait_for(f"the checkout's own {DEPLOYED} location to be loaded again", restored, timeout=DEPLOY_TIMEOUT)
        finally:
            shutil.rmtree(target, ignore_errors=True)


def test_a_deploy_replaces_only_its_location_and_the_ui_shows_the_new_code(stack: Stack, copy: Path):
    token = uuid.uuid4().hex
    add_probe_asset(copy, f"deployed {token}")
    run = in_flight_run(stack)
    before = containers(stack, (*UNTOUCHED, SERVICE))

    started = time.monotonic()
    stack.make("deploy", f"LOCATION={DEPLOYED}", cwd=copy)
    returned = time.monotonic() - started

    def new_code():
        description = probe_description(stack)
        return description == f"deployed {token}" or f"{PROBE_ASSET}: {description!r}"

    wait_for("the new code of platform in the UI (no Reload)", new_code, timeout=DEPLOY_TIMEOUT, interval=0.5)
    visible = time.monotonic() - started
    TIMINGS.append(
        f"make deploy LOCATION={DEPLOYED}: command -> new code in the UI {visible:.1f}s (make returned after {returned:.1f}s)"
    )

    after = containers(stack, (*UNTOUCHED, SERVICE))
    assert {s: after[s] for s in UNTOUCHED} == {s: before[s] for s in UNTOUCHED}, "the deploy restarted other services"
    assert after[SERVICE][0] != before[SERVICE][0], f"{SERVICE} was not replaced"
    wait_run_success(stack, run["runId"])
    # In flight across the replacement: STARTED before the command, ended after the new
    # server started (Docker's and Dagster's clocks are the same kernel's).
    ended = stack.graphql(
        "query($id: ID!) { runOrError(runId: $id) { ... on Run { startTime endTime } } }", {"id": run["runId"]}
    )["runOrError"]
    replaced = docker_time(after[SERVICE][1])
    assert ended["endTime"] > replaced, (
        f"run {run['runId']} ended {replaced - ended['endTime']:.1f}s before {SERVICE} was replaced: "
        "it was not in flight during the deploy (raise IN_FLIGHT_ROWS)"
    )
    TIMINGS.append(
        f"in-flight run: {ended['endTime'] - ended['startTime']:.1f}s, ended {ended['endTime'] - replaced:.1f}s "
        f"after the new {SERVICE} started"
    )
    assert location_entry(stack)["loadStatus"] == "LOADED"


def test_a_deploy_that_fails_to_import_shows_its_error_and_the_others_keep_working(stack: Stack, copy: Path):
    token = uuid.uuid4().hex
    (copy / PLATFORM_DEFS / "broken.py").write_text(
        '"""Written by tests/e2e/test_deploy.py: a module that fails to import."""\n\n'
        f'raise RuntimeError("deliberately broken {token}")\n'
    )
    before = containers(stack, UNTOUCHED)
    stack.make("deploy", f"LOCATION={DEPLOYED}", cwd=copy)  # the image builds: it imports definitions.py only

    def failed():
        entry = location_entry(stack, DEPLOYED)
        error = entry["locationOrLoadError"] or {}
        text = " ".join([error.get("message", ""), *(c["message"] for c in error.get("causes") or [])])
        return entry if token in text else f"{entry['loadStatus']} {error.get('__typename')}: {text[:300]}"

    wait_for("the broken platform location to show its import error (no Reload)", failed, timeout=DEPLOY_TIMEOUT)
    last = latest_tick(stack)
    assert location_entry(stack)["loadStatus"] == "LOADED"
    assert (location_entry(stack)["locationOrLoadError"] or {}).get("__typename") == "RepositoryLocation"

    def ticked():
        tick = latest_tick(stack)
        return tick if tick["timestamp"] > last["timestamp"] and tick["status"] != "FAILURE" else f"{tick}"

    wait_for("file_sensor to tick after the breakage", ticked, timeout=60, interval=1)
    assert containers(stack, UNTOUCHED) == before, "a deploy of a broken platform restarted others"
