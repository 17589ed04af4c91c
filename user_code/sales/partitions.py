"""Partitions of the sales domain.

Daily partitions live in the schedule's timezone (``SCHEDULE_TIMEZONE``, default UTC):
a schedule built from a partitioned job runs in its partitions' timezone, and a
partition's window start is then the local calendar date matched in ``sales.date``.
"""

from dagster import DailyPartitionsDefinition, DynamicPartitionsDefinition

from ..environment import schedule_timezone
from ..io_managers import PARTITION_EXPR


DAILY_PARTITIONS = DailyPartitionsDefinition(start_date="2023-01-01", timezone=schedule_timezone())
PRODUCT_PARTITIONS_NAME = "products"
PRODUCT_PARTITIONS = DynamicPartitionsDefinition(name=PRODUCT_PARTITIONS_NAME)

# The IO manager splits a multi-partition output on these columns.
BY_DATE = {PARTITION_EXPR: "date"}
BY_PRODUCT = {PARTITION_EXPR: "product_id"}
