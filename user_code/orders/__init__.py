"""The orders domain; its Definitions are merged in user_code/definitions.py."""

from dagster import Definitions

from .assets import ORDERS_ASSETS
from .jobs import daily_pipeline, daily_schedule
from .sensors import file_sensor

defs = Definitions(
    assets=ORDERS_ASSETS,
    jobs=[daily_pipeline],
    schedules=[daily_schedule],
    sensors=[file_sensor],
)
