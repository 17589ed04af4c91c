"""raw_customers from the warehouse, then bronze/silver/gold in one multi-asset."""

import pandas as pd
from dagster import AssetExecutionContext, AssetSpec, Output, asset, multi_asset

from dagster_platform.resources import NETWORK_RETRY_POLICY, WarehouseResource
from .logic import to_bronze, to_gold, to_silver
from .schema import customers_table

GROUP = "customers"
CUSTOMERS_SQL = f"SELECT {', '.join(customers_table.columns.keys())} FROM customers ORDER BY customer_id"


@asset(group_name=GROUP, kinds={"sql", "pandas"}, retry_policy=NETWORK_RETRY_POLICY)
def raw_customers(warehouse: WarehouseResource) -> pd.DataFrame:
    """Every row of the warehouse `customers` table."""
    frame = warehouse.read_frame(CUSTOMERS_SQL)
    # Postgres returns Decimal for numeric columns, SQLite float: one dtype for both.
    frame["lifetime_value"] = frame["lifetime_value"].astype(float)
    frame["signup_date"] = pd.to_datetime(frame["signup_date"]).dt.date
    return frame


def _spec(name: str, upstream: str, description: str) -> AssetSpec:
    return AssetSpec(
        name,
        deps=[upstream],
        group_name=GROUP,
        kinds={"pandas"},
        description=description,
    ).with_io_manager_key("io_manager")


@multi_asset(
    specs=[
        _spec("customers_bronze", "raw_customers", "Raw customers plus the id of the ingesting run."),
        _spec("customers_silver", "customers_bronze", "Customers with an id and an email, email lower-cased."),
        _spec("customers_gold", "customers_silver", "Per segment: customer count and mean lifetime value."),
    ],
    retry_policy=NETWORK_RETRY_POLICY,
)
def customers_medallion(context: AssetExecutionContext, raw_customers: pd.DataFrame):
    bronze = to_bronze(raw_customers, context.run.run_id)
    silver = to_silver(bronze)
    gold = to_gold(silver)
    yield Output(bronze, output_name="customers_bronze")
    yield Output(silver, output_name="customers_silver", metadata={"dropped_rows": len(bronze) - len(silver)})
    yield Output(gold, output_name="customers_gold")
