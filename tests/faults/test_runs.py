"""Faults during a run: its container killed, Postgres restarted, the code server restarted.

Each test hits a run that file_sensor started for a file of its own, then checks the
run (or its retry) succeeds, the file's totals are exact, and how long recovery took.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request

import pytest

from tooling.stack import Stack
from e2e.waits import wait_for, wait_location_loaded, wait_run_success

from .harm import Files, docker, require, run_containers, run_or_retry_succeeded, staging_objects, state
from .recovery import Stopwatch, record

pytestmark = pytest.mark.faults

BIG_FILE_ROWS = 300_000  # a run that lasts long enough to be hit while it works


def file_in_a_run(stack: Stack, name: str) -> tuple[Files, str, str]:
    """A big file of its own uploaded, and the id of the file_sensor run working on it."""
    wait_location_loaded(stack)
    files = Files(stack, name)
    (key,) = files.upload(rows=BIG_FILE_ROWS)
    return files, key, files.sensor_run(key)["runId"]


def test_a_killed_run_container_is_resumed(stack: Stack):
    files, key, run_id = file_in_a_run(stack, "kill")
    running = wait_for(
        f"a running container for run {run_id}",
        lambda: [c for c in run_containers(run_id) if state(c)["status"] == "running"],
        60,
        0.5,
    )
    time.sleep(2)  # into the step
    status = stack.run(run_id)["status"]
    require(status == "STARTED", f"run {run_id} was {status} before the kill: the file is too small to hit the run")
    docker("kill", running[0])
    clock = Stopwatch()
    wait_run_success(stack, run_id, timeout=150)
    seconds = clock()
    files.wait_landed(30)
    containers = run_containers(run_id)
    require(len(containers) >= 2, f"run {run_id} succeeded without a new container (containers: {containers})")
    staged = staging_objects(stack, key)
    require(len(staged) == 1, f"{key}: expected one staging object, found {staged}")
    record(
        "a_run_container_killed",
        seconds,
        90,
        "docker kill of a run container -> the same run SUCCESS",
        run_id=run_id,
        containers=len(containers),
    )


def graphql_statuses(stack: Stack, seconds: float, interval: float = 0.5) -> dict[str, int]:
    """Poll GraphQL (a query that reads the run storage) for ``seconds``; count outcomes."""
    body = b'{"query": "{ runsOrError(limit: 1) { __typename } }"}'
    counts = {"ok": 0, "5xx": 0, "other": 0}
    last_5xx = ""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        request = stack.ui_request("/graphql", body, {"Content-Type": "application/json"})  # through the proxy
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                counts["ok" if response.status == 200 else "other"] += 1
        except urllib.error.HTTPError as error:
            if error.code >= 500:
                counts["5xx"] += 1
                last_5xx = f"{error.code}: {error.read()[:300]!r}"
            else:
                counts["other"] += 1
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            counts["other"] += 1
        time.sleep(interval)
    counts["last_5xx"] = last_5xx
    return counts


def test_b_postgres_restart_during_a_run(stack: Stack):
    files, _, run_id = file_in_a_run(stack, "pg")
    clock = Stopwatch()
    stack.compose("restart", "postgres")
    polled = graphql_statuses(stack, 30)
    wait_for(
        f"run {run_id} or its retry to succeed",
        lambda: run_or_retry_succeeded(stack, run_id),
        timeout=max(10.0, 180 - clock()),
    )
    seconds = clock()
    files.wait_landed(30)
    require(
        polled["5xx"] == 0,
        f"GraphQL answered 5xx {polled['5xx']} times in the 30 s after the Postgres restart "
        f"({polled}); last: {polled['last_5xx']}",
    )
    require(polled["ok"] > 0, f"GraphQL never answered in the 30 s after the Postgres restart: {polled}")
    record(
        "b_postgres_restarted", seconds, 180, "Postgres restart during a run -> run (or retry) SUCCESS", graphql=polled
    )


def test_e_code_server_restart_during_a_run(stack: Stack):
    files, _, run_id = file_in_a_run(stack, "codeserver")
    clock = Stopwatch()
    stack.compose("restart", "user-code")
    wait_location_loaded(stack, timeout=90)
    loaded = clock()
    wait_run_success(stack, run_id, timeout=180)
    files.wait_landed(30)
    record(
        "e_code_server_restarted",
        loaded,
        60,
        "code server restart during a run -> location LOADED again",
        run_id=run_id,
    )
