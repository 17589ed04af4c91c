"""file_sensor (detection, batching, retries) and daily_schedule."""

import datetime as dt
import json
import time
from contextlib import contextmanager

import pytest
import orders_and_sales.definitions
from dagster import (
    AssetKey,
    DagsterInstance,
    DagsterRun,
    DagsterRunStatus,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    FreshnessPolicy,
    build_schedule_context,
    build_sensor_context,
)

from dagster_platform.variables import ConfigurationError
from orders_and_sales.defs.orders.detection import MAX_ATTEMPTS, SensorState, plan_batches, sweep
from orders_and_sales.defs.orders import automation
from orders_and_sales.defs.orders.automation import build_daily_schedule, build_file_sensor, sensor_interval_seconds
from dagster_platform.resources import S3ObjectStore, StoredObject

from .conftest import put_csv, run_orders
from .helpers import csv_bytes

ROW = csv_bytes("1,2023-01-01,1,10,1")
T0 = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)


@pytest.fixture(autouse=True)
def no_listing_deadline(monkeypatch):
    """The sensor's time budget is tested with a fake clock (test_sweep_stops_at_its_time_budget);
    elsewhere the object caps decide, so a loaded machine cannot change what a tick sees."""
    monkeypatch.setattr(automation, "LIST_BUDGET_SECONDS", 600)
    monkeypatch.setattr(automation, "WATCH_SECONDS", 0)  # the watch has tests of its own


@pytest.fixture
def watching(monkeypatch, simulated_time):
    """A short watch on simulated time; returns the (simulated) times of the listings it made."""
    monkeypatch.setattr(automation, "WATCH_SECONDS", 2.0)
    monkeypatch.setattr(automation, "WATCH_EVERY_SECONDS", 0.25)
    listings = []
    real = automation._small_listing

    def counted(store):
        listings.append(simulated_time.now)
        return real(store)

    monkeypatch.setattr(automation, "_small_listing", counted)
    return listings


def tick(resources, cursor=None, instance=None, simulated=None):
    """One file_sensor evaluation; its watch runs on ``simulated`` time when given."""
    resources = {"object_store": resources["object_store"], "orders_db": resources["orders_db"]}
    with DagsterInstance.ephemeral() as ephemeral:
        with build_sensor_context(cursor=cursor, resources=resources, instance=instance or ephemeral) as context:
            sensor = build_file_sensor(simulated.clock, simulated.sleep) if simulated else build_file_sensor()
            return sensor(context)


def requested(result) -> list[list[str]]:
    return [r.run_config["ops"]["raw_orders"]["config"]["object_keys"] for r in result.run_requests]


def obj(key: str, size: int = 10) -> StoredObject:
    return StoredObject(key, "e-" + key, size, T0)


@contextmanager
def many_objects(s3_store, keys: list[str]):
    """Objects straight into the in-process moto backend (10,000 PUTs over HTTP take a minute)."""
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


def test_a_new_file_gets_a_run_of_its_own(s3_resources, s3_store):
    key = put_csv(s3_store, "2023-01-01.csv", ROW)
    s3_store.put_bytes("incoming/orders/notes.txt", b"x")
    result = tick(s3_resources)
    [request] = result.run_requests
    assert requested(result) == [[key]]
    assert request.run_key.startswith("orders:") and request.run_key.endswith(":0")
    assert request.tags["orders/files"] == "1"
    assert request.job_name == "daily_pipeline"
    assert key in json.dumps(json.loads(result.cursor)["in_flight"])


def test_a_batch_in_flight_is_not_requested_again(s3_resources, s3_store):
    put_csv(s3_store, "a.csv", ROW)
    first = tick(s3_resources)
    second = tick(s3_resources, first.cursor)
    assert not second.run_requests and "No new or changed files" in second.skip_reason.skip_message


def test_loaded_versions_are_never_requested_again_even_after_a_cursor_reset(s3_resources, s3_store):
    key = put_csv(s3_store, "a.csv", ROW)
    run_orders(s3_resources, [key])
    assert not tick(s3_resources).run_requests  # no cursor at all
    put_csv(s3_store, "a.csv", ROW)  # identical content: same ETag
    assert not tick(s3_resources).run_requests
    put_csv(s3_store, "a.csv", ROW + b"2,2023-01-01,1,5,1\n")  # a correction
    assert requested(tick(s3_resources)) == [[key]]


