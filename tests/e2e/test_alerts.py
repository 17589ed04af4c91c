"""End to end: a malformed orders file reaches the operators' webhook as exactly one alert,
naming the file and the missing column, with no secret in it; a daemon restart does not
send it again. The webhook is the receiver of tests/e2e/compose.alerts.yml (in the session
stack, see session.py), on the stack's network like a real one."""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid

import pytest

from dagster_platform.alerts.redaction import is_secret_name

from .conftest import LOCATION, TIMINGS, Stack
from .waits import REPOSITORY, wait_for, wait_location_loaded

pytestmark = pytest.mark.e2e

SENSOR = "run_failure_alerts"
SENSOR_LOCATION = "platform"  # the instance-wide sensors' location (user_code/platform)
# No `amount` column: the run fails naming the file, and the file is never retried.
MISSING_AMOUNT = b"order_id,date,customer_id,quantity\n1,2031-05-01,1,2\n"


def received(stack: Stack) -> list[dict]:
    out = stack.compose("exec", "-T", "alert-receiver", "python3", "/app/receiver.py", "dump", timeout=60).stdout
    return json.loads(out)


def alerts_naming(stack: Stack, key: str) -> list[dict]:
    return [item for item in received(stack) if key in json.dumps(item["body"])]


def sensor_ticks(stack: Stack) -> list[dict]:
    data = stack.graphql(
        """query($s: SensorSelector!) { sensorOrError(sensorSelector: $s) { __typename
             ... on Sensor { sensorState { status ticks(limit: 5) { timestamp status skipReason error { message } } } } } }""",
        {"s": {"repositoryLocationName": SENSOR_LOCATION, "repositoryName": REPOSITORY, "sensorName": SENSOR}},
    )
    sensor = data["sensorOrError"]
    assert sensor["__typename"] == "Sensor", sensor
    assert sensor["sensorState"]["status"] == "RUNNING", sensor
    return sensor["sensorState"]["ticks"]


def runs_in_progress(stack: Stack) -> list[dict]:
    data = stack.graphql(
        """{ runsOrError(filter: {statuses: [QUEUED, NOT_STARTED, STARTING, STARTED]}, limit: 50) {
             ... on Runs { results { runId jobName status } } } }"""
    )
    return data["runsOrError"]["results"]


def wait_tick_after(stack: Stack, moment: float, timeout: float = 120) -> dict:
    def probe():
        ticks = [t for t in sensor_ticks(stack) if t["timestamp"] > moment]
        failed = [t for t in ticks if t["status"] == "FAILURE"]
        assert not failed, f"{SENSOR} tick failed: {failed[0]['error']}"
        return ticks[0] if ticks else f"last ticks: {sensor_ticks(stack)[:2]}"

    return wait_for(f"a {SENSOR} tick after {moment:.0f}", probe, timeout=timeout)


def test_a_malformed_file_alerts_once_with_no_secret_and_a_restart_does_not_resend(stack: Stack):
    wait_location_loaded(stack)
    # The sensor's first tick only sets its cursor (no backlog): let it happen before the upload.
    wait_tick_after(stack, 0)
    # On a fresh stack product_partition_sensor queues a run per product ahead of ours (4 at a
    # time): measure the alert path, not that queue.
    wait_for(
        "no run in progress",
        lambda: not runs_in_progress(stack) or f"{runs_in_progress(stack)}",
        timeout=300,
        interval=3,
    )
    key = f"incoming/orders/{dt.datetime.now(dt.timezone.utc):%Y%m%dT%H%M%S}-e2e-alert-{uuid.uuid4().hex[:8]}.csv"
    started = time.monotonic()
    stack.s3("UPLOADER").put_object(Bucket=stack.env["S3_BUCKET"], Key=key, Body=MISSING_AMOUNT)

    alerts = wait_for(f"an alert naming {key} at the webhook", lambda: alerts_naming(stack, key), timeout=60)
    latency = time.monotonic() - started
    TIMINGS.append(f"malformed CSV upload -> run-failure alert at the webhook: {latency:.1f}s")
    assert len(alerts) == 1, alerts
    alert = alerts[0]
    assert alert["path"] == "/hooks/e2e"
    body = alert["body"]
    assert body["alert"] == "run_failure" and body["job"] == "daily_pipeline" and body["location"] == LOCATION
    assert body["object_key"] == key and body["failed_steps"] == ["raw_orders"]
    assert f"{key}: missing columns: amount" in body["summary"], body["summary"]
    ui = stack.env.get("DAGSTER_UI_URL") or "http://localhost:3000"
    assert body["url"] == f"{ui.rstrip('/')}/runs/{body['run_id']}"
    assert stack.run(body["run_id"])["status"] == "FAILURE"
    ended = stack.graphql(
        "query($id: ID!) { runOrError(runId: $id) { ... on Run { endTime } } }", {"id": body["run_id"]}
    )["runOrError"]["endTime"]
    TIMINGS.append(f"run FAILURE -> alert at the webhook: {alert['at'] - ended:.1f}s")

    # No secret of .env in any alert the webhook got (this one and any other test's).
    everything = json.dumps(received(stack))
    secrets = {name: value for name, value in stack.env.items() if is_secret_name(name) and len(value) >= 4}
    assert "DAGSTER_PG_PASSWORD" in secrets and "AWS_SECRET_ACCESS_KEY" in secrets, sorted(secrets)
    leaked = [name for name, value in secrets.items() if value in everything]
    assert not leaked, f"secret values of {leaked} reached the webhook"

    # The cursor is the sensor's state in the instance: a restarted daemon does not send it again.
    restarted = time.time()
    stack.compose("restart", "daemon", timeout=300)
    first = wait_tick_after(stack, restarted)
    wait_tick_after(stack, first["timestamp"])
    assert len(alerts_naming(stack, key)) == 1
