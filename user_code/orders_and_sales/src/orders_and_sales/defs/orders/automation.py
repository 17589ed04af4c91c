"""The orders domain's automation: daily_pipeline, its daily_schedule (the catch-up run) and
file_sensor, which requests daily_pipeline runs for every new or changed incoming/orders/*.csv
object, batched (rules in detection.py).

The schedule and the sensor depend on settings (SCHEDULE_TIMEZONE, ORDERS_SENSOR_INTERVAL_SECONDS),
so they are built when the location loads (definitions.py), never at import:
``build_daily_schedule()`` and ``build_file_sensor()``."""

from __future__ import annotations

import time
from collections.abc import Callable
from itertools import islice

from dagster import (
    AssetSelection,
    DagsterRunStatus,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    RunConfig,
    RunRequest,
    RunsFilter,
    ScheduleDefinition,
    SensorDefinition,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    define_asset_job,
    sensor,
)

from dagster_platform.environment import schedule_timezone
from dagster_platform.resources import ObjectStore, StorageError, StoredObject, WarehouseResource
from dagster_platform.variables import numeric_setting
from .assets import ORDERS_ASSETS, RawOrdersConfig
from .detection import MAX_FILES_IN_FLIGHT, SensorState, plan_batches, sweep, version_id
from .ingest import MAX_BATCH_BYTES, MAX_BATCH_FILES
from .ledger import OrdersLedger
from .storage import INCOMING_PREFIX, is_orders_csv

DAILY_CRON = "0 2 * * *"

# Checks of the selected assets come along (AssetSelection includes them by default).
daily_pipeline = define_asset_job(
    "daily_pipeline",
    selection=AssetSelection.assets(*ORDERS_ASSETS),
    description="raw_orders -> cleaned_orders -> orders_summary, with their blocking checks.",
)


def build_daily_schedule() -> ScheduleDefinition:
    """daily_schedule, at 02:00 in SCHEDULE_TIMEZONE (read now). No object keys: the run
    catches up on every incoming file whose current version is neither loaded nor rejected,
    a backstop for files whose sensor runs kept failing."""
    return ScheduleDefinition(
        name="daily_schedule",
        job=daily_pipeline,
        cron_schedule=DAILY_CRON,
        execution_timezone=schedule_timezone(),
        default_status=DefaultScheduleStatus.RUNNING,
        run_config=RunConfig(ops={"raw_orders": RawOrdersConfig(object_keys=[])}),
        tags={"orders/mode": "catch-up"},
    )


# A tick looks at no more than this many objects, for no longer than this, whatever the
# prefix holds; the sweep carries on at the next tick.
MAX_OBJECTS_PER_TICK = 10_000
LIST_BUDGET_SECONDS = 1.0

# The sensor daemon starts a tick at most once per loop, every 5 s, whatever the sensor's
# interval: an upload waited 2.5 s on average for the next tick. A tick that has nothing to
# request and saw a small prefix whole keeps watching it, one listing per WATCH_EVERY_SECONDS
# until WATCH_SECONDS after the tick began, and evaluates again as soon as a new key or ETag
# shows up. The window ends before the daemon's next loop, so no loop finds the tick still
# running; a big prefix is not watched (each listing would cost as much as the tick).
WATCH_SECONDS = 3.0
WATCH_EVERY_SECONDS = 1.0
WATCH_MAX_OBJECTS = 1_000
INTERVAL_VARIABLE = "ORDERS_SENSOR_INTERVAL_SECONDS"
MAX_INTERVAL_SECONDS = 15
FINISHED = [DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED]


def sensor_interval_seconds() -> int:
    return int(numeric_setting(INTERVAL_VARIABLE, int, 1, MAX_INTERVAL_SECONDS))


def run_request_for(batch: list[StoredObject], run_key: str) -> RunRequest:
    keys = [o.key for o in batch]
    return RunRequest(
        job_name=daily_pipeline.name,
        run_key=run_key,
        run_config=RunConfig(ops={"raw_orders": RawOrdersConfig(object_keys=keys)}),
        tags={"orders/mode": "files", "orders/files": str(len(keys)), "orders/first_key": keys[0][:200]},
    )


def finished_run_keys(context: SensorEvaluationContext, state: SensorState) -> set[str]:
    """Run keys of this sensor's in-flight batches whose run has finished (one query)."""
    if not state.in_flight:
        return set()
    runs = context.instance.get_runs(
        filters=RunsFilter(
            job_name=daily_pipeline.name,
            statuses=FINISHED,
            tags={"dagster/run_key": list(state.in_flight)},
        )
    )
    return {run.tags["dagster/run_key"] for run in runs if "dagster/run_key" in run.tags}


