"""The customers graph against a real S3 API (moto) and the seeded SQLite warehouse."""

import pandas as pd
import sqlalchemy as sa
from dagster import materialize

from orders_and_sales.defs.customers.assets import customers_medallion, raw_customers
from dagster_platform.io_managers import from_parquet_bytes

ASSETS = [raw_customers, customers_medallion]


def _stored(store, name: str) -> pd.DataFrame:
    return from_parquet_bytes(store.get_bytes(f"lake/{name}.parquet"))


def test_customers_graph_matches_independent_sql(s3_resources, s3_store, warehouse_path):
    result = materialize(ASSETS, resources=s3_resources)
    assert result.success

    engine = sa.create_engine(sa.URL.create("sqlite", database=str(warehouse_path)))
    with engine.connect() as conn:
        total = conn.execute(sa.text("SELECT COUNT(*) FROM customers")).scalar_one()
        expected = pd.read_sql_query(
            sa.text(
                "SELECT segment, COUNT(*) AS customer_count, AVG(lifetime_value) AS mean_lifetime_value "
                "FROM customers WHERE email IS NOT NULL AND TRIM(email) <> '' GROUP BY segment ORDER BY segment"
            ),
            conn,
        )
        with_email = conn.execute(
            sa.text("SELECT COUNT(*) FROM customers WHERE email IS NOT NULL AND TRIM(email) <> ''")
        ).scalar_one()
    engine.dispose()

    bronze, silver, gold = (_stored(s3_store, n) for n in ("customers_bronze", "customers_silver", "customers_gold"))
    assert len(bronze) == total and set(bronze["ingestion_run_id"]) == {result.run_id}
    assert len(silver) == with_email < total  # the generator leaves some emails out
    assert (silver["email"] == silver["email"].str.strip().str.lower()).all()
    assert gold["segment"].tolist() == expected["segment"].tolist()
    assert gold["customer_count"].tolist() == expected["customer_count"].tolist()
    pd.testing.assert_series_equal(
        gold["mean_lifetime_value"], expected["mean_lifetime_value"], check_names=False, atol=0.01
    )

    for name, frame in (("customers_bronze", bronze), ("customers_silver", silver), ("customers_gold", gold)):
        metadata = result.asset_materializations_for_node("customers_medallion")
        by_key = {m.asset_key.to_user_string(): m.metadata for m in metadata}
        assert by_key[name]["dagster/uri"].value == f"s3://{s3_store.bucket}/lake/{name}.parquet"
        assert by_key[name]["dagster/row_count"].value == len(frame)
    assert by_key["customers_silver"]["dropped_rows"].value == total - with_email
