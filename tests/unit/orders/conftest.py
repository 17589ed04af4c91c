"""Running the orders graph against test resources."""

import pytest
from dagster import RunConfig, materialize

from user_code.io_managers import ParquetIOManager
from user_code.orders.assets import ORDERS_ASSETS, RawOrdersConfig, raw_orders
from user_code.orders.checks import ORDERS_CHECKS
from user_code.orders.storage import INCOMING_PREFIX


def put_csv(store, name: str, data: bytes) -> str:
    key = INCOMING_PREFIX + name
    store.put_bytes(key, data)
    return key


def run_orders(resources: dict, keys: list[str] | None = None, assets=None, raise_on_error: bool = True):
    """materialize() the orders graph (with its checks); ``keys=None`` is catch-up mode."""
    assets = assets or ORDERS_ASSETS
    config = RunConfig(ops={"raw_orders": RawOrdersConfig(object_keys=keys or [])}) if raw_orders in assets else None
    return materialize(
        [*assets, *ORDERS_CHECKS], resources=resources, run_config=config,
        raise_on_error=raise_on_error,
    )


def output_metadata(result, asset_name: str) -> dict:
    [materialization] = result.asset_materializations_for_node(asset_name)
    return {key: value.value for key, value in materialization.metadata.items()}


@pytest.fixture
def local_resources(local_store, warehouse) -> dict:
    return {"object_store": local_store, "warehouse": warehouse, "io_manager": ParquetIOManager(store=local_store)}
