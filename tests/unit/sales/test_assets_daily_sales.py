"""daily_sales and daily_sales_summary materialized for real: moto S3 + SQLite warehouse."""

import pandas as pd
import pytest
from dagster import DagsterInstance, materialize
from dagster import DagsterError

from dagster_platform.io_managers import from_parquet_bytes
from .conftest import DAILY_SALES, DAILY_SALES_SUMMARY, SALES_CHECKS, bound_defs, query, range_tags

DAYS = ["2023-12-29", "2023-12-30", "2023-12-31", "2024-01-01", "2024-01-02"]  # the last two have no sales


def _stored(store, asset: str, day: str) -> pd.DataFrame:
    return from_parquet_bytes(store.get_bytes(f"lake/{asset}/{day}.parquet"))


def test_range_run_writes_one_object_per_day_with_the_right_values(s3_resources, s3_store, warehouse_path):
    result = materialize(
        [DAILY_SALES, DAILY_SALES_SUMMARY, *SALES_CHECKS], resources=s3_resources, tags=range_tags(DAYS[0], DAYS[-1])
    )
    assert result.success
    for asset in ("daily_sales", "daily_sales_summary"):
        keys = [o.key for o in s3_store.list_objects(f"lake/{asset}/")]
        assert keys == [f"lake/{asset}/{day}.parquet" for day in DAYS]
    assert _stored(s3_store, "daily_sales", "2024-01-01").empty
    assert _stored(s3_store, "daily_sales_summary", "2024-01-02").empty

    expected = query(
        warehouse_path,
        "SELECT date, product_id, SUM(revenue) AS revenue, SUM(quantity) AS quantity, COUNT(*) AS sales_count "
        "FROM sales WHERE date >= '2023-12-29' GROUP BY date, product_id ORDER BY date, product_id",
    )
    stored = pd.concat([_stored(s3_store, "daily_sales_summary", day) for day in DAYS], ignore_index=True)
    assert stored["date"].dt.strftime("%Y-%m-%d").tolist() == expected["date"].tolist()
    assert stored["product_id"].tolist() == expected["product_id"].tolist()
    assert stored["quantity"].tolist() == expected["quantity"].tolist()
    assert stored["sales_count"].tolist() == expected["sales_count"].tolist()
    assert stored["revenue"].round(2).tolist() == expected["revenue"].round(2).tolist()

    raw_rows = sum(len(_stored(s3_store, "daily_sales", day)) for day in DAYS)
    assert raw_rows == query(warehouse_path, "SELECT COUNT(*) AS n FROM sales WHERE date >= '2023-12-29'")["n"][0]
    materializations = result.asset_materializations_for_node("daily_sales")
    assert sorted(m.partition for m in materializations) == DAYS
    metadata = materializations[0].metadata
    assert metadata["dagster/uri"].value == f"s3://{s3_store.bucket}/lake/daily_sales/"
    assert metadata["dagster/row_count"].value == raw_rows
    assert all(e.passed for e in result.get_asset_check_evaluations())


def test_one_partition_run(s3_resources, s3_store, warehouse_path):
    result = materialize([DAILY_SALES, DAILY_SALES_SUMMARY], resources=s3_resources, partition_key="2023-05-17")
    assert result.success
    metadata = result.asset_materializations_for_node("daily_sales_summary")[0].metadata
    assert metadata["dagster/uri"].value == f"s3://{s3_store.bucket}/lake/daily_sales_summary/2023-05-17.parquet"
    expected = query(warehouse_path, "SELECT SUM(revenue) AS r, COUNT(*) AS n FROM sales WHERE date = '2023-05-17'")
    stored = _stored(s3_store, "daily_sales_summary", "2023-05-17")
    assert metadata["dagster/row_count"].value == len(stored)
    assert stored["sales_count"].sum() == expected["n"][0]
    assert stored["revenue"].sum() == pytest.approx(expected["r"][0])


def test_a_year_backfill_is_one_run_of_the_job_writing_365_files(local_resources, local_store):
    instance = DagsterInstance.ephemeral()
    job = bound_defs(local_resources).resolve_job_def("daily_sales_job")
    result = job.execute_in_process(instance=instance, tags=range_tags("2023-01-01", "2023-12-31"))
    assert result.success
    assert len(instance.get_runs()) == 1
    for asset in ("daily_sales", "daily_sales_summary"):
        assert len(list(local_store.list_objects(f"lake/{asset}/"))) == 365
    assert {e.check_name for e in result.get_asset_check_evaluations() if e.passed} == {
        c.check_key.name for c in SALES_CHECKS
    }


@pytest.mark.parametrize("hostile", ["'; DROP TABLE sales; --", "a/b/../c", "..", "2023-01-01' OR '1'='1"])
def test_hostile_daily_partition_keys_are_refused_before_any_query(s3_resources, s3_store, warehouse_path, hostile):
    before = query(warehouse_path, "SELECT COUNT(*) AS n FROM sales")["n"][0]
    with pytest.raises(DagsterError):
        materialize([DAILY_SALES], resources=s3_resources, partition_key=hostile)
    assert query(warehouse_path, "SELECT COUNT(*) AS n FROM sales")["n"][0] == before
    assert list(s3_store.list_objects("")) == []
