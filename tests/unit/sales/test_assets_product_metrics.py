"""product_metrics for hostile product ids: bound in SQL, quoted in object keys, table intact."""

import pytest
from dagster import DagsterInstance, materialize

from dagster_platform.io_managers import from_parquet_bytes, partition_file_name
from orders_and_sales.defs.sales.assets import product_metrics
from dagster_platform.environment import pipeline_resources

from .conftest import HOSTILE_IDS, query, range_tags

EXPECTED_SQL = (
    "SELECT product_id, SUM(revenue) AS revenue, SUM(quantity) AS quantity, COUNT(DISTINCT date) AS active_days "
    "FROM sales GROUP BY product_id"
)


@pytest.fixture
def resources(s3_store, hostile_warehouse) -> dict:
    return pipeline_resources(s3_store, hostile_warehouse)


@pytest.fixture
def instance() -> DagsterInstance:
    instance = DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("products", [*HOSTILE_IDS, "P-001", "never-sold"])
    return instance


def _inside_prefix(s3_store) -> list[str]:
    keys = [o.key for o in s3_store.list_objects("")]
    assert all(key.startswith("lake/product_metrics/") and key.count("/") == 2 for key in keys), keys
    return keys


@pytest.mark.parametrize("product", HOSTILE_IDS)
def test_one_hostile_product(resources, instance, s3_store, hostile_warehouse_path, product):
    before = query(hostile_warehouse_path, "SELECT COUNT(*) AS n FROM sales")["n"][0]
    result = materialize([product_metrics], resources=resources, instance=instance, partition_key=product)
    assert result.success
    key = f"lake/product_metrics/{partition_file_name(product)}"
    assert _inside_prefix(s3_store) == [key]
    metadata = result.asset_materializations_for_node("product_metrics")[0].metadata
    assert metadata["dagster/uri"].value == f"s3://{s3_store.bucket}/{key}"
    assert metadata["dagster/row_count"].value == 1

    stored = from_parquet_bytes(s3_store.get_bytes(key)).iloc[0]
    expected = query(hostile_warehouse_path, EXPECTED_SQL).set_index("product_id").loc[product]
    assert stored["product_id"] == product
    assert stored["revenue"] == pytest.approx(expected["revenue"])
    assert (stored["quantity"], stored["active_days"]) == (expected["quantity"], expected["active_days"])
    assert query(hostile_warehouse_path, "SELECT COUNT(*) AS n FROM sales")["n"][0] == before


def test_every_product_in_one_run(resources, instance, s3_store, hostile_warehouse_path):
    result = materialize(
        [product_metrics], resources=resources, instance=instance, tags=range_tags(HOSTILE_IDS[0], "never-sold")
    )
    assert result.success
    keys = _inside_prefix(s3_store)
    assert len(keys) == len(HOSTILE_IDS) + 2
    expected = query(hostile_warehouse_path, EXPECTED_SQL).set_index("product_id")
    for product in [*HOSTILE_IDS, "P-001"]:
        stored = from_parquet_bytes(s3_store.get_bytes(f"lake/product_metrics/{partition_file_name(product)}"))
        assert stored["quantity"].tolist() == [expected.loc[product, "quantity"]]
    never = from_parquet_bytes(s3_store.get_bytes("lake/product_metrics/never-sold.parquet"))
    assert never[["revenue", "quantity", "active_days"]].values.tolist() == [[0, 0, 0]]
