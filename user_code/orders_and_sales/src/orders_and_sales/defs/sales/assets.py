"""daily_sales, daily_sales_summary and product_metrics, and their partitions.

Daily partitions live in the schedule's timezone (``SCHEDULE_TIMEZONE``, default UTC):
a schedule built from a partitioned job runs in its partitions' timezone, and a
partition's window start is then the local calendar date matched in ``sales.date``.
That setting is read when the location loads (definitions.py), so the two daily assets
are built there by ``daily_assets``; product_metrics depends on no setting.
"""

from typing import Any

import pandas as pd
from dagster import (
    AssetExecutionContext,
    AssetsDefinition,
    BackfillPolicy,
    DailyPartitionsDefinition,
    DynamicPartitionsDefinition,
    asset,
)

from dagster_platform.environment import schedule_timezone
from dagster_platform.io_managers import PARTITION_EXPR
from dagster_platform.resources import NETWORK_RETRY_POLICY, WarehouseResource
from . import storage
from .logic import complete_product_metrics, summarize_daily

GROUP = "sales"
DAILY_START = "2023-01-01"
PRODUCT_PARTITIONS_NAME = "products"
PRODUCT_PARTITIONS = DynamicPartitionsDefinition(name=PRODUCT_PARTITIONS_NAME)

# The IO manager splits a multi-partition output on these columns.
BY_DATE = {PARTITION_EXPR: "date"}
BY_PRODUCT = {PARTITION_EXPR: "product_id"}


def daily_partitions() -> DailyPartitionsDefinition:
    """One partition a day from DAILY_START, in SCHEDULE_TIMEZONE (read now)."""
    return DailyPartitionsDefinition(start_date=DAILY_START, timezone=schedule_timezone())


def daily_assets(partitions_def: DailyPartitionsDefinition) -> tuple[AssetsDefinition, AssetsDefinition]:
    """daily_sales and daily_sales_summary, partitioned by ``partitions_def``."""
    daily: dict[str, Any] = {
        "group_name": GROUP,
        "partitions_def": partitions_def,
        "backfill_policy": BackfillPolicy.single_run(),
        "metadata": BY_DATE,
        "retry_policy": NETWORK_RETRY_POLICY,
    }

    @asset(kinds={"sql", "pandas"}, **daily)
    def daily_sales(context: AssetExecutionContext, warehouse: WarehouseResource) -> pd.DataFrame:
        """The warehouse's sales of the run's days (one day, or a whole backfill range at once)."""
        window = context.partition_time_window
        frame = storage.sales_between(warehouse, window.start.date(), window.end.date())
        context.log.info(f"{len(frame)} sales from {window.start.date()} to {window.end.date()} (exclusive)")
        return frame

    @asset(kinds={"pandas"}, **daily)
    def daily_sales_summary(daily_sales: pd.DataFrame) -> pd.DataFrame:
        """Per date and product: revenue, quantity and number of sales."""
        return summarize_daily(daily_sales)

    return daily_sales, daily_sales_summary


@asset(
    group_name=GROUP,
    kinds={"sql", "pandas"},
    partitions_def=PRODUCT_PARTITIONS,
    backfill_policy=BackfillPolicy.single_run(),
    metadata=BY_PRODUCT,
    retry_policy=NETWORK_RETRY_POLICY,
)
def product_metrics(context: AssetExecutionContext, warehouse: WarehouseResource) -> pd.DataFrame:
    """Per product: total revenue, quantity and number of days with sales."""
    products = list(context.partition_keys)
    return complete_product_metrics(storage.product_totals(warehouse, products), products)
