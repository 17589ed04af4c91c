"""file_sensor: one daily_pipeline run per new incoming/orders/*.csv object."""


import os
from itertools import islice

from dagster import (
    DefaultSensorStatus, RunConfig, RunRequest, SensorEvaluationContext, SensorResult, SkipReason, sensor,
)

from ..environment import ConfigurationError
from ..resources import ObjectStore
from .assets import RawOrdersConfig
from .jobs import daily_pipeline
from .storage import INCOMING_PREFIX, is_orders_csv

MAX_RUN_REQUESTS_PER_TICK = 500
# Objects looked at per tick, .csv or not, so a prefix full of other files cannot stall a tick.
MAX_OBJECTS_PER_TICK = 5_000
INTERVAL_VARIABLE = "ORDERS_SENSOR_INTERVAL_SECONDS"
MAX_INTERVAL_SECONDS = 15


def sensor_interval_seconds() -> int:
    raw = os.environ.get(INTERVAL_VARIABLE) or "10"
    try:
        seconds = int(raw)
    except ValueError:
        raise ConfigurationError(f"{INTERVAL_VARIABLE}={raw!r} is not a whole number of seconds.") from None
    if not 1 <= seconds <= MAX_INTERVAL_SECONDS:
        raise ConfigurationError(f"{INTERVAL_VARIABLE}={seconds} must be between 1 and {MAX_INTERVAL_SECONDS}.")
    return seconds


def run_request_for(key: str, etag: str) -> RunRequest:
    return RunRequest(
        run_key=f"{key}:{etag}",
        run_config=RunConfig(ops={"raw_orders": RawOrdersConfig(object_keys=[key])}),
        tags={"orders/object_key": key, "orders/etag": etag, "orders/mode": "file"},
    )


@sensor(
    name="file_sensor",
    job=daily_pipeline,
    minimum_interval_seconds=sensor_interval_seconds(),
    default_status=DefaultSensorStatus.RUNNING,
    description="One daily_pipeline run per new incoming/orders/*.csv object.",
)
def file_sensor(context: SensorEvaluationContext, object_store: ObjectStore) -> SensorResult:
    """Request one run per new orders CSV, resuming after the last key seen.

    The cursor is the last object key this sensor looked at; each tick lists only keys
    after it (S3 ``StartAfter``), so a tick costs the same with 10 or 10,000 old objects
    in the prefix. A tick requests at most ``MAX_RUN_REQUESTS_PER_TICK`` runs and looks at
    most at ``MAX_OBJECTS_PER_TICK`` objects; the cursor advances only over what it looked
    at, and the next tick carries on from there.

    This assumes keys sort in arrival order (e.g. timestamped names). A file whose key
    sorts before the cursor when it arrives, or an object re-uploaded under an old key,
    is not seen here: the daily catch-up run (``daily_schedule``) ingests every incoming
    file that is not staged yet. ``run_key`` is ``<key>:<etag>``, so an identical object
    never launches a second run even if the cursor is reset.
    """
    requests, last_key = [], None
    for item in islice(object_store.list_objects(INCOMING_PREFIX, start_after=context.cursor), MAX_OBJECTS_PER_TICK):
        last_key = item.key
        if is_orders_csv(item.key):
            requests.append(run_request_for(item.key, item.etag))
            if len(requests) >= MAX_RUN_REQUESTS_PER_TICK:
                break
    if last_key is None:
        return SensorResult(skip_reason=SkipReason(f"No new objects under {INCOMING_PREFIX}."))
    return SensorResult(run_requests=requests, cursor=last_key)
