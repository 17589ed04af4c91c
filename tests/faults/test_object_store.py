"""MinIO down during a run and during sensor ticks: no file may wait for the nightly
catch-up; each lands in orders_summary on its own once the store is back.

The step's retry policy (NETWORK_RETRY_POLICY) spans a one-minute outage; a run that
still fails is re-requested by file_sensor after its back-off (detection.py).
"""

from __future__ import annotations

import time

import pytest

from tooling.stack import Stack
from e2e.waits import runs_with_tag, tags_of, wait_location_loaded
from orders_and_sales.defs.orders.detection import RETRY_BACKOFF_SECONDS

from .harm import Files, wait_healthy
from .recovery import Stopwatch, record

pytestmark = pytest.mark.faults


def outage(stack: Stack, seconds: float) -> Stopwatch:
    """Stop MinIO for ``seconds``, start it again; a stopwatch started when it is back."""
    stack.compose("stop", "minio")
    time.sleep(seconds)
    stack.compose("start", "minio")
    clock = Stopwatch()
    wait_healthy(stack, "minio", 60)
    return clock


def failed_runs(stack: Stack, tag: str) -> list[str]:
    return [
        r["runId"]
        for r in runs_with_tag(stack, "dagster/sensor_name", "file_sensor", limit=100)
        if tag in tags_of(r).get("orders/first_key", "") and r["status"] == "FAILURE"
    ]


def test_c_minio_down_a_minute_during_a_run(stack: Stack):
    wait_location_loaded(stack)
    files = Files(stack, "minio-run")
    (key,) = files.upload(rows=300_000)
    files.sensor_run(key)
    clock = outage(stack, 60)
    files.wait_landed(300)
    record(
        "c_minio_down_60s_during_run",
        clock(),
        300,
        "MinIO back -> the file in orders_summary",
        failed_runs=failed_runs(stack, files.tag),
    )


def test_d_minio_down_during_sensor_ticks(stack: Stack):
    wait_location_loaded(stack)
    files = Files(stack, "minio-tick")
    files.upload(count=5)
    clock = outage(stack, 30)
    files.wait_landed(180)
    seconds, failed = clock(), failed_runs(stack, files.tag)
    # Documented bound: 30 s after recovery, plus the sensor's first back-off and a run's
    # length when a run failed during the outage.
    bound = 30 + (RETRY_BACKOFF_SECONDS + 30 if failed else 0)
    record(
        "d_minio_down_30s_during_ticks",
        seconds,
        bound,
        "MinIO back -> all 5 files in orders_summary",
        failed_runs=failed,
    )