def test_names_that_sort_before_loaded_ones_are_found(s3_resources, s3_store):
    run_orders(s3_resources, [put_csv(s3_store, "north.csv", ROW)])
    cursor = tick(s3_resources).cursor
    early = put_csv(s3_store, "east.csv", ROW)
    assert requested(tick(s3_resources, cursor)) == [[early]]


def test_rejected_versions_wait_for_new_content(s3_resources, s3_store):
    key = put_csv(s3_store, "bad.csv", b"nonsense")
    run_orders(s3_resources, [key], raise_on_error=False)
    assert not tick(s3_resources).run_requests
    put_csv(s3_store, "bad.csv", ROW)
    assert requested(tick(s3_resources)) == [[key]]


def test_a_burst_is_batched(s3_resources, s3_store):
    keys = [put_csv(s3_store, f"{i:03d}.csv", ROW) for i in range(230)]
    batches = requested(tick(s3_resources))
    assert [len(b) for b in batches] == [100, 100, 30]
    assert sorted(k for b in batches for k in b) == keys


def test_batches_are_bounded_by_bytes():
    items = [obj("a", 60), obj("b", 60), obj("c", 10), obj("d", 200), obj("e", 1)]
    assert [[o.key for o in b] for b in plan_batches(items, max_files=10, max_bytes=100)] == [
        ["a"],
        ["b", "c"],
        ["d"],
        ["e"],
    ]
    assert plan_batches([], 10, 100) == []


def test_sweep_visits_every_object_within_budgeted_ticks():
    keys = [f"k{i:02d}" for i in range(10)]

    def after(position):
        return (obj(k) for k in keys if k > position)

    def start():
        return (obj(k) for k in keys)

    seen, position = set(), None
    for _ in range(4):  # ceil(10 / 3) ticks
        segments, position = sweep(after, start, position, max_objects=3, budget_s=60)
        assert sum(map(len, segments)) <= 3
        seen |= {o.key for s in segments for o in s}
    assert seen == set(keys)
    segments, position = sweep(after, start, None, max_objects=100, budget_s=60)
    assert [o.key for o in segments[0]] == keys and position is None


def test_sweep_stops_at_its_time_budget():
    clock = iter(range(100)).__next__  # one "second" per call
    segments, position = sweep(
        lambda p: iter(()), lambda: (obj(f"k{i}") for i in range(50)), None, max_objects=1_000, budget_s=3, clock=clock
    )
    assert sum(map(len, segments)) == 4 and position == "k3"


def test_a_failed_run_is_retried_with_backoff_then_given_up():
    state = SensorState()
    item = obj("incoming/orders/a.csv")
    run_key = state.request([item], attempt=0, now=0)
    never = lambda key, etag: False  # noqa: E731
    assert state.finish([run_key], never, now=10) == []
    assert state.attempt_of(item, now=10) is None  # backing off
    assert state.attempt_of(item, now=31) == 1
    now = 31
    for attempt in range(1, MAX_ATTEMPTS):
        run_key = state.request([item], attempt=attempt, now=now)
        given_up = state.finish([run_key], never, now=now)
        now += 10_000
    assert given_up == [f"{item.key}@{item.etag}"] and state.attempt_of(item, now) is None
    assert SensorState.parse(state.dump()) == state


def test_a_finished_run_that_loaded_its_files_leaves_nothing_to_retry():
    state = SensorState()
    run_key = state.request([obj("incoming/orders/a.csv")], attempt=0, now=0)
    assert state.finish(["another run"], lambda k, e: True, now=5) == [] and run_key in state.in_flight
    state.finish([run_key], lambda k, e: True, now=5)
    assert state.in_flight == {} and state.retries == {}


