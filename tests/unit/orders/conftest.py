"""Running the orders step against test resources."""

import time

import pytest
from dagster import RunConfig, materialize

from dagster_platform.environment import pipeline_resources
from orders_and_sales.defs.orders.assets import ORDERS_ASSETS, RawOrdersConfig
from orders_and_sales.defs.orders.storage import INCOMING_PREFIX, SUMMARY_KEY
from dagster_platform.io_managers import from_parquet_bytes


def put_csv(store, name: str, data: bytes) -> str:
    key = INCOMING_PREFIX + name
    store.put_bytes(key, data)
    return key


def put_csv_later(store, name: str, data: bytes, than: str, within: float = 5.0) -> str:
    """put_csv, written again until its LastModified is later than that of ``than`` (S3's has
    one-second resolution), so "the later upload" is a fact, not an assumption."""
    key, deadline = put_csv(store, name, data), time.monotonic() + within
    while store.head(key).last_modified <= store.head(than).last_modified:
        if time.monotonic() > deadline:
            raise AssertionError(f"{key} is not later than {than} after {within} s")
        time.sleep(0.05)
        store.put_bytes(key, data)
    return key


def run_orders(resources: dict, keys: list[str] | None = None, raise_on_error: bool = True):
    """materialize() the orders step (with its checks); ``keys=None`` is catch-up mode."""
    config = RunConfig(ops={"raw_orders": RawOrdersConfig(object_keys=keys or [])})
    return materialize(ORDERS_ASSETS, resources=resources, run_config=config, raise_on_error=raise_on_error)


def output_metadata(result, asset_name: str) -> dict:
    [materialization] = [
        m for m in result.get_asset_materialization_events() if m.asset_key.to_user_string() == asset_name
    ]
    return {key: value.value for key, value in materialization.materialization.metadata.items()}


def summary_of(store):
    return from_parquet_bytes(store.get_bytes(SUMMARY_KEY))


@pytest.fixture
def local_resources(local_store, warehouse, sqlite_orders_db) -> dict:
    """The local mode's resources: a folder lake, SQLite warehouse and orders store."""
    return pipeline_resources(local_store, warehouse, sqlite_orders_db)
