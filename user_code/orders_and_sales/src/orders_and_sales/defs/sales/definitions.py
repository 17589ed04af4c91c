"""What the sales domain builds when the location loads: the daily assets and their checks,
in the SCHEDULE_TIMEZONE of that moment (load_from_defs_folder calls ``defs``). The rest of
the domain (product_metrics, the jobs, the schedule and the sensor) is plain module-level
definitions; daily_sales_schedule takes its timezone from these partitions."""

from dagster import Definitions, definitions

from .assets import daily_assets, daily_partitions
from .checks import sales_checks


@definitions
def defs() -> Definitions:
    partitions = daily_partitions()
    return Definitions(assets=daily_assets(partitions), asset_checks=sales_checks(partitions))
