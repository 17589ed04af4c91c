"""End to end: each kind of failure reaches the operators' webhook as exactly one alert.

* A malformed orders file: one run-failure alert naming the file and the missing column,
  with no secret in it; a daemon restart does not send it again.
* A failed blocking asset check (a negative sale in the warehouse): one run-failure alert
  naming the check, and no asset-check alert besides (the check failed its run).
* A stale orders_summary: one freshness alert, not sent again by the next evaluation.

The webhook is the receiver of tests/e2e/compose.alerts.yml (in the session stack, see
session.py), on the stack's network like a real one; that file also shortens
ORDERS_SUMMARY_FRESHNESS_MINUTES to 1, Dagster's minimum."""

from __future__ import annotations

import datetime as dt
import json
import random
import time
import uuid

import pytest

from dagster_platform.alerts.redaction import is_secret_name

from .conftest import LOCATION, TIMINGS, Stack
from .waits import REPOSITORY, launch_run, wait_for, wait_location_loaded

pytestmark = pytest.mark.e2e

SENSOR = "run_failure_alerts"
ASSET_SENSOR = "asset_alerts"
# Each alert sensor's code location: run failures are the instance-wide `platform`
# location's (user_code/platform), asset alerts live beside the assets.
SENSOR_LOCATIONS = {SENSOR: "platform", ASSET_SENSOR: LOCATION}
# No `amount` column: the run fails naming the file, and the file is never retried.
MISSING_AMOUNT = b"order_id,date,customer_id,quantity\n1,2031-05-01,1,2\n"


def received(stack: Stack) -> list[dict]:
    out = stack.compose("exec", "-T", "alert-receiver", "python3", "/app/receiver.py", "dump", timeout=60).stdout
    return json.loads(out)


def alerts_naming(stack: Stack, key: str) -> list[dict]:
    return [item for item in received(stack) if key in json.dumps(item["body"])]


def sensor_ticks(stack: Stack, sensor: str = SENSOR) -> list[dict]:
    data = stack.graphql(
        """query($s: SensorSelector!) { sensorOrError(sensorSelector: $s) { __typename
             ... on Sensor { sensorState { status ticks(limit: 5) { timestamp status skipReason error { message } } } } } }""",
        {"s": {"repositoryLocationName": SENSOR_LOCATIONS[sensor], "repositoryName": REPOSITORY, "sensorName": sensor}},
    )
    found = data["sensorOrError"]
    assert found["__typename"] == "Sensor", found
    assert found["sensorState"]["status"] == "RUNNING", found
    return found["sensorState"]["ticks"]


def runs_in_progress(stack: Stack) -> list[dict]:
    data = stack.graphql(
        """{ runsOrError(filter: {statuses: [QUEUED, NOT_STARTED, STARTING, STARTED]}, limit: 50) {
             ... on Runs { results { runId jobName status } } } }"""
    )
    return data["runsOrError"]["results"]


def run_end(stack: Stack, run_id: str) -> float:
    query = "query($id: ID!) { runOrError(runId: $id) { ... on Run { endTime } } }"
    return stack.graphql(query, {"id": run_id})["runOrError"]["endTime"]


def wait_tick_after(stack: Stack, moment: float, sensor: str = SENSOR, timeout: float = 120) -> dict:
    """The first tick of ``sensor`` that started after ``moment`` and has ended (what it
    would send, it has sent)."""

    def probe():
        ticks = [t for t in sensor_ticks(stack, sensor) if t["timestamp"] > moment]
        failed = [t for t in ticks if t["status"] == "FAILURE"]
        assert not failed, f"{sensor} tick failed: {failed[0]['error']}"
        ended = [t for t in ticks if t["status"] in ("SUCCESS", "SKIPPED")]
        return ended[-1] if ended else f"last ticks: {sensor_ticks(stack, sensor)[:2]}"

    return wait_for(f"a {sensor} tick after {moment:.0f}", probe, timeout=timeout)


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
    TIMINGS.append(f"run FAILURE -> alert at the webhook: {alert['at'] - run_end(stack, body['run_id']):.1f}s")

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


# --- a failed blocking check --------------------------------------------------------------
# A day without seeded sales (the sample warehouse holds 2023), used by no other test: the
# one sale the test adds is that day's whole summary.
NEGATIVE_DAY = "2024-02-29"


def warehouse_sql(stack: Stack, sql: str) -> str:
    """``sql`` on the warehouse database as Postgres' superuser (the pipelines' role may only
    read): a test sets up a warehouse state the pipelines would never write."""
    env = stack.env
    superuser = env.get("POSTGRES_USER") or "postgres"
    database = env["WAREHOUSE_DB_NAME"]
    command = ("exec", "-T", "postgres", "psql", "-U", superuser, "-d", database, "-v", "ON_ERROR_STOP=1", "-tAc", sql)
    return stack.compose(*command, timeout=60).stdout.strip()


@pytest.fixture
def negative_sale(stack: Stack):
    """A sale of NEGATIVE_DAY with a negative revenue (violates summary_has_no_negative_totals,
    a blocking check), removed afterwards so that no later run of the shared stack trips on it."""
    sale_id = 9_000_000_000 + random.randrange(10**8)
    warehouse_sql(
        stack,
        "INSERT INTO sales (sale_id, date, product_id, customer_id, quantity, revenue) "
        f"SELECT {sale_id}, DATE '{NEGATIVE_DAY}', product_id, 1, 1, -100.00 FROM products ORDER BY product_id LIMIT 1",
    )
    yield sale_id
    warehouse_sql(stack, f"DELETE FROM sales WHERE sale_id = {sale_id}")


