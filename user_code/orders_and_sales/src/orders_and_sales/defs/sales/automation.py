"""Jobs, the daily schedule and the product-partition sensor."""

from dagster import (
    AssetSelection,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    build_schedule_from_partitioned_job,
    define_asset_job,
    sensor,
)

from dagster_platform.resources import WarehouseResource
from . import storage
from .assets import PRODUCT_PARTITIONS, PRODUCT_PARTITIONS_NAME, product_metrics

# Partitioning is inferred from the selected assets (daily, and the dynamic `products`) when
# the definitions resolve; the daily assets are built when they load (definitions.py), so
# they are selected by key.
daily_sales_job = define_asset_job(
    "daily_sales_job", selection=AssetSelection.assets("daily_sales", "daily_sales_summary")
)
product_metrics_job = define_asset_job("product_metrics_job", selection=AssetSelection.assets(product_metrics))

# Each day at 02:00 the previous day's partition, in the partitions' timezone (SCHEDULE_TIMEZONE).
daily_sales_schedule = build_schedule_from_partitioned_job(
    daily_sales_job,
    name="daily_sales_schedule",
    hour_of_day=2,
    minute_of_hour=0,
    default_status=DefaultScheduleStatus.RUNNING,
)


# Dagster refuses these in partition keys ('...' denotes a range in the UI).
INVALID_KEY_SUBSTRINGS = ("...", "\a", "\b", "\f", "\n", "\r", "\t", "\v", "\0")


def usable_partition_key(product_id: str) -> bool:
    """Any non-blank id without the substrings Dagster refuses; quotes, slashes, unicode are fine."""
    return bool(product_id.strip()) and not any(bad in product_id for bad in INVALID_KEY_SUBSTRINGS)


@sensor(job=product_metrics_job, default_status=DefaultSensorStatus.RUNNING, minimum_interval_seconds=60)
def product_partition_sensor(context: SensorEvaluationContext, warehouse: WarehouseResource):
    """Adds a `products` partition for each new product and requests its product_metrics run."""
    known = set(context.instance.get_dynamic_partitions(PRODUCT_PARTITIONS_NAME))
    found = storage.product_ids(warehouse)
    unusable = [p for p in found if not usable_partition_key(p)]
    if unusable:
        context.log.warning(f"Skipping {len(unusable)} product ids that cannot be partition keys: {unusable[:5]!r}")
    new = [p for p in dict.fromkeys(found) if usable_partition_key(p) and p not in known]
    if not new:
        return SkipReason(f"No new products ({len(known)} known).")
    return SensorResult(
        dynamic_partitions_requests=[PRODUCT_PARTITIONS.build_add_request(new)],
        run_requests=[RunRequest(partition_key=p, run_key=f"products:{p}") for p in new],
    )
