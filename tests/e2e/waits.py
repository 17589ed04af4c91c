"""Waiting on the stack and reading what it produced: shared by the e2e test modules.

Every wait has a deadline and fails with what it last saw.
"""

from __future__ import annotations

import io
import time

import pytest

from tooling.stack import LOCATION, REPOSITORY, RUN_FIELDS, Stack, launch_run  # noqa: F401 (re-exported)

RUN_TIMEOUT = 240


def wait_for(description: str, probe, timeout: float = 120, interval: float = 2):
    """Call ``probe`` until it returns something truthy; fail with its last value."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = probe()
        except Exception as error:  # the stack may be (re)starting
            last = f"{type(error).__name__}: {error}"
        else:
            if last and not isinstance(last, str):
                return last
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {description}; last seen: {last!r}")


def location_entry(stack: Stack, name: str = LOCATION) -> dict:
    """The workspace entry of the code location ``name``: load status, and its load error or repositories."""
    data = stack.graphql("""{
      workspaceOrError { __typename ... on Workspace { locationEntries {
        name loadStatus
        locationOrLoadError { __typename
          ... on PythonError { message causes { message } }
          ... on RepositoryLocation { repositories { name } } } } } } }""")
    entries = {e["name"]: e for e in data["workspaceOrError"]["locationEntries"]}
    assert name in entries, f"no code location {name}: {sorted(entries)}"
    return entries[name]


def wait_location_loaded(stack: Stack, timeout: float = 120) -> dict:
    def probe():
        entry = location_entry(stack)
        error = entry["locationOrLoadError"] or {}
        if error.get("__typename") == "PythonError":
            return f"load error: {error['message'][:500]}"
        ok = entry["loadStatus"] == "LOADED" and error.get("__typename") == "RepositoryLocation"
        return entry if ok else f"{entry['loadStatus']} {error.get('__typename')}"

    return wait_for(f"code location {LOCATION} to be LOADED", probe, timeout)


def wait_run_success(stack: Stack, run_id: str, timeout: float = RUN_TIMEOUT) -> dict:
    def probe():
        run = stack.run(run_id)
        if run and run["status"] in ("FAILURE", "CANCELED"):
            pytest.fail(f"run {run_id} ({run['jobName']}) ended {run['status']}: {run_failure(stack, run_id)}")
        return run if run and run["status"] == "SUCCESS" else f"status {run and run['status']}"

    return wait_for(f"run {run_id} to succeed", probe, timeout)


def run_failure(stack: Stack, run_id: str) -> str:
    data = stack.graphql(
        """query($id: ID!) { logsForRun(runId: $id, limit: 200) { __typename
             ... on EventConnection { events { __typename
               ... on MessageEvent { message level }
               ... on ExecutionStepFailureEvent { error { message } } } } } }""",
        {"id": run_id},
    )
    events = data["logsForRun"].get("events", [])
    lines = [
        (e.get("error") or {}).get("message") or e.get("message", "")
        for e in events
        if e.get("level") == "ERROR" or e["__typename"].endswith("FailureEvent")
    ]
    return " | ".join(line.strip()[:400] for line in lines if line)[-3000:]


def tags_of(run: dict) -> dict:
    return {t["key"]: t["value"] for t in run["tags"]}


def read_parquet(stack: Stack, key: str):
    import pandas as pd

    body = stack.s3().get_object(Bucket=stack.env["S3_BUCKET"], Key=key)["Body"].read()
    return pd.read_parquet(io.BytesIO(body))


def runs_with_tag(stack: Stack, key: str, value: str, limit: int = 500) -> list[dict]:
    data = stack.graphql(
        """query($tags: [ExecutionTag!], $limit: Int) { runsOrError(filter: {tags: $tags}, limit: $limit) {
             ... on Runs { results { %s startTime endTime } } } }"""
        % RUN_FIELDS,
        {"tags": [{"key": key, "value": value}], "limit": limit},
    )
    return data["runsOrError"]["results"]
