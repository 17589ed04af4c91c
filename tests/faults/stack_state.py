"""What the fault scenarios read off the stack and do to it, shared by their modules (each
module also runs alone: `pytest tests/faults/test_backup.py`)."""

from __future__ import annotations


from e2e.waits import wait_location_loaded
from tooling.stack import Stack


def run_ids(stack: Stack) -> set[str]:
    data = stack.graphql("{ runsOrError(limit: 5000) { ... on Runs { results { runId } } } }")
    return {r["runId"] for r in data["runsOrError"]["results"]}


def busy_runs(stack: Stack) -> int:
    data = stack.graphql(
        "{ runsOrError(filter: {statuses: [QUEUED, STARTING, STARTED]}) { ... on Runs { results { runId } } } }"
    )
    return len(data["runsOrError"]["results"])


def objects(stack: Stack) -> set[str]:
    pages = stack.s3().get_paginator("list_objects_v2").paginate(Bucket=stack.env["S3_BUCKET"])
    return {o["Key"] for page in pages for o in page.get("Contents", [])}


def back_up(stack: Stack) -> None:
    stack.wait_for_webserver()
    wait_location_loaded(stack, timeout=120)
