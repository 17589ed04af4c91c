"""file_sensor, daily_schedule and the blocking checks."""

import datetime as dt
import time
from contextlib import contextmanager

import pandas as pd
import pytest
from dagster import (
    AssetKey, DefaultScheduleStatus, Definitions, DefaultSensorStatus, asset, build_schedule_context,
    build_sensor_context,
)

from user_code.orders import defs
from user_code.orders.assets import ORDERS_ASSETS, cleaned_orders, orders_summary, raw_orders
from user_code.orders.checks import duplicated_order_ids, negative_total_dates
from user_code.orders.jobs import daily_pipeline, daily_schedule
from user_code.orders.sensors import MAX_RUN_REQUESTS_PER_TICK, file_sensor, sensor_interval_seconds
from user_code.environment import ConfigurationError

from .conftest import put_csv, run_orders
from .helpers import csv_bytes

ROW = csv_bytes("1,2023-01-01,1,10,1")


def tick(store, cursor=None):
    with build_sensor_context(cursor=cursor, resources={"object_store": store}) as context:
        return file_sensor(context)


@contextmanager
def many_objects(s3_store, keys: list[str]):
    """Objects straight into the in-process moto backend, removed the same way afterwards
    (10,000 PUTs and DELETEs over HTTP take over a minute)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends

    backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
    for key in keys:
        backend.put_object(s3_store.bucket, key, b"x")
    try:
        yield
    finally:
        for key in keys:
            backend.delete_object(s3_store.bucket, key)


def requested_keys(result) -> list[str]:
    return [r.run_config["ops"]["raw_orders"]["config"]["object_keys"][0] for r in result.run_requests]


def test_new_file_gives_one_run_request(s3_store):
    key = put_csv(s3_store, "2023-01-01.csv", ROW)
    s3_store.put_bytes("incoming/orders/notes.txt", b"x")
    result = tick(s3_store)
    [request] = result.run_requests
    etag = next(o.etag for o in s3_store.list_objects(key))
    assert request.run_key == f"{key}:{etag}"
    assert request.run_config["ops"] == {"raw_orders": {"config": {"object_keys": [key]}}}
    assert request.tags["orders/object_key"] == key
    assert request.job_name in (None, "daily_pipeline")
    assert result.cursor == "incoming/orders/notes.txt"  # looked-at keys are not looked at again


def test_same_file_gives_nothing_and_cursor_advances(s3_store):
    put_csv(s3_store, "a.csv", ROW)
    first = tick(s3_store)
    assert first.cursor == "incoming/orders/a.csv"
    second = tick(s3_store, first.cursor)
    assert not second.run_requests and second.skip_reason
    put_csv(s3_store, "b.csv", ROW)
    third = tick(s3_store, first.cursor)
    assert requested_keys(third) == ["incoming/orders/b.csv"] and third.cursor == "incoming/orders/b.csv"


def test_identical_reupload_has_the_same_run_key(s3_store):
    put_csv(s3_store, "a.csv", ROW)
    before = tick(s3_store).run_requests[0].run_key
    put_csv(s3_store, "a.csv", ROW)
    assert tick(s3_store).run_requests[0].run_key == before  # Dagster dedupes run keys
    put_csv(s3_store, "a.csv", ROW + b"2,2023-01-01,1,5,1\n")
    assert tick(s3_store).run_requests[0].run_key != before


def drain(store, cursor=None) -> tuple[list[str], float]:
    """Tick until nothing is requested: every requested key, and the slowest tick's time."""
    seen, slowest = [], 0.0
    while True:
        start = time.perf_counter()
        result = tick(store, cursor)
        slowest = max(slowest, time.perf_counter() - start)
        if not result.run_requests:
            return seen, slowest
        assert len(result.run_requests) <= MAX_RUN_REQUESTS_PER_TICK
        seen += requested_keys(result)
        cursor = result.cursor


def test_ten_thousand_objects_on_s3(s3_store):
    keys = [f"incoming/orders/{i:05d}.csv" for i in range(10_000)]
    with many_objects(s3_store, keys):
        first = tick(s3_store)
        assert requested_keys(first) == keys[:MAX_RUN_REQUESTS_PER_TICK]
        assert first.cursor == keys[MAX_RUN_REQUESTS_PER_TICK - 1]  # only over what was requested
        seen, slowest = drain(s3_store, keys[-1200])  # across an S3 page boundary
    assert seen == keys[-1199:]
    assert slowest < 5, f"slowest tick took {slowest:.2f}s"


