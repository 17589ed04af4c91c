"""Hurting the stack and watching it heal: container state, run containers, SQL on the
ledger, and the orders files a scenario uploads.

Each scenario writes orders on dates of a year of its own (random per session, apart
from the e2e suite's years), so its exact totals hold whatever else the lake contains.
"""

from __future__ import annotations

import json
import random
import subprocess
import time
import uuid

import pytest

from tooling.stack import Stack
from e2e.test_orders_ingestion import orders_csv, summarize_many, upload, wait_summary
from e2e.waits import runs_with_tag, tags_of, wait_for

YEARS = iter(random.Random().sample(range(3000, 9000), 20))
STAGING_PREFIX = "staging/raw_orders/"


def docker(*args: str, check: bool = True, timeout: float = 120) -> str:
    result = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"`docker {' '.join(args)}` exited {result.returncode}: {result.stderr.strip()}")
    return result.stdout.strip()


def state(container: str) -> dict:
    """Docker's view of a container: Status, ExitCode, RestartCount, Health.Status."""
    info = json.loads(docker("inspect", container))[0]
    s = info["State"]
    return {
        "status": s["Status"],
        "exit_code": s["ExitCode"],
        "health": (s.get("Health") or {}).get("Status"),
        "restarts": info["RestartCount"],
        "started_at": s["StartedAt"],
    }


def wait_healthy(stack: Stack, service: str, timeout: float) -> dict:
    def probe():
        current = state(stack.container_id(service))
        return current if current["health"] == "healthy" and current["status"] == "running" else str(current)

    return wait_for(f"service {service} to be running and healthy", probe, timeout, interval=1)


def run_containers(run_id: str) -> list[str]:
    """Ids of every container (running or not) the launcher started for ``run_id``."""
    return docker("ps", "-aq", "--filter", f"label=dagster/run_id={run_id}").split()


def psql(stack: Stack, database: str, sql: str) -> str:
    """One SQL statement as the superuser, through the postgres container; its output (tuples only)."""
    return stack.compose(
        "exec", "-T", "postgres", "sh", "-c", f'psql -U "$POSTGRES_USER" -d {database} -tAc "{sql}"'
    ).stdout.strip()


def ledger_files(stack: Stack, tag: str) -> int:
    """Rows in the ledger (orders.orders_files) for keys carrying ``tag``."""
    warehouse = stack.env.get("WAREHOUSE_DB_NAME") or "warehouse"
    return int(psql(stack, warehouse, f"SELECT COUNT(*) FROM orders.orders_files WHERE key LIKE '%{tag}%'"))


def staging_objects(stack: Stack, key: str) -> list[str]:
    """Staging objects of one incoming key (there must be exactly one)."""
    from urllib.parse import quote

    prefix = f"{STAGING_PREFIX}{quote(key, safe='')}"
    listing = stack.s3().list_objects_v2(Bucket=stack.env["S3_BUCKET"], Prefix=prefix)
    return [o["Key"] for o in listing.get("Contents", [])]


class Files:
    """Orders files of one scenario: uploaded, with the summary they must produce."""

    def __init__(self, stack: Stack, name: str):
        self.stack, self.year, self.tag = stack, next(YEARS), f"{name}-{uuid.uuid4().hex[:8]}"
        self.keys: list[str] = []
        self.summaries = []

    def upload(self, count: int = 1, rows: int = 50) -> list[str]:
        new = []
        for _ in range(count):
            n = len(self.keys)
            # Ids unique to this scenario (its year): order ids are deduplicated across
            # files, so scenarios sharing ids would replace each other's orders.
            body, summary = orders_csv(self.year * 100_000_000 + 1_000_000 * n, rows, self.year)
            key = f"incoming/orders/fault-{self.tag}-{n:03d}.csv"
            upload(self.stack, key, body)
            self.keys.append(key)
            self.summaries.append(summary)
            new.append(key)
        return new

    def wait_landed(self, timeout: float) -> float:
        """Seconds until orders_summary holds exactly these files' totals for the year.
        On a timeout, the failure also lists the file_sensor runs of these files and the
        instance's unfinished runs, which tell a missed file from a slow or queued run."""
        try:
            return wait_summary(self.stack, self.year, summarize_many(*self.summaries), timeout=timeout)
        except pytest.fail.Exception as failure:
            pytest.fail(f"{failure}\n{self.run_report()}", pytrace=False)

    def run_report(self) -> str:
        runs = runs_with_tag(self.stack, "dagster/sensor_name", "file_sensor", limit=200)
        mine = [
            (tags_of(r).get("orders/first_key"), r["runId"][:8], r["status"])
            for r in runs
            if self.tag in tags_of(r).get("orders/first_key", "")
        ]
        unfinished = self.stack.graphql("""{ runsOrError(filter: {statuses: [QUEUED, NOT_STARTED, STARTING, STARTED,
            CANCELING]}) { ... on Runs { results { runId status jobName } } } }""")["runsOrError"]["results"]
        return f"file_sensor runs of these files: {mine}\nunfinished runs of the instance: {unfinished}"

    def sensor_run(self, key: str, timeout: float = 90) -> dict:
        """The file_sensor run whose batch starts with ``key``, once it has STARTED."""

        def probe():
            runs = [
                r
                for r in runs_with_tag(self.stack, "dagster/sensor_name", "file_sensor", limit=50)
                if tags_of(r).get("orders/first_key") == key
            ]
            started = [r for r in runs if r["status"] == "STARTED"]
            if started:
                return started[0]
            return f"runs for {key}: {[r['status'] for r in runs]}"

        return wait_for(f"a STARTED file_sensor run for {key}", probe, timeout, interval=0.5)


def run_or_retry_succeeded(stack: Stack, run_id: str) -> dict | None:
    """The run itself if it succeeded, else a SUCCESS retry of it (run_retries), else None."""
    run = stack.run(run_id)
    if run and run["status"] == "SUCCESS":
        return run
    retries = runs_with_tag(stack, "dagster/root_run_id", run_id)
    return next((r for r in retries if r["status"] == "SUCCESS"), None)


def require(condition: bool, message: str) -> None:
    if not condition:
        pytest.fail(message, pytrace=False)


def sleep_until(deadline: float) -> None:
    time.sleep(max(0.0, deadline - time.monotonic()))
