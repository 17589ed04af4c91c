"""The orders domain's Definitions; merged in user_code/definitions.py."""

from dagster import Definitions

from .assets import ORDERS_ASSETS
from .automation import daily_pipeline, daily_schedule, file_sensor

defs = Definitions(
    assets=ORDERS_ASSETS,
    jobs=[daily_pipeline],
    schedules=[daily_schedule],
    sensors=[file_sensor],
)