def test_a_failed_blocking_check_alerts_once_as_its_failed_run(stack: Stack, negative_sale: int):
    wait_location_loaded(stack)
    wait_tick_after(stack, 0)  # the run-failure sensor's first tick (cursor only) is behind us
    started = time.monotonic()
    run_id = launch_run(stack, "daily_sales_job", tags={"dagster/partition": NEGATIVE_DAY})

    alerts = wait_for(f"an alert naming run {run_id} at the webhook", lambda: alerts_naming(stack, run_id), timeout=240)
    TIMINGS.append(f"blocking check launch -> run-failure alert at the webhook: {time.monotonic() - started:.1f}s")
    body = alerts[0]["body"]
    assert body["alert"] == "run_failure" and body["job"] == "daily_sales_job", body
    assert body["partition"] == NEGATIVE_DAY and body["run_id"] == run_id, body
    assert "blocking asset check failed" in body["summary"], body["summary"]
    assert "daily_sales_summary: summary_has_no_negative_totals" in body["summary"], body["summary"]
    assert any("summary_has_no_negative_totals" in step for step in body["failed_steps"]), body["failed_steps"]
    assert stack.run(run_id)["status"] == "FAILURE"

    # Later evaluations of both sensors: the run-failure one does not send the run again,
    # and asset_alerts, evaluated after the failed check was recorded (by the run's end),
    # sends no second alert for a blocking check.
    wait_tick_after(stack, alerts[0]["at"])
    wait_tick_after(stack, run_end(stack, run_id), sensor=ASSET_SENSOR, timeout=90)
    assert len(alerts_naming(stack, run_id)) == 1, alerts_naming(stack, run_id)


# --- a stale asset -------------------------------------------------------------------------
STALE_ASSET = "orders_summary"
VALID_ORDER = b"order_id,date,customer_id,amount,quantity\n%d,2031-05-02,1,12.50,1\n"


def freshness_of(stack: Stack, asset: str) -> tuple[int, float | None]:
    """The asset's freshness window as the code server built it (seconds), and the time of
    its last materialization (None before the first)."""
    data = stack.graphql(
        """query($k: AssetKeyInput!) { assetNodeOrError(assetKey: $k) { __typename ... on AssetNode {
             internalFreshnessPolicy { ... on TimeWindowFreshnessPolicy { failWindowSeconds } }
             assetMaterializations(limit: 1) { timestamp } } } }""",
        {"k": {"path": [asset]}},
    )["assetNodeOrError"]
    assert data["__typename"] == "AssetNode" and data["internalFreshnessPolicy"], data
    last = data["assetMaterializations"]
    return data["internalFreshnessPolicy"]["failWindowSeconds"], (int(last[0]["timestamp"]) / 1000 if last else None)


def freshness_alerts(stack: Stack, asset: str, since: float) -> list[dict]:
    """Freshness alerts for ``asset`` about a state change after ``since``."""
    return [
        item
        for item in received(stack)
        if item["body"].get("alert") == "freshness_failure"
        and item["body"]["asset"] == asset
        and dt.datetime.fromisoformat(item["body"]["time"]).timestamp() >= int(since)
    ]


def test_a_stale_asset_alerts_once(stack: Stack):
    wait_location_loaded(stack)
    window, materialized = freshness_of(stack, STALE_ASSET)
    assert window == 60, f"compose.alerts.yml sets ORDERS_SUMMARY_FRESHNESS_MINUTES=1, the code server has {window} s"
    if materialized is None:  # this test alone on a fresh stack: one orders file materializes it
        key = f"incoming/orders/{dt.datetime.now(dt.timezone.utc):%Y%m%dT%H%M%S}-e2e-fresh-{uuid.uuid4().hex[:8]}.csv"
        order = VALID_ORDER % random.randrange(10**9, 10**10)
        stack.s3("UPLOADER").put_object(Bucket=stack.env["S3_BUCKET"], Key=key, Body=order)
        materialized = wait_for(f"{STALE_ASSET} materialized", lambda: freshness_of(stack, STALE_ASSET)[1], timeout=180)
    stale_at = materialized + window
    # The freshness daemon and asset_alerts both evaluate every 30 s.
    deadline = max(0.0, stale_at - time.time()) + 90
    alerts = wait_for(
        f"a freshness alert for {STALE_ASSET} (stale since {stale_at:.0f})",
        lambda: freshness_alerts(stack, STALE_ASSET, materialized),
        timeout=deadline,
    )
    TIMINGS.append(f"{STALE_ASSET} stale -> freshness alert at the webhook: {alerts[0]['at'] - stale_at:.1f}s")
    assert len(alerts) == 1, alerts
    body = alerts[0]["body"]
    assert body["title"] == f"Asset is not fresh: {STALE_ASSET}"
    assert body["policy"] == "a materialization at least every 1 minutes", body
    ui = stack.env.get("DAGSTER_UI_URL") or "http://localhost:3000"
    assert body["url"] == f"{ui.rstrip('/')}/assets/{STALE_ASSET}"

    # The asset is still stale at the next evaluation: nothing is sent again.
    wait_tick_after(stack, alerts[0]["at"], sensor=ASSET_SENSOR, timeout=90)
    assert len(freshness_alerts(stack, STALE_ASSET, materialized)) == 1
