"""The `scale` compose profile (Celery broker + workers) on top of the running stack, and
what a Celery run's event log says about it: shared by tests/e2e/test_scale_celery.py and
benchmarks/stack.py (`python -m benchmarks --only celery`). No pytest import here.

The broker and the workers come up with ``--no-deps`` beside the stack's other services
(nothing else is recreated) and are removed again by ``remove_workers``.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess

from tooling.stack import UP_TIMEOUT, Stack

PROFILE = ("--profile", "scale")
BROKER, WORKER = "celery-broker", "celery-worker"
JOB = "celery_fanout"

STEP_EVENTS = """query($id: ID!, $cursor: String) { logsForRun(runId: $id, afterCursor: $cursor, limit: 1000) {
  __typename ... on EventConnection { cursor hasMore events { __typename
    ... on EngineEvent { stepKey timestamp message metadataEntries { label ... on TextMetadataEntry { text } } }
    ... on ExecutionStepStartEvent { stepKey timestamp }
    ... on ExecutionStepSuccessEvent { stepKey timestamp } } } } }"""


def scale_stack(stack: Stack, visibility_timeout_s: int | None = None) -> Stack:
    """The same stack; compose interpolates CELERY_VISIBILITY_TIMEOUT_SECONDS from this env."""
    if visibility_timeout_s is None:
        return stack
    env = {**stack.process_env, "CELERY_VISIBILITY_TIMEOUT_SECONDS": str(visibility_timeout_s)}
    return dataclasses.replace(stack, process_env=env)


def up_workers(stack: Stack, workers: int, build: bool = False) -> float:
    """Broker + ``workers`` worker replicas, healthy; seconds it took. ``build``: (re)build
    the broker image first (the workers use the user-code image the stack built)."""
    import time

    started = time.monotonic()
    if build:
        stack.compose(*PROFILE, "build", BROKER, timeout=UP_TIMEOUT)
    stack.compose(
        *PROFILE,
        "up",
        "-d",
        "--wait",
        "--wait-timeout",
        str(UP_TIMEOUT),
        "--no-deps",
        "--scale",
        f"{WORKER}={workers}",
        BROKER,
        WORKER,
        timeout=UP_TIMEOUT + 300,
    )
    return time.monotonic() - started


def remove_workers(stack: Stack) -> None:
    stack.compose(*PROFILE, "rm", "-s", "-f", "-v", WORKER, BROKER, check=False, timeout=300)


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
    from user_code.scale.assets import PARTS, part_name

    return {"ops": {part_name(i): {"config": {"seconds": seconds}} for i in range(PARTS)}}