def build_file_sensor(
    clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep
) -> SensorDefinition:
    """file_sensor, evaluated at most every ORDERS_SENSOR_INTERVAL_SECONDS (read now); its
    watch measures its window with ``clock`` and waits with ``sleep`` (tests simulate them)."""

    @sensor(
        name="file_sensor",
        job=daily_pipeline,
        minimum_interval_seconds=sensor_interval_seconds(),
        default_status=DefaultSensorStatus.RUNNING,
        description="daily_pipeline runs, in batches, for every new or re-uploaded incoming/orders/*.csv object.",
    )
    def file_sensor(
        context: SensorEvaluationContext, object_store: ObjectStore, orders_db: WarehouseResource
    ) -> SensorResult:
        """Request runs for the incoming orders files whose current version is not loaded yet.

        Loaded and rejected versions come from the orders ledger, so a cursor reset never
        ingests a version twice (a repeated request loads nothing: the run checks again).
        """
        deadline = clock() + WATCH_SECONDS
        state = SensorState.parse(context.cursor)
        ledger = OrdersLedger(orders_db)
        result, listed = _evaluate(context, object_store, ledger, state)
        if result.run_requests or listed is None:
            return result
        while clock() + WATCH_EVERY_SECONDS <= deadline:
            sleep(WATCH_EVERY_SECONDS)
            now_listed = _small_listing(object_store)
            if now_listed is None:
                break
            if now_listed - listed:
                return _evaluate(context, object_store, ledger, state)[0]
        return result

    return file_sensor


def _small_listing(store: ObjectStore) -> set[tuple[str, str]] | None:
    """Key + ETag of every orders CSV in the prefix, or None when it is too big to watch or
    cannot be listed (the next tick reports why)."""
    try:
        objects = list(islice(store.list_objects(INCOMING_PREFIX), WATCH_MAX_OBJECTS + 1))
    except StorageError:
        return None
    if len(objects) > WATCH_MAX_OBJECTS:
        return None
    return {(o.key, o.etag) for o in objects if is_orders_csv(o.key)}


def _evaluate(
    context: SensorEvaluationContext, object_store: ObjectStore, ledger: OrdersLedger, state: SensorState
) -> tuple[SensorResult, set[tuple[str, str]] | None]:
    """One evaluation, and the orders CSVs it saw when it saw the whole prefix in one go and
    that prefix is small enough to watch (None otherwise)."""
    now = time.time()
    segments, state.position = _sweep(object_store, state.position)
    known = [ledger.known_versions(segment[0].key, segment[-1].key) for segment in segments]
    loaded = {k: e for versions, _ in known for k, e in versions.items()}
    rejected = set().union(*(r for _, r in known)) if known else set()

    def settled(key: str, etag: str) -> bool:
        return loaded.get(key) == etag or (key, etag) in rejected

    finished = finished_run_keys(context, state)
    done_loaded, done_rejected = ledger.versions_of(state.keys_of(finished))
    given_up = state.finish(
        finished,
        lambda key, etag: done_loaded.get(key) == etag or (key, etag) in done_rejected,
        now,
    )
    for vid in given_up:
        context.log.warning(f"Giving up on {vid} after repeated failed runs; the daily catch-up run will try again.")

    busy = state.in_flight_versions()
    pending, waiting = [], 0
    for item in (o for segment in segments for o in segment):
        if not is_orders_csv(item.key) or version_id(item.key, item.etag) in busy:
            continue
        if settled(item.key, item.etag):
            state.retries.pop(version_id(item.key, item.etag), None)
            continue
        attempt = state.attempt_of(item, now)
        if attempt is None:
            waiting += 1
        else:
            pending.append((attempt, item))

    requests, room = [], MAX_FILES_IN_FLIGHT - state.files_in_flight()
    for attempt in sorted({a for a, _ in pending}):
        items = [item for a, item in pending if a == attempt]
        for batch in plan_batches(items, MAX_BATCH_FILES, MAX_BATCH_BYTES):
            if len(batch) > room:
                break
            room -= len(batch)
            requests.append(run_request_for(batch, state.request(batch, attempt, now)))
    if requests:
        return SensorResult(run_requests=requests, cursor=state.dump()), None
    seen = [o for segment in segments for o in segment]
    if pending:
        reason = (
            f"{len(pending)} new or changed files under {INCOMING_PREFIX} wait for room: "
            f"{state.files_in_flight()} files are in runs still in flight (at most {MAX_FILES_IN_FLIGHT})."
        )
    else:
        reason = f"No new or changed files under {INCOMING_PREFIX} ({len(seen)} objects looked at"
        reason += f", {waiting} waiting to be retried)." if waiting else ")."
    whole = not pending and state.position is None and len(seen) <= WATCH_MAX_OBJECTS  # no room: no watch
    listed = {(o.key, o.etag) for o in seen if is_orders_csv(o.key)} if whole else None
    return SensorResult(skip_reason=SkipReason(reason), cursor=state.dump()), listed


def _sweep(store: ObjectStore, position: str | None):
    return sweep(
        lambda after: store.list_objects(INCOMING_PREFIX, start_after=after),
        lambda: store.list_objects(INCOMING_PREFIX),
        position,
        MAX_OBJECTS_PER_TICK,
        LIST_BUDGET_SECONDS,
    )