def test_the_sensor_retries_the_files_of_a_failed_run(s3_resources, s3_store):
    key = put_csv(s3_store, "a.csv", ROW)
    with DagsterInstance.ephemeral() as instance:
        first = tick(s3_resources, instance=instance)
        [request] = first.run_requests
        instance.add_run(
            DagsterRun(
                job_name="daily_pipeline", status=DagsterRunStatus.FAILURE, tags={"dagster/run_key": request.run_key}
            )
        )
        state = SensorState.parse(tick(s3_resources, first.cursor, instance).cursor)
        assert state.in_flight == {} and list(state.retries) == [f"{key}@{s3_store.head(key).etag}"]
        state.retries[next(iter(state.retries))][1] = time.time() - 1  # the back-off is over
        [retry] = tick(s3_resources, state.dump(), instance).run_requests
        assert retry.run_key.endswith(":1") and requested(tick(s3_resources, state.dump(), instance)) == [[key]]


def test_a_tick_with_nothing_to_do_watches_a_small_prefix_for_uploads(
    s3_resources, s3_store, simulated_time, monkeypatch
):
    monkeypatch.setattr(automation, "WATCH_SECONDS", 5.0)
    monkeypatch.setattr(automation, "WATCH_EVERY_SECONDS", 0.25)
    run_orders(s3_resources, [put_csv(s3_store, "a.csv", ROW)])
    real, listings = automation._small_listing, []

    def upload_during_the_watch(store):
        listings.append(store)
        if len(listings) == 2:
            put_csv(s3_store, "b.csv", ROW)
        return real(store)

    monkeypatch.setattr(automation, "_small_listing", upload_during_the_watch)
    result = tick(s3_resources, simulated=simulated_time)
    assert requested(result) == [[automation.INCOMING_PREFIX + "b.csv"]]
    assert len(listings) == 2 and simulated_time.sleeps == [0.25, 0.25]  # found at once, not at the window's end


def test_a_watch_without_uploads_ends_in_time_with_the_first_answer(
    s3_resources, s3_store, watching, simulated_time, monkeypatch
):
    monkeypatch.setattr(automation, "WATCH_SECONDS", 4.0)
    result = tick(s3_resources, simulated=simulated_time)
    assert not result.run_requests and "No new or changed files" in result.skip_reason.skip_message
    # One listing every 0.25 s of the window, the last one at its end, none after.
    assert watching == [0.25 * i for i in range(1, 17)] and simulated_time.now == 4.0


def test_big_prefixes_and_requesting_ticks_are_not_watched(
    s3_resources, simulated_time, s3_store, watching, monkeypatch
):
    put_csv(s3_store, "a.csv", ROW)
    assert tick(s3_resources, simulated=simulated_time).run_requests and not watching
    monkeypatch.setattr(automation, "WATCH_MAX_OBJECTS", 0)
    run_orders(s3_resources, [automation.INCOMING_PREFIX + "a.csv"])
    assert not tick(s3_resources, simulated=simulated_time).run_requests and not watching


def test_a_store_that_fails_during_the_watch_ends_it(s3_resources, simulated_time, s3_store, watching, monkeypatch):
    real, calls = S3ObjectStore.list_objects, []

    def down_after_the_first_listing(self, *args, **kwargs):
        calls.append(args)
        if len(calls) > 1:
            raise automation.StorageError("Cannot reach the object store")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(S3ObjectStore, "list_objects", down_after_the_first_listing)
    monkeypatch.setattr(automation, "WATCH_SECONDS", 10.0)
    result = tick(s3_resources, simulated=simulated_time)
    assert "No new or changed files" in result.skip_reason.skip_message  # the evaluation's answer stands
    assert watching == [0.25] and simulated_time.now == 0.25  # ended by the failed listing, not the 10 s window


def test_files_without_room_are_reported_as_waiting_and_not_watched(
    s3_resources, simulated_time, s3_store, watching, monkeypatch
):
    monkeypatch.setattr(automation, "MAX_FILES_IN_FLIGHT", 0)
    put_csv(s3_store, "a.csv", ROW)
    result = tick(s3_resources, simulated=simulated_time)
    assert not result.run_requests and not watching
    assert result.skip_reason.skip_message.startswith("1 new or changed files under incoming/orders/ wait for room")


