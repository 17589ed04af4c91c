"""Helpers for the sales tests: definitions bound to test resources, a warehouse with hostile ids."""

import datetime as dt
import shutil

import pandas as pd
import pytest
import sqlalchemy as sa
from dagster import Definitions

from orders_and_sales.defs.sales import assets, automation, checks
from orders_and_sales.defs.sales.definitions import defs as daily_defs
from dagster_platform.resources import WarehouseResource
from orders_and_sales.defs.sales.schema import sales_table
from dagster_platform.environment import pipeline_resources

HOSTILE_IDS = ["'; DROP TABLE sales; --", "a/b/../c", 'ü "x"', "..", 'P-006 O\'Brien/ü "special"', "with space %2F"]


def range_tags(first: str, last: str) -> dict:
    """Run tags that make one run cover partitions first..last (a single-run backfill)."""
    return {"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last}


def bound_defs(resources: dict) -> Definitions:
    """The sales domain alone (defs/sales/), bound to ``resources``."""
    return Definitions.merge(
        daily_defs(),
        Definitions(
            assets=[assets.product_metrics],
            jobs=[automation.daily_sales_job, automation.product_metrics_job],
            schedules=[automation.daily_sales_schedule],
            sensors=[automation.product_partition_sensor],
            resources=resources,
        ),
    )


# The daily assets and their checks as the location builds them (SCHEDULE_TIMEZONE is unset
# in the tests: UTC).
DAILY_PARTITIONS = assets.daily_partitions()
DAILY_SALES, DAILY_SALES_SUMMARY = assets.daily_assets(DAILY_PARTITIONS)
SALES_CHECKS = checks.sales_checks(DAILY_PARTITIONS)


def query(path, sql: str) -> pd.DataFrame:
    """An independent read of the SQLite warehouse, bypassing the code under test."""
    engine = sa.create_engine(sa.URL.create("sqlite", database=str(path)))
    try:
        with engine.connect() as conn:
            return pd.read_sql_query(sa.text(sql), conn)
    finally:
        engine.dispose()


@pytest.fixture
def local_resources(local_store, warehouse) -> dict:
    return pipeline_resources(local_store, warehouse)


@pytest.fixture
def hostile_warehouse_path(tmp_path, warehouse_path):
    """A copy of the session warehouse with a few sales of products whose ids are hostile."""
    path = tmp_path / "hostile.db"
    shutil.copy(warehouse_path, path)
    rows = [
        {
            "sale_id": 10_000_000 + i,
            "date": dt.date(2023, 6, 1) + dt.timedelta(days=i % 3),
            "product_id": product,
            "customer_id": 1,
            "quantity": i + 1,
            "revenue": 1.5 * (i + 1),
        }
        for i, product in enumerate(HOSTILE_IDS * 2)
    ]
    engine = sa.create_engine(sa.URL.create("sqlite", database=str(path)))
    with engine.begin() as conn:
        conn.execute(sales_table.insert(), rows)
    engine.dispose()
    return path


@pytest.fixture
def hostile_warehouse(hostile_warehouse_path) -> WarehouseResource:
    return WarehouseResource(drivername="sqlite", database=str(hostile_warehouse_path))
