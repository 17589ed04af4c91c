"""The `scale` compose profile (its code location, the Celery broker and workers) on top of
the running stack, and what a Celery run's event log says about it: shared by
tests/e2e/test_scale_celery.py and benchmarks/stack.py (`python -m benchmarks --only
celery`). No pytest import here.

The profile's services come up with ``--no-deps`` beside the stack's other services. The
webserver and the daemon are recreated with ``DAGSTER_WORKSPACE=workspace.scale.yaml``, so
they load the location `scale` (and the proxy restarted, to reach the new webserver), as
a user who turns the profile on does; ``remove_workers`` undoes all of it.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess

from tooling.stack import UP_TIMEOUT, Stack

PROFILE = ("--profile", "scale")
BROKER, WORKER, CODE = "celery-broker", "celery-worker", "scale-code"
LOCATION = "scale"
JOB = "celery_fanout"
WORKSPACE = {"DAGSTER_WORKSPACE": "workspace.scale.yaml"}

STEP_EVENTS = """query($id: ID!, $cursor: String) { logsForRun(runId: $id, afterCursor: $cursor, limit: 1000) {
  __typename ... on EventConnection { cursor hasMore events { __typename
    ... on EngineEvent { stepKey timestamp message metadataEntries { label ... on TextMetadataEntry { text } } }
    ... on ExecutionStepStartEvent { stepKey timestamp }
    ... on ExecutionStepSuccessEvent { stepKey timestamp } } } } }"""


def scale_stack(stack: Stack, visibility_timeout_s: int | None = None) -> Stack:
    """The same stack with the profile's workspace; compose interpolates DAGSTER_WORKSPACE
    and CELERY_VISIBILITY_TIMEOUT_SECONDS from this env."""
    env = {**stack.process_env, **WORKSPACE}
    if visibility_timeout_s is not None:
        env["CELERY_VISIBILITY_TIMEOUT_SECONDS"] = str(visibility_timeout_s)
    return dataclasses.replace(stack, process_env=env)


def _up(stack: Stack, *services: str, workers: int | None = None) -> None:
    scale = ("--scale", f"{WORKER}={workers}") if workers is not None else ()
    stack.compose(
        *PROFILE,
        "up",
        "-d",
        "--wait",
        "--wait-timeout",
        str(UP_TIMEOUT),
        "--no-deps",
        *scale,
        *services,
        timeout=UP_TIMEOUT + 300,
    )


def _reach_webserver(stack: Stack) -> None:
    """The proxy resolved the webserver's address when it started: a recreated webserver
    may have another one."""
    stack.compose("restart", "proxy", timeout=300)
    _up(stack, "proxy")


def up_workers(stack: Stack, workers: int, build: bool = False) -> float:
    """The location `scale` (its code server, and the webserver and daemon loading it), the
    broker and ``workers`` worker replicas, healthy; seconds it took. ``build``: (re)build
    the broker and the scale images first."""
    import time

    started = time.monotonic()
    if build:
        stack.compose(*PROFILE, "build", BROKER, CODE, timeout=UP_TIMEOUT)
    _up(stack, CODE, BROKER, WORKER, "webserver", "daemon", workers=workers)
    _reach_webserver(stack)
    return time.monotonic() - started


def remove_workers(stack: Stack) -> None:
    """The profile's services gone, the webserver and the daemon back on workspace.yaml."""
    stack.compose(*PROFILE, "rm", "-s", "-f", "-v", WORKER, BROKER, CODE, check=False, timeout=300)
    default = dataclasses.replace(stack, process_env={k: v for k, v in stack.process_env.items() if k not in WORKSPACE})
    _up(default, "webserver", "daemon")
    _reach_webserver(default)


def worker_hosts(stack: Stack) -> dict[str, str]:
    """Hostname -> container id of every running worker replica."""
    ids = stack.compose(*PROFILE, "ps", "-q", WORKER).stdout.split()
    hosts = {}
    for container in ids:
        info = json.loads(
            subprocess.run(["docker", "inspect", container], capture_output=True, text=True, check=True).stdout
        )[0]
        if info["State"]["Running"]:
            hosts[info["Config"]["Hostname"]] = container
    return hosts


def step_events(stack: Stack, run_id: str) -> list[dict]:
    events, cursor = [], None
    while True:
        page = stack.graphql(STEP_EVENTS, {"id": run_id, "cursor": cursor})["logsForRun"]
        events += [e for e in page["events"] if e]
        cursor = page["cursor"]
        if not page["hasMore"]:
            return events


def hosts_by_step(events: list[dict]) -> dict[str, list[str]]:
    """Step key -> the Celery worker hosts that started it, in order (dagster-celery's
    "Executing steps ... in celery worker" engine event names the worker node, celery@<host>)."""
    hosts: dict[str, list[str]] = {}
    for event in events:
        if event["__typename"] != "EngineEvent" or not event.get("stepKey"):
            continue
        entries = {m["label"]: m.get("text") for m in event.get("metadataEntries") or []}
        node = entries.get("Celery worker")
        if node:
            hosts.setdefault(event["stepKey"], []).append(node.split("@", 1)[-1])
    return hosts


def throughput(events: list[dict]) -> dict:
    """Steps per minute between the first step start and the last step success."""
    starts = [float(e["timestamp"]) / 1000 for e in events if e["__typename"] == "ExecutionStepStartEvent"]
    ends = {
        e["stepKey"]: float(e["timestamp"]) / 1000 for e in events if e["__typename"] == "ExecutionStepSuccessEvent"
    }
    window = max(ends.values()) - min(starts)
    return {"steps": len(ends), "window_s": round(window, 2), "steps_per_min": round(len(ends) / window * 60, 1)}


def burst(stack: Stack, launch, wait, workers: tuple[int, ...] = (1, 2), seconds: float = 1.0) -> dict:
    """The same burst (one celery_fanout run: PARTS independent steps waiting ``seconds``
    each, then the fan-in) with each number of workers; ``launch(job, run_config)`` returns
    a run id, ``wait(run_id)`` returns once it succeeded. The figure of results.json.

    A warm-up run on the most workers first loads the code in every worker; then from the
    most workers to the fewest, so that scaling down leaves only warm workers."""
    up_workers(stack, max(workers))
    wait(launch(JOB, fanout_config(0)))
    figures = {}
    for count in sorted(workers, reverse=True):
        up_workers(stack, count)
        hosts = worker_hosts(stack)
        assert len(hosts) == count, hosts
        run_id = launch(JOB, fanout_config(seconds))
        wait(run_id)
        events = step_events(stack, run_id)
        used = {chain[-1] for chain in hosts_by_step(events).values()}
        figures[count] = {**throughput(events), "workers_used": len(used)}
    return {
        "workers": list(workers),
        "steps_per_min": [figures[n]["steps_per_min"] for n in workers],
        "window_s": [figures[n]["window_s"] for n in workers],
        "workers_used": [figures[n]["workers_used"] for n in workers],
        "steps": figures[workers[0]]["steps"],
        "step_wait_s": seconds,
    }


def fanout_config(seconds: float) -> dict:
    from scale.defs.assets import PARTS, part_name

    return {"ops": {part_name(i): {"config": {"seconds": seconds}} for i in range(PARTS)}}
