"""The product-partition sensor, the daily schedule and the jobs."""

import datetime as dt

import pytest
import orders_and_sales.definitions
from dagster import (
    AssetKey,
    DagsterInstance,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    SensorResult,
    SkipReason,
    build_schedule_context,
    build_sensor_context,
    instance_for_test,
)

from orders_and_sales.defs.sales.automation import product_partition_sensor, usable_partition_key
from orders_and_sales.defs.sales.storage import product_ids

from .conftest import HOSTILE_IDS, bound_defs


@pytest.fixture
def instance() -> DagsterInstance:
    return DagsterInstance.ephemeral()


def evaluate(instance, warehouse):
    with build_sensor_context(instance=instance, resources={"warehouse": warehouse}) as context:
        return product_partition_sensor(context)


def test_sensor_adds_new_products_and_requests_their_runs(instance, hostile_warehouse):
    everything = product_ids(hostile_warehouse)
    instance.add_dynamic_partitions("products", ["P-001"])
    result = evaluate(instance, hostile_warehouse)
    assert isinstance(result, SensorResult)
    new = [p for p in everything if p != "P-001"]
    [request] = result.dynamic_partitions_requests
    assert request.partitions_def_name == "products" and list(request.partition_keys) == new
    assert [r.partition_key for r in result.run_requests] == new
    assert len({r.run_key for r in result.run_requests}) == len(new)
    assert set(HOSTILE_IDS) <= set(new)


def test_sensor_requests_nothing_for_known_products(instance, warehouse):
    instance.add_dynamic_partitions("products", product_ids(warehouse))
    assert isinstance(evaluate(instance, warehouse), SkipReason)


def test_sensor_tick_is_valid_and_adds_partitions_once(warehouse, local_resources):
    """The full tick, as the daemon evaluates it: run requests are resolved against the new partitions."""
    defs = bound_defs(local_resources)
    sensor = defs.resolve_sensor_def("product_partition_sensor")
    assert sensor.default_status == DefaultSensorStatus.RUNNING
    with (
        instance_for_test() as instance,
        build_sensor_context(
            instance_ref=instance.get_ref(),
            resources={"warehouse": warehouse},
            definitions=defs,
        ) as context,
    ):
        data = sensor.evaluate_tick(context)
        assert len(data.run_requests) == len(product_ids(warehouse))
        assert sensor.job_name == "product_metrics_job"
        assert all(r.tags["dagster/partition"] == r.partition_key for r in data.run_requests)
        instance.add_dynamic_partitions("products", list(data.dynamic_partitions_requests[0].partition_keys))
        assert sensor.evaluate_tick(context).run_requests == []


@pytest.mark.parametrize(
    "key, usable", [("P-1", True), ('ü "x" /..', True), ("  ", False), ("a...b", False), ("a\nb", False)]
)
def test_usable_partition_keys(key, usable):
    assert usable_partition_key(key) is usable


def test_schedule_runs_yesterdays_partition_at_two(local_resources):
    schedule = bound_defs(local_resources).resolve_schedule_def("daily_sales_schedule")
    assert schedule.cron_schedule == "0 2 * * *"
    assert schedule.execution_timezone == "UTC"
    assert schedule.default_status == DefaultScheduleStatus.RUNNING
    assert schedule.job_name == "daily_sales_job"
    context = build_schedule_context(
        instance=DagsterInstance.ephemeral(),
        scheduled_execution_time=dt.datetime(2023, 3, 5, 2, 0, tzinfo=dt.timezone.utc),
    )
    [request] = schedule.evaluate_tick(context).run_requests
    assert request.partition_key == "2023-03-04"


def test_schedule_timezone_is_read_when_the_location_loads(monkeypatch, tmp_path):
    monkeypatch.setenv("SCHEDULE_TIMEZONE", "Europe/Berlin")
    monkeypatch.setenv("DAGSTER_DEPLOYMENT", "local")
    monkeypatch.setenv("LOCAL_DATA_DIR", str(tmp_path))
    defs = orders_and_sales.definitions.defs()
    schedule = defs.resolve_schedule_def("daily_sales_schedule")
    assert (schedule.execution_timezone, schedule.cron_schedule) == ("Europe/Berlin", "0 2 * * *")
    graph = defs.resolve_asset_graph()
    for key in ("daily_sales", "daily_sales_summary"):
        assert graph.get(AssetKey(key)).partitions_def.timezone == "Europe/Berlin"
    assert defs.resolve_job_def("daily_sales_job").partitions_def.timezone == "Europe/Berlin"


def test_jobs_select_the_sales_assets(local_resources):
    defs = bound_defs(local_resources)
    daily = defs.resolve_job_def("daily_sales_job")
    assert {k.to_user_string() for k in daily.asset_layer.executable_asset_keys} == {
        "daily_sales",
        "daily_sales_summary",
    }
    # that its checks run with it: see test_a_year_backfill_is_one_run_of_the_job_writing_365_files
    metrics = defs.resolve_job_def("product_metrics_job")
    assert metrics.partitions_def.name == "products"