def test_ten_thousand_objects_locally(local_store):
    folder = local_store._path("incoming/orders/x").parent
    folder.mkdir(parents=True)
    keys = [f"incoming/orders/{i:05d}.csv" for i in range(10_000)]
    for key in keys:
        local_store._path(key).write_bytes(b"x")
    (folder / "zz_notes.txt").write_bytes(b"x")
    first = tick(local_store)
    assert requested_keys(first) == keys[:MAX_RUN_REQUESTS_PER_TICK]
    seen, slowest = drain(local_store, keys[-1100])
    assert seen == keys[-1099:]
    assert slowest < 5, f"slowest tick took {slowest:.2f}s"


def test_sensor_definition():
    assert file_sensor.default_status == DefaultSensorStatus.RUNNING
    assert file_sensor.minimum_interval_seconds == 10
    assert file_sensor.job_name == "daily_pipeline"


@pytest.mark.parametrize("value, ok", [("5", True), ("15", True), ("16", False), ("0", False), ("ten", False)])
def test_sensor_interval_from_environment(monkeypatch, value, ok):
    monkeypatch.setenv("ORDERS_SENSOR_INTERVAL_SECONDS", value)
    if ok:
        assert sensor_interval_seconds() == int(value)
    else:
        with pytest.raises(ConfigurationError, match="ORDERS_SENSOR_INTERVAL_SECONDS"):
            sensor_interval_seconds()


def test_schedule_evaluation():
    assert daily_schedule.cron_schedule == "0 2 * * *"
    assert daily_schedule.default_status == DefaultScheduleStatus.RUNNING
    assert daily_schedule.execution_timezone == "UTC"
    assert daily_schedule.job_name == "daily_pipeline"
    context = build_schedule_context(scheduled_execution_time=dt.datetime(2024, 1, 2, 2, tzinfo=dt.timezone.utc))
    [request] = daily_schedule.evaluate_tick(context).run_requests
    assert request.run_config["ops"] == {"raw_orders": {"config": {"object_keys": []}}}
    assert request.tags["orders/mode"] == "catch-up"


def test_job_covers_the_three_assets_and_their_checks(s3_resources):
    job = Definitions.merge(defs, Definitions(resources=s3_resources)).resolve_job_def("daily_pipeline")
    assert job.asset_layer.selected_asset_keys == {AssetKey(a.key.path) for a in ORDERS_ASSETS}
    assert {c.name for c in job.asset_layer.asset_graph.asset_check_keys} == {
        "cleaned_orders_unique_order_id", "orders_summary_not_empty", "orders_summary_no_negative_totals",
    }
    for assets_def in (raw_orders, cleaned_orders, orders_summary):
        assert assets_def.op.retry_policy is not None


def test_check_helpers():
    assert duplicated_order_ids(pd.DataFrame({"order_id": ["1", "2", "1"]})) == ["1"]
    summary = pd.DataFrame({"date": ["d1", "d2"], "total_amount": [1.0, -1.0], "total_quantity": [1, 1],
                            "order_count": [1, 1]})
    assert negative_total_dates(summary) == ["d2"]


def test_negative_totals_fail_the_blocking_check(s3_resources, s3_store):
    key = put_csv(s3_store, "refunds.csv", csv_bytes("1,2023-01-01,1,-50,1", "2,2023-01-01,1,10,1"))
    result = run_orders(s3_resources, [key], raise_on_error=False)
    assert not result.success
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert checks["orders_summary_no_negative_totals"].passed is False
    assert checks["orders_summary_no_negative_totals"].metadata["examples"].value == ["2023-01-01"]
    assert checks["orders_summary_not_empty"].passed is True


def test_failing_unique_check_stops_downstream(s3_resources):
    @asset(key="cleaned_orders")
    def duplicated_cleaned_orders() -> pd.DataFrame:
        return pd.DataFrame({"order_id": ["1", "1"], "date": [dt.date(2023, 1, 1)] * 2, "amount": [1.0, 2.0],
                             "quantity": [1, 1], "customer_id": ["1", "1"]})

    result = run_orders(s3_resources, assets=[duplicated_cleaned_orders, orders_summary], raise_on_error=False)
    assert not result.success
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks == {"cleaned_orders_unique_order_id": False}
    assert not result.asset_materializations_for_node("orders_summary")
