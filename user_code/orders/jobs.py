"""The daily orders job and its schedule."""


from dagster import AssetSelection, DefaultScheduleStatus, RunConfig, ScheduleDefinition, define_asset_job

from ..environment import schedule_timezone
from .assets import ORDERS_ASSETS, RawOrdersConfig

DAILY_CRON = "0 2 * * *"

# Checks of the selected assets come along (AssetSelection includes them by default).
daily_pipeline = define_asset_job(
    "daily_pipeline",
    selection=AssetSelection.assets(*ORDERS_ASSETS),
    description="raw_orders -> cleaned_orders -> orders_summary, with their blocking checks.",
)


# No object keys: the run catches up on every incoming file whose current version is neither
# loaded nor rejected, a backstop for files whose sensor runs kept failing.
daily_schedule = ScheduleDefinition(
    name="daily_schedule",
    job=daily_pipeline,
    cron_schedule=DAILY_CRON,
    execution_timezone=schedule_timezone(),
    default_status=DefaultScheduleStatus.RUNNING,
    run_config=RunConfig(ops={"raw_orders": RawOrdersConfig(object_keys=[])}),
    tags={"orders/mode": "catch-up"},
)