def test_an_old_cursor_format_starts_a_fresh_sweep():
    assert SensorState.parse("incoming/orders/x.csv") == SensorState()


def test_ten_thousand_objects_on_s3(s3_resources, s3_store):
    keys = [f"incoming/orders/{i:05d}.csv" for i in range(10_000)]
    with many_objects(s3_store, keys):
        result = tick(s3_resources)
        batches = requested(result)
    assert sum(map(len, batches)) == 2_000  # MAX_FILES_IN_FLIGHT
    assert all(len(b) == 100 for b in batches)


def test_sensor_definition():
    file_sensor = build_file_sensor()
    assert file_sensor.name == "file_sensor"
    assert file_sensor.default_status == DefaultSensorStatus.RUNNING
    assert file_sensor.job_name == "daily_pipeline"


def load_location(monkeypatch, tmp_path):
    monkeypatch.setenv("DAGSTER_DEPLOYMENT", "local")
    monkeypatch.setenv("LOCAL_DATA_DIR", str(tmp_path))
    return orders_and_sales.definitions.defs()


def test_settings_are_read_when_the_location_loads_not_at_import(monkeypatch, tmp_path):
    monkeypatch.setenv("ORDERS_SENSOR_INTERVAL_SECONDS", "7")
    monkeypatch.setenv("SCHEDULE_TIMEZONE", "Europe/Berlin")
    monkeypatch.setenv("ORDERS_SUMMARY_FRESHNESS_MINUTES", "2")
    defs = load_location(monkeypatch, tmp_path)
    assert defs.resolve_sensor_def("file_sensor").minimum_interval_seconds == 7
    assert defs.resolve_schedule_def("daily_schedule").execution_timezone == "Europe/Berlin"
    summary = defs.resolve_assets_def("orders_summary").specs_by_key[AssetKey("orders_summary")]
    assert summary.freshness_policy == FreshnessPolicy.time_window(fail_window=dt.timedelta(minutes=2))
    monkeypatch.setenv("ORDERS_SENSOR_INTERVAL_SECONDS", "16")
    with pytest.raises(Exception, match="orders/definitions.py") as raised:  # Dagster's loader names the module
        load_location(monkeypatch, tmp_path)
    assert isinstance(raised.value.__cause__, ConfigurationError)
    assert "ORDERS_SENSOR_INTERVAL_SECONDS='16' must be between 1 and 15" in str(raised.value.__cause__)


def test_a_summary_freshness_under_a_minute_stops_the_location_naming_the_variable(monkeypatch, tmp_path):
    monkeypatch.setenv("ORDERS_SUMMARY_FRESHNESS_MINUTES", "0")
    with pytest.raises(Exception, match="orders/definitions.py") as raised:
        load_location(monkeypatch, tmp_path)
    assert "ORDERS_SUMMARY_FRESHNESS_MINUTES='0' must be at least 1" in str(raised.value.__cause__)


@pytest.mark.parametrize("value, ok", [("5", True), ("15", True), ("16", False), ("0", False), ("ten", False)])
def test_sensor_interval_from_environment(monkeypatch, value, ok):
    monkeypatch.setenv("ORDERS_SENSOR_INTERVAL_SECONDS", value)
    if ok:
        assert sensor_interval_seconds() == int(value)
    else:
        with pytest.raises(ConfigurationError, match="ORDERS_SENSOR_INTERVAL_SECONDS"):
            sensor_interval_seconds()


def test_schedule_evaluation():
    daily_schedule = build_daily_schedule()
    assert daily_schedule.name == "daily_schedule" and daily_schedule.execution_timezone == "UTC"
    assert daily_schedule.cron_schedule == "0 2 * * *"
    assert daily_schedule.default_status == DefaultScheduleStatus.RUNNING
    context = build_schedule_context(scheduled_execution_time=dt.datetime(2024, 1, 2, 2, tzinfo=dt.timezone.utc))
    [request] = daily_schedule.evaluate_tick(context).run_requests
    assert request.run_config["ops"] == {"raw_orders": {"config": {"object_keys": []}}}
    assert request.tags["orders/mode"] == "catch-up"
