"""What the orders domain builds when the location loads: the assets with
ORDERS_SUMMARY_FRESHNESS_MINUTES, daily_schedule and file_sensor with the SCHEDULE_TIMEZONE
and ORDERS_SENSOR_INTERVAL_SECONDS of that moment (load_from_defs_folder calls ``defs``).
daily_pipeline is a plain module-level definition."""

from dagster import Definitions, definitions

from .assets import orders_assets
from .automation import build_daily_schedule, build_file_sensor


@definitions
def defs() -> Definitions:
    return Definitions(assets=orders_assets(), schedules=[build_daily_schedule()], sensors=[build_file_sensor()])
