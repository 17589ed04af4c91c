"""What the orders domain builds when the location loads: daily_schedule and file_sensor,
with the SCHEDULE_TIMEZONE and ORDERS_SENSOR_INTERVAL_SECONDS of that moment
(load_from_defs_folder calls ``defs``). daily_pipeline and the assets are plain
module-level definitions."""

from dagster import Definitions, definitions

from .automation import build_daily_schedule, build_file_sensor


@definitions
def defs() -> Definitions:
    return Definitions(schedules=[build_daily_schedule()], sensors=[build_file_sensor()])
