"""daily_sales, daily_sales_summary and product_metrics."""

import pandas as pd
from dagster import AssetExecutionContext, BackfillPolicy, asset

from ..resources import NETWORK_RETRY_POLICY, WarehouseResource
from . import queries
from .logic import complete_product_metrics, summarize_daily
from .partitions import BY_DATE, BY_PRODUCT, DAILY_PARTITIONS, PRODUCT_PARTITIONS

GROUP = "sales"


@asset(
    group_name=GROUP, kinds={"sql", "pandas"}, partitions_def=DAILY_PARTITIONS,
    backfill_policy=BackfillPolicy.single_run(), metadata=BY_DATE, retry_policy=NETWORK_RETRY_POLICY,
)
def daily_sales(context: AssetExecutionContext, warehouse: WarehouseResource) -> pd.DataFrame:
    """The warehouse's sales of the run's days (one day, or a whole backfill range at once)."""
    window = context.partition_time_window
    frame = queries.sales_between(warehouse, window.start.date(), window.end.date())
    context.log.info(f"{len(frame)} sales from {window.start.date()} to {window.end.date()} (exclusive)")
    return frame


@asset(
    group_name=GROUP, kinds={"pandas"}, partitions_def=DAILY_PARTITIONS,
    backfill_policy=BackfillPolicy.single_run(), metadata=BY_DATE, retry_policy=NETWORK_RETRY_POLICY,
)
def daily_sales_summary(daily_sales: pd.DataFrame) -> pd.DataFrame:
    """Per date and product: revenue, quantity and number of sales."""
    return summarize_daily(daily_sales)


@asset(
    group_name=GROUP, kinds={"sql", "pandas"}, partitions_def=PRODUCT_PARTITIONS,
    backfill_policy=BackfillPolicy.single_run(), metadata=BY_PRODUCT, retry_policy=NETWORK_RETRY_POLICY,
)
def product_metrics(context: AssetExecutionContext, warehouse: WarehouseResource) -> pd.DataFrame:
    """Per product: total revenue, quantity and number of days with sales."""
    products = list(context.partition_keys)
    return complete_product_metrics(queries.product_totals(warehouse, products), products)
