"""The sales domain's Definitions; merged in user_code/definitions.py."""

from dagster import Definitions

from .assets import daily_sales, daily_sales_summary, product_metrics
from .automation import daily_sales_job, daily_sales_schedule, product_metrics_job, product_partition_sensor
from .checks import SALES_CHECKS

defs = Definitions(
    assets=[daily_sales, daily_sales_summary, product_metrics],
    asset_checks=SALES_CHECKS,
    jobs=[daily_sales_job, product_metrics_job],
    schedules=[daily_sales_schedule],
    sensors=[product_partition_sensor],
)
